import AffiliateCore
import AsyncHTTPClient
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Sends queued webhook deliveries (webhooks.md §5) for as long as `serve` runs.
///
/// Everything it knows is in the store: it leases what is due, sends each attempt in a child
/// task, and stores the result under the lease's token. A commit that queues deliveries rings
/// ``WebhookQueue/webhookCommits`` so they go out at once; otherwise it looks every
/// `poll_interval` (retries falling due, deliveries another instance queued). Shutdown stops
/// leasing, then waits for the attempts in flight.
struct WebhookDeliveryWorker: Service {
    let queue: any WebhookQueue
    let snapshots: SnapshotCell
    let metrics: WebhookMetrics?
    let logger: Logger
    /// This instance in `lease_owner`.
    let owner: String

    /// A lease outlives its attempt's timeout by this much (webhooks.md §5.5).
    static let leaseMargin = Duration.seconds(30)
    /// How often finished deliveries past their retention are deleted and queue gauges read.
    static let housekeepingInterval = Duration.seconds(60)

    func run() async throws {
        let client = WebhookSender.makeClient()
        await deliver(with: WebhookSender(client: client, userAgent: "affhost/\(Self.version)"))
        try await client.shutdown()
    }

    /// The `User-Agent` version.
    static let version = "2"
    /// How often the queue gauges are read from the store.
    static let gaugeInterval = Duration.seconds(5)

