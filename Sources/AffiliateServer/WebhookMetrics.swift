import AffiliateCore
import CoreMetrics
import Metrics
import Prometheus

/// The `affhost_webhook_*` series of webhooks.md §6, over the host's registry. Labels come
/// only from the configuration and the dialects' catalogues: tenant and endpoint ids, event
/// types, fixed outcome words.
final class WebhookMetrics: WebhookCommitObserver {
    private struct EndpointSeries: Hashable {
        let tenant: String
        let endpoint: String
        let word: String
    }

    private let factory: PrometheusMetricsFactory
    private let registry: PrometheusCollectorRegistry
    private let events: InstrumentCache<EndpointSeries, CoreMetrics.Counter>
    private let attempts: InstrumentCache<EndpointSeries, CoreMetrics.Counter>
    private let results: InstrumentCache<EndpointSeries, CoreMetrics.Counter>
    private let attemptDuration: InstrumentCache<EndpointSeries, CoreMetrics.Timer>
    private let deliveryLatency: InstrumentCache<EndpointSeries, CoreMetrics.Timer>
    private let depth: InstrumentCache<EndpointSeries, Prometheus.Gauge>
    private let oldest: InstrumentCache<EndpointSeries, Prometheus.Gauge>
    private let paused: InstrumentCache<EndpointSeries, Prometheus.Gauge>
    let leaseReclaims: CoreMetrics.Counter

    init(_ host: HostMetrics) {
        let factory = host.factory
        let registry = host.registry
        self.factory = factory
        self.registry = registry
        events = InstrumentCache { series in
            CoreMetrics.Counter(
                label: "affhost_webhook_events_total", dimensions: [("tenant", series.tenant), ("type", series.word)],
                factory: factory
            )
        }
        attempts = InstrumentCache { series in
            CoreMetrics.Counter(
                label: "affhost_webhook_attempts_total",
                dimensions: [("tenant", series.tenant), ("endpoint", series.endpoint), ("outcome", series.word)], factory: factory
            )
        }
        results = InstrumentCache { series in
            CoreMetrics.Counter(
                label: "affhost_webhook_deliveries_total",
                dimensions: [("tenant", series.tenant), ("endpoint", series.endpoint), ("result", series.word)], factory: factory
            )
        }
        attemptDuration = InstrumentCache { series in
            CoreMetrics.Timer(
                label: "affhost_webhook_attempt_duration_seconds",
                dimensions: [("tenant", series.tenant), ("endpoint", series.endpoint)], factory: factory
            )
        }
        deliveryLatency = InstrumentCache { series in
            CoreMetrics.Timer(
                label: "affhost_webhook_delivery_latency_seconds",
                dimensions: [("tenant", series.tenant), ("endpoint", series.endpoint)], factory: factory
            )
        }
        depth = InstrumentCache { series in
            registry.makeGauge(
                name: "affhost_webhook_queue_depth",
                labels: [("tenant", series.tenant), ("endpoint", series.endpoint), ("state", series.word)]
            )
        }
        oldest = InstrumentCache { series in
            registry.makeGauge(
                name: "affhost_webhook_oldest_pending_seconds", labels: [("tenant", series.tenant), ("endpoint", series.endpoint)]
            )
        }
        paused = InstrumentCache { series in
            registry.makeGauge(
                name: "affhost_webhook_endpoint_paused", labels: [("tenant", series.tenant), ("endpoint", series.endpoint)]
            )
        }
        leaseReclaims = CoreMetrics.Counter(label: "affhost_webhook_lease_reclaims_total", factory: factory)
    }

    /// Events committed, by tenant and type (the stores report them through their doorbell).
    func committed(tenant: String, type: String) {
        events[EndpointSeries(tenant: tenant, endpoint: "", word: type)].increment()
    }

    func record(delivery: LeasedDelivery, outcome: String, next: WebhookAttemptResult.Next, attempt: WebhookAttempt) {
        let key = delivery.endpoint
        attempts[EndpointSeries(tenant: key.tenant, endpoint: key.endpoint, word: outcome)].increment()
        attemptDuration[EndpointSeries(tenant: key.tenant, endpoint: key.endpoint, word: "")]
            .recordMicroseconds(attempt.durationMicroseconds)
        switch next {
        case .delivered:
            results[EndpointSeries(tenant: key.tenant, endpoint: key.endpoint, word: "delivered")].increment()
            let latency = attempt.at.microseconds + attempt.durationMicroseconds - delivery.committedAt.microseconds
            deliveryLatency[EndpointSeries(tenant: key.tenant, endpoint: key.endpoint, word: "")]
                .recordMicroseconds(max(0, latency))
        case .failed:
            results[EndpointSeries(tenant: key.tenant, endpoint: key.endpoint, word: "failed")].increment()
        case .retry, .paused:
            break
        }
    }

    /// Sets the queue gauges from the store's statistics and pauses, at `now`; endpoints with
    /// nothing queued read zero.
    func update(
        statistics: [WebhookQueueStatistic], paused pausedNow: [WebhookEndpointKey: String],
        endpoints: [WebhookEndpointKey: String], now: Timestamp
    ) {
        for (key, url) in endpoints {
            for state in [WebhookDeliveryState.pending, .retrying] {
                let count = statistics.first { $0.endpoint == key && $0.state == state }?.count ?? 0
                depth[EndpointSeries(tenant: key.tenant, endpoint: key.endpoint, word: state.rawValue)].set(Double(count))
            }
            let oldestTime = statistics.filter { $0.endpoint == key }.compactMap(\.oldest).min()
            let age = oldestTime.map { Double(now.microseconds - $0.microseconds) / 1_000_000 } ?? 0
            oldest[EndpointSeries(tenant: key.tenant, endpoint: key.endpoint, word: "")].set(max(0, age))
            paused[EndpointSeries(tenant: key.tenant, endpoint: key.endpoint, word: "")].set(Double(pausedNow[key] == url ? 1 : 0))
        }
    }
}
