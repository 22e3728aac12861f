import AffiliateCore
import Logging
import PostgresNIO
import Synchronization

/// The store's connection pool, replaced by a fresh one once postgres-nio's pool has given up.
///
/// After a minute without a connection, postgres-nio's pool opens its circuit breaker: calls
/// fail at once (good while the database is down) but it retries with a backoff that grows to a
/// minute, so affhost could go on answering 503 for a minute after the database is back. Once
/// that happens, this probes the server every second with a single connection and, as soon as
/// one logs in, swaps in a new pool.
final class ReconnectingClient: Sendable {
    private struct State {
        var client: PostgresClient
        var running: Task<Void, Never>
        var probe: Task<Void, Never>?
        var closed = false
    }

    private let location: PostgresLocation
    private let maximumConnections: Int
    private let logger: Logger
    private let state: Mutex<State>

    init(location: PostgresLocation, maximumConnections: Int, logger: Logger) {
        self.location = location
        self.maximumConnections = maximumConnections
        self.logger = logger
        let (client, running) = Self.start(location, maximumConnections: maximumConnections, logger: logger)
        state = Mutex(State(client: client, running: running))
    }

    private static func start(
        _ location: PostgresLocation, maximumConnections: Int, logger: Logger
    ) -> (PostgresClient, Task<Void, Never>) {
        let client = PostgresClient(
            configuration: location.clientConfiguration(maximumConnections: maximumConnections),
            backgroundLogger: logger
        )
        return (client, Task { await client.run() })
    }

    var current: PostgresClient { state.withLock { $0.client } }

    /// Called with every failed call's error; starts the probe when the pool has given up.
    func noticeFailure(_ error: any Error) {
        guard Self.poolGaveUp(error) else { return }
        state.withLock { state in
            guard !state.closed, state.probe == nil else { return }
            state.probe = Task { [self] in await probeUntilReachable() }
        }
    }

    private func probeUntilReachable() async {
        logger.warning("PostgreSQL is unreachable; probing it every second", metadata: ["database": "\(location.redacted)"])
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: .seconds(1))
                let connection = try await PostgresConnection.connect(
                    configuration: location.connectionConfiguration(), id: 0, logger: logger
                )
                try? await connection.close()
                break
            } catch {
                continue
            }
        }
        guard !Task.isCancelled else { return }
        let (client, running) = Self.start(location, maximumConnections: maximumConnections, logger: logger)
        let retired: Task<Void, Never>? = state.withLock { state in
            state.probe = nil
            guard !state.closed else { return nil }
            let old = state.running
            state.client = client
            state.running = running
            return old
        }
        guard let retired else {
            running.cancel()
            return
        }
        // The old pool has no connection left (that is when it gives up), so nothing is cut off.
        retired.cancel()
        await retired.value
        logger.info("PostgreSQL is reachable again; new connection pool", metadata: ["database": "\(location.redacted)"])
    }

    func close() async {
        let (running, probe) = state.withLock { state in
            state.closed = true
            return (state.running, state.probe)
        }
        probe?.cancel()
        await probe?.value
        running.cancel()
        await running.value
    }

    /// postgres-nio's pool reports giving up with an error type from a module outside its public
    /// API, so its text is all there is to recognise it by.
    static func poolGaveUp(_ error: any Error) -> Bool {
        "\(type(of: error))" == "ConnectionPoolError"
            && String(reflecting: error).contains("connectionCreationCircuitBreakerTripped")
    }
}
