import AffiliateCore
import CoreMetrics
import Foundation
import Metrics
import Prometheus
import Synchronization

/// Everything `GET /metrics` on the admin listener reports, in one Prometheus registry per
/// running host (tests run several hosts in one process and count each one's requests).
///
/// Instruments are swift-metrics types made by a ``PrometheusMetricsFactory`` over that
/// registry; the store gets the same factory. Label values are bounded by the configuration
/// and the dialects' route tables: tenant ids, dialect ids and route templates, never raw
/// paths or anything else a client sends.
public final class HostMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    /// Hands the store and the request path instruments over ``registry``.
    public let factory: PrometheusMetricsFactory

    private let requests: InstrumentCache<RequestSeries, RequestInstruments>
    private let rateLimited: InstrumentCache<String, CoreMetrics.Counter>
    /// One counter per ``ReloadOutcome/result``, made up front: the outcomes are fixed.
    private let reloadOutcomes: [String: CoreMetrics.Counter]
    private let reloadDuration: CoreMetrics.Timer
    private let configInfo = Mutex<(digest: String, gauge: Prometheus.Gauge)?>(nil)
    private let residentMemory: Prometheus.Gauge
    private let openFiles: Prometheus.Gauge

    static let requestDurationName = "affhost_http_request_duration_seconds"

    public init() {
        let registry = PrometheusCollectorRegistry()
        var configured = PrometheusMetricsFactory(registry: registry)
        let fine: [Duration] = [
            .microseconds(250), .microseconds(500), .milliseconds(1), .microseconds(2500), .milliseconds(5),
            .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
            .milliseconds(500), .seconds(1), .microseconds(2_500_000), .seconds(5),
        ]
        configured.defaultDurationHistogramBuckets = fine
        configured.valueHistogramBuckets["affhost_store_writes_per_commit"] = [1, 2, 4, 8, 16, 32, 64, 128, 256]
        let factory = configured
        self.registry = registry
        self.factory = factory
        requests = InstrumentCache { series in RequestInstruments(series, factory: factory) }
        rateLimited = InstrumentCache { tenant in
            CoreMetrics.Counter(label: "affhost_rate_limited_total", dimensions: [("tenant", tenant)], factory: factory)
        }
        reloadOutcomes = Dictionary(uniqueKeysWithValues: ReloadOutcome.results.map { result in
            (result, CoreMetrics.Counter(label: "affhost_reloads_total", dimensions: [("outcome", result)], factory: factory))
        })
        reloadDuration = CoreMetrics.Timer(label: "affhost_reload_duration_seconds", factory: factory)
        residentMemory = registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "process", metricName: "resident_memory", unitName: "bytes", helpText: "Resident memory size in bytes."
            )
        )
        openFiles = registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "process", metricName: "open_fds", unitName: "", helpText: "Number of open file descriptors."
            )
        )
    }

    /// Counts one answered request and records how long it took.
    func record(_ series: RequestSeries, duration: Duration) {
        let instruments = requests[series]
        instruments.count.increment()
        instruments.duration.record(duration: duration)
    }

    func countRateLimited(tenant: String) {
        rateLimited[tenant].increment()
    }

    /// Counts a reload by outcome (`applied`, `unchanged`, `refused`) and times it.
    func recordReload(_ outcome: ReloadOutcome, duration: Duration) {
        reloadOutcomes[outcome.result]?.increment()
        reloadDuration.record(duration: duration)
    }

    /// `affhost_config_info{digest="…"} 1` for the configuration being served; the previous
    /// digest's series goes away so the metric always names exactly one configuration.
    func serving(digest: String) {
        configInfo.withLock { current in
            if current?.digest == digest { return }
            if let old = current?.gauge { registry.unregisterGauge(old) }
            let gauge = registry.makeGauge(
                descriptor: MetricNameDescriptor(
                    namespace: "affhost", metricName: "config", unitName: "info",
                    helpText: "The SHA-256 of the configuration file being served."
                ),
                labels: [("digest", digest)]
            )
            gauge.set(Double(1))
            current = (digest, gauge)
        }
    }

    /// The text `GET /metrics` answers, with the process gauges read now.
    public func exposition() -> [UInt8] {
        let process = ProcessReadings.now()
        if let bytes = process.residentBytes { residentMemory.set(Double(bytes)) }
        if let count = process.openFiles { openFiles.set(Double(count)) }
        return registry.emitToBuffer()
    }
}

/// One request series: who was served, in which dialect, on which route, with which outcome.
struct RequestSeries: Hashable, Sendable {
    /// The tenant id, or `none` before a tenant is known (health checks, failed credentials).
    let tenant: String
    /// The dialect whose routes (or error shapes) answered, or `none` for `/healthz`.
    let dialect: String
    let method: String
    /// The route template (`/api/v1/earnings/:id`), `unmatched` when no route matched.
    let route: String
    /// `2xx` … `5xx`.
    let statusClass: String

    static let none = "none"
    static let unmatched = "unmatched"

    static func statusClass(of code: Int) -> String {
        switch code {
        case ..<200: "1xx"
        case ..<300: "2xx"
        case ..<400: "3xx"
        case ..<500: "4xx"
        default: "5xx"
        }
    }
}

/// A series' request counter and its route's latency histogram (shared by every tenant and
/// outcome of that route: the registry hands out one histogram per label set).
struct RequestInstruments: Sendable {
    let count: CoreMetrics.Counter
    let duration: CoreMetrics.Timer

    init(_ series: RequestSeries, factory: PrometheusMetricsFactory) {
        count = CoreMetrics.Counter(
            label: "affhost_http_requests_total",
            dimensions: [
                ("tenant", series.tenant), ("dialect", series.dialect), ("method", series.method),
                ("route", series.route), ("status_class", series.statusClass),
            ],
            factory: factory
        )
        duration = CoreMetrics.Timer(
            label: HostMetrics.requestDurationName,
            dimensions: [("dialect", series.dialect), ("method", series.method), ("route", series.route)],
            factory: factory
        )
    }
}

/// Instruments made on first use, kept by label values.
///
/// The registry finds an instrument by name and labels under one lock for the whole process;
/// this cache is split into shards by key so that requests of different series never wait for
/// each other, and an instrument is asked of the registry once.
final class InstrumentCache<Key: Hashable & Sendable, Instrument: Sendable>: Sendable {
    private final class Shard: Sendable {
        let entries = Mutex<[Key: Instrument]>([:])
    }
    private let shards: [Shard]
    private let make: @Sendable (Key) -> Instrument

    init(shards count: Int = 16, make: @escaping @Sendable (Key) -> Instrument) {
        shards = (0..<count).map { _ in Shard() }
        self.make = make
    }

    subscript(key: Key) -> Instrument {
        let shard = shards[Int(UInt(bitPattern: key.hashValue) % UInt(shards.count))]
        if let found = shard.entries.withLock({ $0[key] }) { return found }
        let made = make(key)
        return shard.entries.withLock { entries in
            if let found = entries[key] { return found }
            entries[key] = made
            return made
        }
    }
}

/// The process gauges Prometheus client libraries conventionally export, read from `/proc`.
struct ProcessReadings {
    var residentBytes: Int?
    var openFiles: Int?

    static func now() -> ProcessReadings {
        var readings = ProcessReadings()
        // statm: size resident shared text lib data dt, in pages.
        if let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) {
            let fields = statm.split(separator: " ")
            if fields.count > 1, let pages = Int(fields[1]) {
                readings.residentBytes = pages * Int(sysconf(Int32(_SC_PAGESIZE)))
            }
        }
        if let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
            readings.openFiles = entries.count
        }
        return readings
    }
}
