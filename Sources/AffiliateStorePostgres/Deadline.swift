import AffiliateCore
import Synchronization

/// A store call that did not finish in time: the database is gone or stuck, and the engine
/// answers 503 now rather than holding the client until TCP gives up.
struct DeadlineExceeded: Error, Sendable, CustomStringConvertible {
    let serverName: String
    let timeout: Duration
    var description: String {
        "PostgreSQL at \(serverName) did not answer within \(timeout.formattedSeconds)"
    }
}

extension Duration {
    /// `5 s`, `0.5 s`
    var formattedSeconds: String {
        let milliseconds = components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
        return milliseconds % 1000 == 0 ? "\(milliseconds / 1000) s" : "\(Double(milliseconds) / 1000) s"
    }
}

/// Runs `operation`, cancelling it after `timeout`, and answers at the deadline whether or not
/// the operation has ended by then.
///
/// A task group would wait for its cancelled child before returning, and a call waiting for a
/// connection from a pool that has given up (a PostgreSQL server down for over a minute) did
/// not always end when cancelled: the caller, and once a test run, hung for good. So the
/// operation runs in a task of its own; when the deadline passes it is cancelled and left to
/// end on its own while the caller gets ``DeadlineExceeded`` at once.
func withDeadline<Value: Sendable>(
    _ timeout: Duration, serverName: String, _ operation: @escaping @Sendable () async throws -> Value
) async throws -> Value {
    let answer = DeadlineAnswer<Value>()
    let work = Task { try await operation() }
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Value, Error>) in
            answer.wait(with: continuation)
            let timer = Task {
                do { try await Task.sleep(for: timeout) } catch { return }
                // The answer first: cancelled first, the work could end with its own
                // CancellationError and be given before the deadline's failure.
                answer.give(.failure(DeadlineExceeded(serverName: serverName, timeout: timeout)))
                work.cancel()
            }
            Task {
                let result = await work.result
                timer.cancel()
                answer.give(result)
            }
        }
    } onCancel: {
        work.cancel()
    }
}

/// The first of the operation's result and the deadline, given to the waiting caller once.
private final class DeadlineAnswer<Value: Sendable>: Sendable {
    private let state = Mutex<(continuation: CheckedContinuation<Value, Error>?, given: Bool)>((nil, false))

    func wait(with continuation: CheckedContinuation<Value, Error>) {
        state.withLock { $0.continuation = continuation }
    }

    func give(_ result: Result<Value, Error>) {
        let waiting = state.withLock { state -> CheckedContinuation<Value, Error>? in
            guard !state.given else { return nil }
            state.given = true
            return state.continuation
        }
        waiting?.resume(with: result)
    }
}
