/// The outbox's delivery side, as the delivery worker and the operator's commands use it
/// (webhooks.md §5-6). Both stores implement it over the tables their commits write.
///
/// Every lease and result goes through the database, so nothing lives only in a worker's
/// memory: a restarted or second instance sees exactly what is due.
public protocol WebhookQueue: Sendable {
    /// Leases up to `limit` due deliveries (`pending` or `retrying`, due, lease free or expired)
    /// of the endpoints in `capacity`, at most that many per endpoint, skipping a delivery while an
    /// earlier event of the same record waits for the same endpoint, and those of endpoints
    /// paused at their current URL. Each lease lasts `lease` and carries a fresh token.
    func leaseDeliveries(
        owner: String, capacity: [WebhookEndpointKey: WebhookEndpointCapacity], limit: Int, lease: Duration
    ) async throws -> [LeasedDelivery]

    /// Stores an attempt's result, only if `delivery` still holds the lease (`token`) and is not
    /// finished; returns whether it did. A 410 also pauses the endpoint at `url`.
    @discardableResult
    func finish(_ delivery: LeasedDelivery, result: WebhookAttemptResult) async throws -> Bool

    /// Frees every lease `owner` holds (a store that only one server opens clears all at start).
    func releaseLeases(owner: String?) async throws

    /// Cancels the `pending` and `retrying` deliveries of every endpoint not in `keeping`
    /// (removed from the config); returns how many. Idempotent, so every instance may run it.
    @discardableResult
    func cancelDeliveries(keeping: Set<WebhookEndpointKey>) async throws -> Int

    /// Clears a 410 pause; returns whether one was set.
    @discardableResult
    func resume(_ endpoint: WebhookEndpointKey) async throws -> Bool

    /// Endpoints paused by a 410, with the URL that answered it.
    func pausedEndpoints() async throws -> [WebhookEndpointKey: String]

    func deliveries(matching filter: WebhookDeliveryFilter) async throws -> [WebhookDeliverySummary]
    func delivery(id: Int64) async throws -> WebhookDeliveryDetail?

    /// Makes deliveries due now with a fresh schedule (`attempts` keeps counting); returns the
    /// ids it changed. Only deliveries whose endpoint is in `existing` are retried.
    func retry(ids: [Int64], existing: Set<WebhookEndpointKey>) async throws -> [Int64]
    /// Retries the deliveries of events committed in the window (only `failed` and `cancelled`
    /// ones unless `window.all`); returns how many.
    func replay(_ window: WebhookReplayWindow, existing: Set<WebhookEndpointKey>) async throws -> Int

    /// Wakes the delivery worker when a commit queued deliveries, so it need not wait for its
    /// next poll.
    var webhookCommits: WebhookCommitSignal { get }

    /// Queue depth and oldest due delivery per endpoint and state, for metrics.
    func queueStatistics() async throws -> [WebhookQueueStatistic]

    /// Deletes finished deliveries (`delivered`, `failed`, `cancelled`) older than `before`, their
    /// attempts, and events left without deliveries; returns how many deliveries.
    @discardableResult
    func purgeFinishedDeliveries(before: Timestamp) async throws -> Int
}

public struct WebhookEndpointKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var tenant: String
    public var endpoint: String
    public init(tenant: String, endpoint: String) {
        self.tenant = tenant
        self.endpoint = endpoint
    }
    public var description: String { tenant + "/" + endpoint }
    public static func < (lhs: Self, rhs: Self) -> Bool { (lhs.tenant, lhs.endpoint) < (rhs.tenant, rhs.endpoint) }
}

/// What a worker may lease for one endpoint now.
public struct WebhookEndpointCapacity: Sendable, Hashable {
    /// Its current URL: a pause recorded for another URL no longer holds (webhooks.md §5.6).
    public var url: String
    /// Free attempt slots.
    public var slots: Int
    public init(url: String, slots: Int) {
        self.url = url
        self.slots = slots
    }
}

/// The states of webhooks.md §5.2.
public enum WebhookDeliveryState: String, Sendable, Hashable, CaseIterable {
    case pending, retrying, delivered, failed, cancelled

    public var isFinished: Bool { self == .delivered || self == .failed || self == .cancelled }
}

public struct LeasedDelivery: Sendable, Hashable {
    public var id: Int64
    public var token: String
    public var endpoint: WebhookEndpointKey
    public var eventID: String
    public var eventType: String
    public var body: [UInt8]
    /// Attempts made before this one.
    public var attempts: Int
    /// Attempts made since the schedule last started (an operator's retry starts it anew):
    /// which delay of the retry schedule comes next.
    public var scheduledAttempts: Int
    /// Commit time of the event (delivery latency is measured from it).
    public var committedAt: Timestamp
    /// The lease was taken over from an instance whose lease expired.
    public var reclaimed: Bool

    public init(
        id: Int64, token: String, endpoint: WebhookEndpointKey, eventID: String, eventType: String, body: [UInt8],
        attempts: Int, scheduledAttempts: Int, committedAt: Timestamp, reclaimed: Bool
    ) {
        self.scheduledAttempts = scheduledAttempts
        self.id = id
        self.token = token
        self.endpoint = endpoint
        self.eventID = eventID
        self.eventType = eventType
        self.body = body
        self.attempts = attempts
        self.committedAt = committedAt
        self.reclaimed = reclaimed
    }
}

