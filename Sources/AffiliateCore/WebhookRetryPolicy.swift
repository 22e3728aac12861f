/// What an attempt's answer means for its delivery (webhooks.md §5.2-5.3), apart from any
/// HTTP library: the worker reports what came back, this decides what happens next.
public struct WebhookRetryPolicy: Sendable {
    public var schedule: [Duration]
    /// The longest `Retry-After` honoured.
    public static let maximumRetryAfter = Duration.seconds(24 * 3600)
    /// Each delay is multiplied by a uniform random factor in this range, so receivers that
    /// recover are not hit by every queued delivery at once.
    public static let jitter = 0.9...1.1

    public init(schedule: [Duration]) { self.schedule = schedule }

    /// The outcome label for `affhost_webhook_attempts_total` and the decision itself.
    public func next(
        after response: WebhookResponse, at now: Timestamp, scheduledAttempts: Int, url: String
    ) -> (outcome: String, next: WebhookAttemptResult.Next) {
        switch response {
        case .status(let code, let retryAfter):
            switch code {
            case 200...299: return ("success", .delivered)
            case 410: return ("gone", .paused(url: url))
            case 429, 503:
                let outcome = code == 429 ? "rate_limited" : "server_error"
                return (outcome, retry(at: now, scheduledAttempts: scheduledAttempts, atLeast: retryAfter))
            case 300...399: return ("redirect", retry(at: now, scheduledAttempts: scheduledAttempts))
            case 400...499: return ("client_error", retry(at: now, scheduledAttempts: scheduledAttempts))
            default: return ("server_error", retry(at: now, scheduledAttempts: scheduledAttempts))
            }
        case .timeout: return ("timeout", retry(at: now, scheduledAttempts: scheduledAttempts))
        case .networkError: return ("network_error", retry(at: now, scheduledAttempts: scheduledAttempts))
        }
    }

    /// The schedule's next delay, jittered (at least `atLeast`, capped at a day), or `failed`
    /// when the schedule is used up: `scheduledAttempts` attempts were made before this one.
    func retry(at now: Timestamp, scheduledAttempts: Int, atLeast: Duration? = nil) -> WebhookAttemptResult.Next {
        guard scheduledAttempts < schedule.count else { return .failed }
        var delay = schedule[scheduledAttempts] * Double.random(in: Self.jitter)
        if let atLeast { delay = max(delay, min(atLeast, Self.maximumRetryAfter)) }
        return .retry(at: now.adding(delay))
    }
}

/// How an attempt ended, as far as the schedule cares.
public enum WebhookResponse: Sendable, Hashable {
    /// An HTTP answer, with its `Retry-After` when it carried a usable one.
    case status(Int, retryAfter: Duration?)
    case timeout
    /// DNS, connect, TLS, reset.
    case networkError
}
