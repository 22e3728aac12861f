import AffiliateCore
import Synchronization

/// Per-key fixed-window request counting for tenants that declare `rate_limit`.
///
/// A key's window opens with its first request and lasts the configured length, so a client
/// always gets its whole allowance, whatever second of the clock it starts at. Two integers per
/// key keep it cheap and make `X-RateLimit-Reset` an exact promise; the burst across a window
/// edge is bounded by twice the limit, as the vendors' own limits allow.
final class RateLimiter: Sendable {
    private struct Window {
        var start: Int64
        var count: Int
    }

    private let windows = Mutex<[String: Window]>([:])

    /// Counts one request of `key`; `allowed` is false once the window's allowance is spent.
    func count(key: String, limit: RateLimit, now: Timestamp) -> (allowed: Bool, state: RateLimitState) {
        let nowSeconds = now.secondsSinceEpoch
        let length = Int64(limit.windowSeconds)
        let window = windows.withLock { windows -> Window in
            var window = windows[key] ?? Window(start: nowSeconds, count: 0)
            if nowSeconds >= window.start + length { window = Window(start: nowSeconds, count: 0) }
            window.count += 1
            windows[key] = window
            if windows.count > 100_000 { windows = windows.filter { nowSeconds < $0.value.start + length } }
            return window
        }
        let count = window.count
        let resetAt = window.start + length
        let state = RateLimitState(
            limit: limit.requests, remaining: max(0, limit.requests - count), resetAt: resetAt,
            retryAfterSeconds: max(1, Int(resetAt - nowSeconds))
        )
        return (count <= limit.requests, state)
    }
}
