import AffiliateCore
import Synchronization

/// Per-key fixed-window request counting for tenants that declare `rate_limit`.
///
/// Fixed windows keep the state to two integers per key and make `X-RateLimit-Reset` an exact
/// promise; the burst at a window edge is bounded by twice the limit, which is what the
/// vendors' own limits allow too.
final class RateLimiter: Sendable {
    private struct Window {
        var start: Int64
        var count: Int
    }

    private let windows = Mutex<[String: Window]>([:])

    /// Counts one request of `key` and returns the state after it; `remaining < 0` means refused.
    func count(key: String, limit: RateLimit, now: Timestamp) -> (allowed: Bool, state: RateLimitState) {
        let nowSeconds = now.secondsSinceEpoch
        let length = Int64(limit.windowSeconds)
        let windowStart = nowSeconds - nowSeconds % length
        let count = windows.withLock { windows -> Int in
            var window = windows[key] ?? Window(start: windowStart, count: 0)
            if window.start != windowStart { window = Window(start: windowStart, count: 0) }
            window.count += 1
            windows[key] = window
            if windows.count > 100_000 { windows = windows.filter { $0.value.start == windowStart } }
            return window.count
        }
        let resetAt = windowStart + length
        let state = RateLimitState(
            limit: limit.requests, remaining: max(0, limit.requests - count), resetAt: resetAt,
            retryAfterSeconds: max(1, Int(resetAt - nowSeconds))
        )
        return (count <= limit.requests, state)
    }
}
