import AffiliateCore
import Logging
import Metrics
import PostgresNIO

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The store for several affhost instances sharing one PostgreSQL database.
///
/// Every guarantee the ``Store`` protocol makes holds across instances because the database
/// enforces it: record versions are compared in the `UPDATE`'s `WHERE`, unique claims and
/// idempotency keys are primary keys written with `ON CONFLICT`, and sequences are raised by one
/// upsert. Nothing is read first and then written, so two instances cannot both win.
public final class PostgresStore: Store {
    /// Tuning that the URL does not carry.
    public struct Options: Sendable {
        /// How long one store call may take, waiting for a connection included, before it fails
        /// (and the engine answers 503). Bounds the wait when the database is gone.
        public var operationTimeout: Duration
        /// Connections this instance may open; each instance of a fleet has its own pool.
        public var maximumConnections: Int
        /// Where `AFFHOST_DATABASE_PASSWORD` is looked up.
        public var environment: [String: String]
        /// Where pool waits, failures and commit times are reported.
        public var instruments: StoreInstruments

        public init(
            operationTimeout: Duration = .seconds(5), maximumConnections: Int = 10,
            environment: [String: String] = ProcessInfo.processInfo.environment,
            instruments: StoreInstruments = .none(store: "postgres")
        ) {
            self.operationTimeout = operationTimeout
            self.maximumConnections = maximumConnections
            self.environment = environment
            self.instruments = instruments
        }
    }

    public let description: String
    let location: PostgresLocation
    let logger: Logger
    let operationTimeout: Duration
    let instruments: StoreInstruments
    private let pool: ReconnectingClient
    /// Rung after every commit that queued webhook deliveries (see ``WebhookQueue``). Other
    /// instances' commits do not ring it: their deliveries are found by the worker's poll.
    public let webhookCommits = WebhookCommitSignal()

    private init(location: PostgresLocation, options: Options, logger: Logger) {
        self.location = location
        self.description = location.redacted
        self.logger = logger
        self.operationTimeout = options.operationTimeout
        self.instruments = options.instruments
        self.pool = ReconnectingClient(
            location: location, maximumConnections: max(1, options.maximumConnections), logger: logger
        )
    }

    /// Connects, applies pending migrations and starts the connection pool.
    ///
    /// - Parameters:
    ///   - url: `postgres://user[:password]@host[:port]/database[?sslmode=disable]` (or
    ///     `postgresql://`); a host that is a folder, `%2Fvar%2Frun%2Fpostgresql` or
    ///     `?host=/var/run/postgresql`, means the unix socket in it.
    ///   - passwordFile: read when the URL has no password (its first line); without either,
    ///     `AFFHOST_DATABASE_PASSWORD` is used.
    /// - Throws: ``StoreFailure`` naming the server and what is wrong: unreachable, wrong
    ///   password, missing database, or a schema newer than this binary.
    public static func open(
        url: String, passwordFile: String? = nil, options: Options = Options(), logger: Logger
    ) async throws -> PostgresStore {
        let location = try PostgresLocation.parse(url, passwordFile: passwordFile, environment: options.environment)
        try await migrate(location, logger: logger)
        return PostgresStore(location: location, options: options, logger: logger)
    }

    /// Migrates over one direct connection rather than the pool: the pool retries a failing
    /// log-in in the background, while a direct connection says at once why it failed.
    private static func migrate(_ location: PostgresLocation, logger: Logger) async throws {
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(
                configuration: location.connectionConfiguration(), id: 0, logger: logger
            )
        } catch {
            throw location.openFailure(error)
        }
        do {
            let applied = try await PostgresMigrations.apply(on: connection, logger: logger)
            if !applied.isEmpty {
                logger.info(
                    "applied PostgreSQL schema migrations",
                    metadata: ["database": "\(location.redacted)", "versions": "\(applied.map(String.init).joined(separator: ","))"]
                )
            }
        } catch {
            try? await connection.close()
            throw location.serviceFailure(error)
        }
        try? await connection.close()
    }

    /// Closes every connection; later calls fail.
    public func close() async throws {
        await pool.close()
    }

    /// Runs `body` on a pooled connection within ``Options/operationTimeout``. A connection whose
    /// call is cut short is closed, not reused: its session state is unknown.
    func withConnection<Value: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection) async throws -> Value
    ) async throws -> Value {
        let client = pool.current
        let asked = ContinuousClock.now
        let poolWait = instruments.poolWait
        do {
            return try await withDeadline(operationTimeout, serverName: location.serverName) {
                try await client.withConnection { connection in
                    poolWait.record(duration: ContinuousClock.now - asked)
                    return try await withTaskCancellationHandler {
                        try await body(connection)
                    } onCancel: {
                        let _: EventLoopFuture<Void> = connection.close()
                    }
                }
            }
        } catch {
            pool.noticeFailure(error)
            if !(error is StoreConflict || error is ChangeRefused) { instruments.poolFailures.increment() }
            throw location.serviceFailure(error)
        }
    }

    /// ``withConnection(_:)`` inside `BEGIN`/`COMMIT`; any error rolls back.
    func withTransaction<Value: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection) async throws -> Value
    ) async throws -> Value {
        let logger = self.logger
        let instruments = self.instruments
        return try await withConnection { connection in
            let started = ContinuousClock.now
            do {
                let value = try await connection.withTransaction(logger: logger) { connection in
                    try await body(connection)
                }
                instruments.commitDuration.record(duration: ContinuousClock.now - started)
                instruments.writesPerCommit.record(1)
                return value
            } catch let error as PostgresTransactionError {
                instruments.commitFailures.increment()
                throw error.closureError ?? error.commitError ?? error.beginError ?? error
            }
        }
    }
}
