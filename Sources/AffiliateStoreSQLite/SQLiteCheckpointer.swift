import GRDB
import GRDBSQLite
import Logging
import Synchronization

/// Copies committed pages from the write-ahead log back into the database file on a connection
/// of its own, so that no group commit waits for a checkpoint.
///
/// SQLite's default is to checkpoint inside the COMMIT that crosses 1,000 WAL pages, on the
/// writer connection: every request queued behind that group then waits for pages to be copied
/// and the database file to be fsynced (6.5-8% of the server's CPU under durable updates, all of
/// it on the single writer). Installing a WAL hook on the writer replaces that: the hook only
/// wakes this checkpointer, which runs a PASSIVE checkpoint (it never blocks readers or the
/// writer) while the writer goes on committing. Should checkpoints fall far behind, the hook
/// checkpoints inline as SQLite would have, so the log cannot grow without bound.
final class SQLiteCheckpointer: Sendable {
    /// WAL pages after which a background checkpoint starts: SQLite's own default. At 2,000 the
    /// larger fsync of the database file stalled the writer's log fsyncs on the same disk (p99
    /// of durable updates at 1M records 86-126 ms against 28-36 ms at 1,000).
    static let backgroundThreshold: Int32 = 1_000
    /// WAL pages after which the writer checkpoints inline, as SQLite's own auto-checkpoint does.
    static let inlineThreshold: Int32 = 50_000

    private struct State {
        var running = false
        /// A commit crossed the threshold while a checkpoint ran: run another one after it.
        var requestedAgain = false
        var closed = false
        var idleWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private let connection: DatabaseQueue
    private let state = Mutex(State())
    private let location: String
    private let logger: Logger
    private let completed = Atomic<Int>(0)
    /// The log's size when the writer's hook last asked for a checkpoint.
    private let pagesAtLastRequest = Atomic<Int32>(0)
    /// The address of this checkpointer, retained for the writer's hook until ``close()``
    /// (0: not installed).
    private let hookContext = Atomic<UInt>(0)

    /// Checkpoints run so far (tests check that the writer's commits start them).
    var checkpoints: Int { completed.load(ordering: .relaxed) }

    init(path: String, location: String, logger: Logger) throws {
        var configuration = Configuration()
        configuration.label = "affhost.checkpointer"
        self.connection = try DatabaseQueue(path: path, configuration: configuration)
        self.location = location
        self.logger = logger
    }

    /// Routes the writer connection's post-commit WAL hook to this checkpointer. The hook
    /// replaces SQLite's auto-checkpoint on that connection.
    func install(on writer: Database) {
        let context = Unmanaged.passRetained(self).toOpaque()
        hookContext.store(UInt(bitPattern: context), ordering: .releasing)
        sqlite3_wal_hook(writer.sqliteConnection, { context, connection, _, pages in
            guard let context else { return SQLITE_OK }
            let checkpointer = Unmanaged<SQLiteCheckpointer>.fromOpaque(context).takeUnretainedValue()
            if pages >= SQLiteCheckpointer.inlineThreshold {
                sqlite3_wal_checkpoint_v2(connection, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
            } else if checkpointer.logGrew(to: pages) {
                checkpointer.request()
            }
            return SQLITE_OK
        }, context)
    }

    /// Whether the log gained a threshold's worth of pages since the last checkpoint was asked
    /// for. Called by the writer's hook only, after each commit.
    ///
    /// The log restarts from its first page only when no reader is using it, which under steady
    /// reads is rare; asking after every commit past the threshold (as SQLite's auto-checkpoint
    /// does) then copies a few pages and fsyncs the database file once per commit.
    func logGrew(to pages: Int32) -> Bool {
        var last = pagesAtLastRequest.load(ordering: .relaxed)
        if pages < last { last = 0 }
        guard pages - last >= Self.backgroundThreshold else {
            if last != pagesAtLastRequest.load(ordering: .relaxed) { pagesAtLastRequest.store(last, ordering: .relaxed) }
            return false
        }
        pagesAtLastRequest.store(pages, ordering: .relaxed)
        return true
    }

    /// Starts a checkpoint unless one is running; a running one is followed by another.
    func request() {
        let start = state.withLock { state -> Bool in
            if state.closed { return false }
            if state.running {
                state.requestedAgain = true
                return false
            }
            state.running = true
            return true
        }
        if start { connection.asyncWriteWithoutTransaction { self.run($0) } }
    }

    private func run(_ db: Database) {
        do {
            try db.checkpoint(.passive)
            completed.add(1, ordering: .relaxed)
        } catch {
            // The next commit over the threshold retries; the writer's inline backstop keeps
            // the log bounded meanwhile.
            logger.warning("background checkpoint failed", metadata: ["store": "\(location)", "error": "\(error)"])
        }
        let (again, idleWaiters) = state.withLock { state in
            if state.requestedAgain && !state.closed {
                state.requestedAgain = false
                return (true, [CheckedContinuation<Void, Never>]())
            }
            state.running = false
            let waiters = state.idleWaiters
            state.idleWaiters = []
            return (false, waiters)
        }
        if again { connection.asyncWriteWithoutTransaction { self.run($0) } }
        for waiter in idleWaiters { waiter.resume() }
    }

    /// Stops taking requests and waits for a running checkpoint to end.
    func finish() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let idle = state.withLock { state -> Bool in
                state.closed = true
                if !state.running { return true }
                state.idleWaiters.append(continuation)
                return false
            }
            if idle { continuation.resume() }
        }
    }

    /// Closes the checkpointer's connection. Call it after the writer connection is closed:
    /// the hook holds this object until then.
    func close() {
        try? connection.close()
        if let context = UnsafeMutableRawPointer(bitPattern: hookContext.exchange(0, ordering: .acquiring)) {
            Unmanaged<SQLiteCheckpointer>.fromOpaque(context).release()
        }
    }
}
