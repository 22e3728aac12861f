import AffiliateCore
import GRDB
import Logging
import Metrics
import Synchronization

/// Group commit: writes that arrive while a write transaction is in flight share the next one.
///
/// With `synchronous = FULL` a COMMIT returns only after the WAL reached the disk, and that
/// fsync, not the SQL, is what a write costs. So every write (``perform(_:)``) waits in a queue;
/// the writer connection takes all waiting writes at once, applies each inside its own SAVEPOINT
/// (a write that throws is rolled back alone and gets its own error), adds up the count changes
/// of the writes that succeeded (``SQLiteTallies``) and writes them, commits once, and only then
/// answers every caller. Under load one fsync serves many requests; an idle store still commits
/// a lone write at once.
final class SQLiteWriteQueue: Sendable {
    /// Bounds the latency a single transaction adds to the writes queued behind it.
    static let maximumGroupSize = 256

    private struct State {
        var pending: [QueuedWrite] = []
        /// A drain job is queued or running on the writer connection.
        var draining = false
        var closed = false
        var idleWaiters: [CheckedContinuation<Void, Never>] = []
        var statistics = Statistics()
    }

    /// How well writes were grouped: `writes / transactions` is the number of callers one
    /// fsync served on average.
    struct Statistics: Sendable, Equatable {
        var transactions = 0
        var writes = 0
    }

    var statistics: Statistics { state.withLock { $0.statistics } }

    /// Writes waiting for the next transaction (tests use it to know a group has formed).
    var pendingCount: Int { state.withLock { $0.pending.count } }

    /// One caller's write, type-erased so that writes of any result type share a transaction.
    private struct QueuedWrite: Sendable {
        /// Runs inside the group transaction. Returns how to answer the caller once the
        /// transaction's fate is known: `nil` when it committed, else the error that lost it.
        let apply: @Sendable (Database, inout SQLiteTallies) -> @Sendable (Error?) -> Void
        /// Answers a caller whose write never ran.
        let abandon: @Sendable (Error) -> Void
    }

    private let pool: DatabasePool
    private let location: String
    private let logger: Logger
    private let instruments: StoreInstruments
    private let state = Mutex(State())
    /// Runs at the start of each group transaction, before its writes.
    private let groupStarted: @Sendable (Database) -> Void
    /// Runs after each group transaction, once its callers were answered.
    private let groupEnded: @Sendable (Database) -> Void

    init(
        pool: DatabasePool, location: String, logger: Logger, instruments: StoreInstruments,
        groupStarted: @escaping @Sendable (Database) -> Void,
        groupEnded: @escaping @Sendable (Database) -> Void
    ) {
        self.pool = pool
        self.location = location
        self.logger = logger
        self.instruments = instruments
        self.groupStarted = groupStarted
        self.groupEnded = groupEnded
    }

    /// Runs `body` in the next group transaction and returns its result once that transaction
    /// is durable. `body` must not swallow database errors: its savepoint is rolled back
    /// exactly when it throws, and its tally changes are kept only when it does not.
    func perform<T: Sendable>(_ body: @escaping @Sendable (Database, inout SQLiteTallies) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
            let write = QueuedWrite(
                apply: { db, tallies in
                    do {
                        var changes = SQLiteTallies()
                        let value = try Self.inSavepoint(db) { try body(db, &changes) }
                        tallies.add(changes)
                        return { error in
                            if let error {
                                continuation.resume(throwing: error)
                            } else {
                                continuation.resume(returning: value)
                            }
                        }
                    } catch {
                        return { _ in continuation.resume(throwing: error) }
                    }
                },
                abandon: { continuation.resume(throwing: $0) }
            )
            let schedule = state.withLock { state -> Bool? in
                if state.closed { return nil }
                state.pending.append(write)
                if state.draining { return false }
                state.draining = true
                return true
            }
            switch schedule {
            case nil: write.abandon(StoreFailure("\(location) is closed"))
            case true?: pool.asyncWriteWithoutTransaction { self.drain($0) }
            case false?: break
            }
        }
    }

    /// Runs `body` in a savepoint of the open transaction, rolled back if it throws.
    ///
    /// GRDB's `inSavepoint` prepares its SQL on every call; with one savepoint per request the
    /// parsing showed in profiles, so these statements are the connection's cached ones.
    private static func inSavepoint<T>(_ db: Database, _ body: () throws -> T) throws -> T {
        try db.cachedStatement(sql: "SAVEPOINT affhost_write").execute()
        do {
            let result = try body()
            try db.cachedStatement(sql: "RELEASE SAVEPOINT affhost_write").execute()
            return result
        } catch {
            // When SQLite already rolled the whole transaction back these fail too; the group
            // commit notices that the transaction is gone.
            try? db.cachedStatement(sql: "ROLLBACK TO SAVEPOINT affhost_write").execute()
            try? db.cachedStatement(sql: "RELEASE SAVEPOINT affhost_write").execute()
            throw error
        }
    }

    /// Refuses new writes and returns once every queued write has been answered.
    func close() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let idle = state.withLock { state -> Bool in
                state.closed = true
                if !state.draining { return true }
                state.idleWaiters.append(continuation)
                return false
            }
            if idle { continuation.resume() }
        }
    }

    /// Commits the writes waiting now, then schedules itself again if more arrived meanwhile.
    /// Going back through the writer's queue rather than looping lets migrations or other
    /// writer work interleave fairly.
    private func drain(_ db: Database) {
        let group = state.withLock { state in
            let count = min(state.pending.count, Self.maximumGroupSize)
            let group = Array(state.pending.prefix(count))
            state.pending.removeFirst(count)
            if count > 0 {
                state.statistics.transactions += 1
                state.statistics.writes += count
            }
            return group
        }
        if !group.isEmpty {
            commit(group, db)
            groupEnded(db)
        }
        let (more, idleWaiters) = state.withLock { state in
            if !state.pending.isEmpty { return (true, [CheckedContinuation<Void, Never>]()) }
            state.draining = false
            let waiters = state.idleWaiters
            state.idleWaiters = []
            return (false, waiters)
        }
        if more {
            pool.asyncWriteWithoutTransaction { self.drain($0) }
        }
        for waiter in idleWaiters { waiter.resume() }
    }

    private func commit(_ group: [QueuedWrite], _ db: Database) {
        var answers: [@Sendable (Error?) -> Void] = []
        answers.reserveCapacity(group.count)
        var tallies = SQLiteTallies()
        let started = ContinuousClock.now
        do {
            try db.beginTransaction(.immediate)
            groupStarted(db)
            for write in group {
                answers.append(write.apply(db, &tallies))
                // SQLite rolls the whole transaction back on some errors (disk full, I/O):
                // then none of the group can commit.
                if !db.isInsideTransaction {
                    throw StoreFailure("\(location): a write failed and SQLite rolled back its transaction")
                }
            }
            try tallies.write(to: db)
            try db.commit()
        } catch {
            try? db.rollback()
            instruments.commitFailures.increment()
            let failure = error as? StoreFailure ?? StoreFailure("\(location): commit failed: \(error)")
            logger.error("group commit failed", metadata: ["writes": "\(group.count)", "error": "\(failure)"])
            for answer in answers { answer(failure) }
            for write in group.dropFirst(answers.count) { write.abandon(failure) }
            return
        }
        instruments.commitDuration.record(duration: ContinuousClock.now - started)
        instruments.writesPerCommit.record(group.count)
        for answer in answers { answer(nil) }
    }
}