/// One request to a receiver, as stored.
public struct WebhookAttempt: Sendable, Hashable {
    public var at: Timestamp
    public var durationMicroseconds: Int64
    /// The HTTP status, when one came back.
    public var responseCode: Int?
    /// Timeout, connection or TLS failure, redirect refused.
    public var error: String?
    /// At most ``maximumStoredBody`` bytes of the answer, as text.
    public var responseBody: String?

    public static let maximumStoredBody = 1_000

    public init(at: Timestamp, durationMicroseconds: Int64, responseCode: Int?, error: String?, responseBody: String?) {
        self.at = at
        self.durationMicroseconds = durationMicroseconds
        self.responseCode = responseCode
        self.error = error
        self.responseBody = responseBody.map(Self.stored)
    }

    /// The text cut to ``maximumStoredBody`` bytes at a character boundary: a cut inside a
    /// multi-byte character would be decoded as U+FFFD, three bytes, past the limit.
    static func stored(_ text: String) -> String {
        let bytes = Array(text.utf8)
        guard bytes.count > maximumStoredBody else { return text }
        var end = maximumStoredBody
        while end > 0, bytes[end] & 0xC0 == 0x80 { end -= 1 }
        return String(decoding: bytes[..<end], as: UTF8.self)
    }
}

/// What an attempt leads to (webhooks.md §5.2).
public struct WebhookAttemptResult: Sendable, Hashable {
    public enum Next: Sendable, Hashable {
        case delivered
        case retry(at: Timestamp)
        /// The schedule is used up.
        case failed
        /// 410: the endpoint is paused at `url`; the delivery waits, due at once when resumed.
        case paused(url: String)
    }

    public var attempt: WebhookAttempt
    public var next: Next

    public init(attempt: WebhookAttempt, next: Next) {
        self.attempt = attempt
        self.next = next
    }
}

public struct WebhookDeliveryFilter: Sendable, Hashable {
    public var tenant: String?
    public var endpoint: String?
    public var state: WebhookDeliveryState?
    public var since: Timestamp?
    public var until: Timestamp?
    /// Only deliveries with a smaller id (the previous page's last), newest first.
    public var before: Int64?
    public var limit: Int

    public static let maximumLimit = 500

    public init(
        tenant: String? = nil, endpoint: String? = nil, state: WebhookDeliveryState? = nil, since: Timestamp? = nil,
        until: Timestamp? = nil, before: Int64? = nil, limit: Int = 100
    ) {
        self.tenant = tenant
        self.endpoint = endpoint
        self.state = state
        self.since = since
        self.until = until
        self.before = before
        self.limit = limit
    }
}

/// One row of the operator's listing (webhooks.md §6).
public struct WebhookDeliverySummary: Sendable, Hashable {
    public var id: Int64
    public var endpoint: WebhookEndpointKey
    public var eventID: String
    public var eventType: String
    public var resource: String
    public var recordID: String
    public var state: WebhookDeliveryState
    public var attempts: Int
    public var nextAttemptAt: Timestamp?
    public var lastAttemptAt: Timestamp?
    public var responseCode: Int?
    public var lastError: String?
    public var createdAt: Timestamp
    public var deliveredAt: Timestamp?

    public init(
        id: Int64, endpoint: WebhookEndpointKey, eventID: String, eventType: String, resource: String, recordID: String,
        state: WebhookDeliveryState, attempts: Int, nextAttemptAt: Timestamp?, lastAttemptAt: Timestamp?,
        responseCode: Int?, lastError: String?, createdAt: Timestamp, deliveredAt: Timestamp?
    ) {
        self.id = id
        self.endpoint = endpoint
        self.eventID = eventID
        self.eventType = eventType
        self.resource = resource
        self.recordID = recordID
        self.state = state
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.lastAttemptAt = lastAttemptAt
        self.responseCode = responseCode
        self.lastError = lastError
        self.createdAt = createdAt
        self.deliveredAt = deliveredAt
    }
}

/// A delivery with its attempts and the body it sends.
public struct WebhookDeliveryDetail: Sendable, Hashable {
    public var summary: WebhookDeliverySummary
    public var responseBody: String?
    public var previousStatus: String?
    public var attempts: [WebhookAttempt]
    public var body: [UInt8]

    public init(
        summary: WebhookDeliverySummary, responseBody: String?, previousStatus: String?, attempts: [WebhookAttempt],
        body: [UInt8]
    ) {
        self.summary = summary
        self.responseBody = responseBody
        self.previousStatus = previousStatus
        self.attempts = attempts
        self.body = body
    }
}

public struct WebhookReplayWindow: Sendable, Hashable {
    public var since: Timestamp
    public var until: Timestamp?
    public var tenant: String?
    public var endpoint: String?
    /// Also retry deliveries that are delivered or still queued.
    public var all: Bool

    public init(since: Timestamp, until: Timestamp? = nil, tenant: String? = nil, endpoint: String? = nil, all: Bool = false) {
        self.since = since
        self.until = until
        self.tenant = tenant
        self.endpoint = endpoint
        self.all = all
    }
}

public struct WebhookQueueStatistic: Sendable, Hashable {
    public var endpoint: WebhookEndpointKey
    public var state: WebhookDeliveryState
    public var count: Int
    /// Commit time of the oldest such delivery.
    public var oldest: Timestamp?

    public init(endpoint: WebhookEndpointKey, state: WebhookDeliveryState, count: Int, oldest: Timestamp?) {
        self.endpoint = endpoint
        self.state = state
        self.count = count
        self.oldest = oldest
    }
}