    private func deliver(with sender: WebhookSender) async {
        let stopping = Mutex(false)
        let signal = queue.webhookCommits
        let slots = InFlight()
        // A store opened by one server only: leases a previous run left are void.
        do {
            try await queue.releaseLeases(owner: nil)
            try await cancelRemovedEndpoints()
        } catch {
            logger.error("webhook queue unavailable at start", metadata: ["error": "\(error)"])
        }
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                var lastHousekeeping = ContinuousClock.now - Self.housekeepingInterval
                var lastGauges = ContinuousClock.now - Self.gaugeInterval
                while !stopping.withLock({ $0 }) {
                    let config = snapshots.snapshot.config
                    let settings = config.webhookDelivery
                    let endpoints = config.enabledWebhookEndpoints
                    if ContinuousClock.now - lastHousekeeping >= Self.housekeepingInterval {
                        lastHousekeeping = ContinuousClock.now
                        await housekeeping(retention: settings.retention)
                    }
                    if let metrics, ContinuousClock.now - lastGauges >= Self.gaugeInterval {
                        lastGauges = ContinuousClock.now
                        await updateGauges(metrics, endpoints: endpoints)
                    }
                    let (capacity, limit) = slots.capacity(endpoints: endpoints, settings: settings)
                    var leased: [LeasedDelivery] = []
                    if limit > 0, !capacity.isEmpty {
                        let longest = endpoints.values.map(\.timeout).max() ?? WebhookEndpoint.defaultTimeout
                        do {
                            leased = try await queue.leaseDeliveries(
                                owner: owner, capacity: capacity, limit: limit, lease: longest + Self.leaseMargin
                            )
                        } catch {
                            logger.warning("webhook lease failed", metadata: ["error": "\(error)"])
                        }
                    }
                    let policy = WebhookRetryPolicy(schedule: settings.retrySchedule)
                    for delivery in leased {
                        guard let endpoint = endpoints[delivery.endpoint] else { continue }
                        if delivery.reclaimed { metrics?.leaseReclaims.increment() }
                        slots.start(delivery.endpoint)
                        group.addTask {
                            await attempt(delivery, endpoint: endpoint, policy: policy, sender: sender) {
                                // The slot limits requests to the receiver, so it is free once
                                // the answer is in, not once the store has it (the lease keeps the
                                // delivery from being sent again meanwhile): look again at once.
                                slots.finish(delivery.endpoint)
                                signal.ring()
                            }
                        }
                    }
                    if leased.count < limit || limit == 0 {
                        await signal.wait(timeout: settings.pollInterval)
                    }
                }
            }
        } onGracefulShutdown: {
            stopping.withLock { $0 = true }
            signal.ring()
        }
    }

    /// One attempt, its result stored and counted. Never throws: a store failure here leaves
    /// the lease to expire, and the delivery is tried again.
    private func attempt(
        _ delivery: LeasedDelivery, endpoint: WebhookEndpoint, policy: WebhookRetryPolicy, sender: WebhookSender,
        answered: () -> Void
    ) async {
        let (response, attempt) = await sender.send(delivery, to: endpoint)
        answered()
        let (outcome, next) = policy.next(
            after: response, at: .now(), scheduledAttempts: delivery.scheduledAttempts, url: endpoint.url
        )
        let result = WebhookAttemptResult(attempt: attempt, next: next)
        do {
            let stored = try await queue.finish(delivery, result: result)
            if !stored {
                logger.info(
                    "webhook result not stored: lease lost",
                    metadata: ["delivery": "\(delivery.id)", "endpoint": "\(delivery.endpoint)"]
                )
            }
        } catch {
            logger.warning("webhook result not stored", metadata: ["delivery": "\(delivery.id)", "error": "\(error)"])
        }
        metrics?.record(delivery: delivery, outcome: outcome, next: next, attempt: attempt)
        if case .paused = next {
            logger.warning("webhook endpoint paused by 410", metadata: ["endpoint": "\(delivery.endpoint)"])
        }
    }

    /// Deletes deliveries past retention and refreshes the queue gauges.
    private func housekeeping(retention: Duration) async {
        do {
            let cutoff = Timestamp(microseconds: Timestamp.now().microseconds - retention.wholeMicroseconds)
            try await queue.purgeFinishedDeliveries(before: cutoff)
        } catch {
            logger.warning("webhook housekeeping failed", metadata: ["error": "\(error)"])
        }
    }

    private func updateGauges(_ metrics: WebhookMetrics, endpoints: [WebhookEndpointKey: WebhookEndpoint]) async {
        do {
            let statistics = try await queue.queueStatistics()
            let paused = try await queue.pausedEndpoints()
            metrics.update(statistics: statistics, paused: paused, endpoints: endpoints.mapValues(\.url), now: .now())
        } catch {
            logger.warning("webhook queue statistics unavailable", metadata: ["error": "\(error)"])
        }
    }

    /// Cancels the queues of endpoints the served configuration no longer has.
    func cancelRemovedEndpoints() async throws {
        let config = snapshots.snapshot.config
        let cancelled = try await queue.cancelDeliveries(keeping: config.webhookEndpointKeys)
        if cancelled > 0 { logger.info("webhook deliveries cancelled", metadata: ["count": "\(cancelled)"]) }
    }

    /// `lease_owner`: host, process and a random part, so two runs never share one.
    static func instanceName() -> String {
        "\(ProcessInfo.processInfo.hostName):\(getpid()):\(UUID().uuidString.prefix(8))"
    }
}

/// Attempts in flight on this instance, per endpoint and in all.
final class InFlight: Sendable {
    private let counts = Mutex<(total: Int, perEndpoint: [WebhookEndpointKey: Int])>((0, [:]))

    func start(_ key: WebhookEndpointKey) {
        counts.withLock { counts in
            counts.total += 1
            counts.perEndpoint[key, default: 0] += 1
        }
    }

    func finish(_ key: WebhookEndpointKey) {
        counts.withLock { counts in
            counts.total -= 1
            counts.perEndpoint[key, default: 1] -= 1
        }
    }

    /// Free slots per endpoint, and how many attempts may start in all.
    func capacity(
        endpoints: [WebhookEndpointKey: WebhookEndpoint], settings: WebhookDeliverySettings
    ) -> ([WebhookEndpointKey: WebhookEndpointCapacity], Int) {
        counts.withLock { counts in
            var capacity: [WebhookEndpointKey: WebhookEndpointCapacity] = [:]
            for (key, endpoint) in endpoints {
                let free = settings.maxInFlightPerEndpoint - counts.perEndpoint[key, default: 0]
                if free > 0 { capacity[key] = WebhookEndpointCapacity(url: endpoint.url, slots: free) }
            }
            return (capacity, max(0, settings.maxInFlight - counts.total))
        }
    }
}
