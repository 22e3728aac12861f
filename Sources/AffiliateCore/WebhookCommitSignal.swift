import Synchronization

/// A doorbell from the commits that queue deliveries to the worker that sends them.
///
/// Rings coalesce: however many commits ring while the worker is busy, it wakes once and then
/// leases everything due, so a burst of writes costs the worker one pass, not one per write.
/// A ring with nobody waiting is kept for the next wait, so none is lost.
public final class WebhookCommitSignal: Sendable {
    private struct State {
        var pending = false
        var waiter: (number: UInt64, continuation: CheckedContinuation<Void, Never>)?
        var waits: UInt64 = 0
        /// The timer of the current wait, cancelled by a ring so that no sleeping task outlives
        /// the wait it served (a busy worker waits thousands of times a second).
        var timer: Task<Void, Never>?
    }

    private let state = Mutex(State())
    /// Held as an object: a closure kept in a `Mutex` is re-wrapped in a reabstraction thunk
    /// each time it is stored or read through the generic lock, and calling it then ran a chain
    /// of thunks (34% of a loaded server's CPU in a profile).
    private let observer = Mutex<(any WebhookCommitObserver)?>(nil)

    public init() {}

    /// Counts committed events somewhere (the host's metrics); one observer.
    public func observe(_ observer: any WebhookCommitObserver) {
        self.observer.withLock { $0 = observer }
    }

    /// A commit queued these events: report them and ring.
    public func committed(_ drafts: [WebhookEventDraft]) {
        guard !drafts.isEmpty else { return }
        if let observer = observer.withLock({ $0 }) {
            for draft in drafts { observer.committed(tenant: draft.tenant, type: draft.type) }
        }
        ring()
    }

    public func ring() {
        let (waiter, timer) = state.withLock { state -> (CheckedContinuation<Void, Never>?, Task<Void, Never>?) in
            guard let waiter = state.waiter else {
                state.pending = true
                return (nil, nil)
            }
            state.waiter = nil
            defer { state.timer = nil }
            return (waiter.continuation, state.timer)
        }
        timer?.cancel()
        waiter?.resume()
    }

    /// Returns at the next ring (at once if one came since the last wait) or after `timeout`.
    /// One waiter at a time.
    public func wait(timeout: Duration) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let number = state.withLock { state -> UInt64? in
                if state.pending {
                    state.pending = false
                    return nil
                }
                state.waits += 1
                state.waiter = (state.waits, continuation)
                return state.waits
            }
            guard let number else { return continuation.resume() }
            let timer = Task {
                try? await Task.sleep(for: timeout)
                let expired = self.state.withLock { state -> CheckedContinuation<Void, Never>? in
                    guard let waiter = state.waiter, waiter.number == number else { return nil }
                    state.waiter = nil
                    state.timer = nil
                    return waiter.continuation
                }
                expired?.resume()
            }
            let rungMeanwhile = state.withLock { state -> Bool in
                guard state.waiter?.number == number else { return true }
                state.timer = timer
                return false
            }
            if rungMeanwhile { timer.cancel() }
        }
    }
}

/// Hears every committed webhook event (the host counts them by tenant and type).
public protocol WebhookCommitObserver: Sendable {
    func committed(tenant: String, type: String)
}
