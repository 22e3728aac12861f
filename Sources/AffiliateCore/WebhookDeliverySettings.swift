/// `webhook_delivery:`: how the host delivers every tenant's webhooks (webhooks.md §2, §5).
///
/// The defaults are the spec's: Standard Webhooks' multi-day schedule, ten attempts in all,
/// the last about 75 hours after the commit.
public struct WebhookDeliverySettings: Sendable, Hashable {
    /// The delays between attempts after the first (which is made at commit); each is jittered
    /// by the worker. When they are used up a delivery is `failed`.
    public var retrySchedule: [Duration]
    /// Attempts in flight per endpoint, per instance.
    public var maxInFlightPerEndpoint: Int
    /// Attempts in flight in all, per instance.
    public var maxInFlight: Int
    /// How often a worker looks for due deliveries when no commit woke it (deliveries another
    /// instance queued, retries falling due).
    public var pollInterval: Duration
    /// How long finished deliveries are kept.
    public var retention: Duration

    public static let defaultRetrySchedule: [Duration] = [
        .seconds(5), .seconds(5 * 60), .seconds(30 * 60), .seconds(2 * 3600), .seconds(5 * 3600),
        .seconds(10 * 3600), .seconds(14 * 3600), .seconds(20 * 3600), .seconds(24 * 3600),
    ]
    /// Entries a schedule may have.
    public static let retryScheduleLength = 1...20
    /// The shortest delay between attempts (tests use short schedules; nothing shorter is useful).
    public static let minimumRetryDelay = Duration.milliseconds(100)

    public init(
        retrySchedule: [Duration] = defaultRetrySchedule, maxInFlightPerEndpoint: Int = 4, maxInFlight: Int = 64,
        pollInterval: Duration = .seconds(1), retention: Duration = .seconds(30 * 86_400)
    ) {
        self.retrySchedule = retrySchedule
        self.maxInFlightPerEndpoint = maxInFlightPerEndpoint
        self.maxInFlight = maxInFlight
        self.pollInterval = pollInterval
        self.retention = retention
    }
}
