import AffiliateCore
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
///
/// Background checkpoints alone never let the log start over under steady writes: it restarts
/// from its first page only when a write begins with every frame copied back and no reader
/// still on the log, and with group commits back to back a passive checkpoint never catches
/// up. Measured under the bench's update load, the log reached the inline threshold (197 MB)
/// within seconds and stayed there; from then on every commit checkpointed inline and every
/// read searched 50,000 frames. So the writer itself, between two groups, runs a RESTART
/// checkpoint once the log passes ``restartThreshold`` (``restartLogIfLong(_:)``): the
/// background checkpoints leave it little to copy, nothing writes meanwhile, and it waits only
/// briefly for readers still on the old frames, after which the next group writes from the
/// log's start.
final class SQLiteCheckpointer: Sendable {
    /// WAL pages after which a background checkpoint starts: SQLite's own default. At 2,000 the
    /// larger fsync of the database file stalled the writer's log fsyncs on the same disk (p99
    /// of durable updates at 1M records 86-126 ms against 28-36 ms at 1,000).
    static let backgroundThreshold: Int32 = 1_000
    /// WAL pages after which the writer checkpoints inline, as SQLite's own auto-checkpoint does.
    static let inlineThreshold: Int32 = 50_000
    /// WAL pages (16 MiB of 4 KiB pages) past which the writer restarts the log between groups.
    static let restartThreshold: Int32 = 4_096
    /// How long a restart waits for readers still on the old frames before it leaves the log
    /// for a later group; the writer's queue waits meanwhile, so it is short.
    static let restartWaitMilliseconds: Int32 = 20
    /// How much longer the log grows before a restart that found readers is tried again.
    static let restartRetryPages: Int32 = 256

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
    /// The log's size after the writer's last commit.
    private let logPages = Atomic<Int32>(0)
    /// The size at which the writer next tries a restart (raised after one found readers).
    private let restartAt = Atomic<Int32>(SQLiteCheckpointer.restartThreshold)
    private let restarted = Atomic<Int>(0)
    private let largestLog = Atomic<Int32>(0)

    /// Log restarts so far, and the most pages the log held after a commit.
    var restarts: Int { restarted.load(ordering: .relaxed) }
    var largestLogPages: Int32 { largestLog.load(ordering: .relaxed) }
    /// The address of this checkpointer, retained for the writer's hook until ``close()``
    /// (0: not installed).
    private let hookContext = Atomic<UInt>(0)

    /// Checkpoints run so far (tests check that the writer's commits start them).
    var checkpoints: Int { completed.load(ordering: .relaxed) }

    private let instruments: StoreInstruments

    init(path: String, location: String, logger: Logger, instruments: StoreInstruments) throws {
        var configuration = Configuration()
        configuration.label = "affhost.checkpointer"
        self.connection = try DatabaseQueue(path: path, configuration: configuration)
        self.location = location
        self.logger = logger
        self.instruments = instruments
    }

    /// Routes the writer connection's post-commit WAL hook to this checkpointer. The hook
    /// replaces SQLite's auto-checkpoint on that connection.
    func install(on writer: Database) {
        let context = Unmanaged.passRetained(self).toOpaque()
        hookContext.store(UInt(bitPattern: context), ordering: .releasing)
        sqlite3_wal_hook(writer.sqliteConnection, { context, connection, _, pages in
            guard let context else { return SQLITE_OK }
            let checkpointer = Unmanaged<SQLiteCheckpointer>.fromOpaque(context).takeUnretainedValue()
            checkpointer.logPages.store(pages, ordering: .relaxed)
            if pages > checkpointer.largestLog.load(ordering: .relaxed) {
                checkpointer.largestLog.store(pages, ordering: .relaxed)
            }
            if pages >= SQLiteCheckpointer.inlineThreshold {
                sqlite3_wal_checkpoint_v2(connection, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
                checkpointer.instruments.inlineCheckpoints.increment()
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

    /// Restarts the log if it passed the threshold. Call it on the writer connection, outside
    /// a transaction, after a group's callers were answered: only the next group waits for it.
    func restartLogIfLong(_ db: Database) {
        let pages = logPages.load(ordering: .relaxed)
        guard pages >= restartAt.load(ordering: .relaxed) else { return }
        // Only one checkpoint runs at a time: while a background one copies pages, the restart
        // would only wait for it, so it waits for the next group instead; while the restart
        // runs, a background request is held and runs after it.
        let claimed = state.withLock { state -> Bool in
            if state.running || state.closed { return false }
            state.running = true
            return true
        }
        guard claimed else { return }
        defer { release() }
        let connection = db.sqliteConnection
        sqlite3_busy_timeout(connection, Self.restartWaitMilliseconds)
        let code = sqlite3_wal_checkpoint_v2(connection, nil, SQLITE_CHECKPOINT_RESTART, nil, nil)
        if case .timeout(let seconds) = db.configuration.busyMode {
            sqlite3_busy_timeout(connection, Int32(seconds * 1000))
        }
        if code == SQLITE_OK {
            restarted.add(1, ordering: .relaxed)
            instruments.logRestarts.increment()
            logPages.store(0, ordering: .relaxed)
            restartAt.store(Self.restartThreshold, ordering: .relaxed)
        } else {
            // Readers held on to the old frames: try again a few groups later.
            restartAt.store(pages + Self.restartRetryPages, ordering: .relaxed)
            if code != SQLITE_BUSY {
                logger.warning("log restart failed", metadata: ["store": "\(location)", "code": "\(code)"])
            }
        }
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
            instruments.backgroundCheckpoints.increment()
        } catch {
            // The next commit over the threshold retries; the writer's inline backstop keeps
            // the log bounded meanwhile.
            logger.warning("background checkpoint failed", metadata: ["store": "\(location)", "error": "\(error)"])
        }
        release()
    }

    /// Ends a checkpoint (background or restart): starts the background one asked for
    /// meanwhile, or wakes whoever waits for the checkpointer to be idle.
    private func release() {
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
