import AffiliateCore

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

private enum Outcome<Value: Sendable>: Sendable {
    case finished(Value)
    case timedOut
}

/// Runs `operation`, cancelling it after `timeout`. The operation must end promptly once
/// cancelled: the pool drops a pending lease, and the store closes a connection whose query
/// is cut short.
func withDeadline<Value: Sendable>(
    _ timeout: Duration, serverName: String, _ operation: @escaping @Sendable () async throws -> Value
) async throws -> Value {
    try await withThrowingTaskGroup(of: Outcome<Value>.self) { group in
        group.addTask { .finished(try await operation()) }
        group.addTask {
            try await Task.sleep(for: timeout)
            return .timedOut
        }
        defer { group.cancelAll() }
        switch try await group.next() {
        case .finished(let value)?: return value
        case .timedOut?, nil: throw DeadlineExceeded(serverName: serverName, timeout: timeout)
        }
    }
}
