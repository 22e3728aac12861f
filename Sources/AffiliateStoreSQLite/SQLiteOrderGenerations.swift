import GRDB
import Synchronization

/// Tells a reader whether the list order of a (tenant, resource) is still the one its cached
/// offset anchors (``SQLiteListAnchors``) were read from.
///
/// Per (tenant, resource) it keeps `pending`, the writes that changed the order inside a group
/// transaction not yet finished, and `generation`, bumped when such a write finished (committed
/// or not: a failed one bumps too). A reader takes a ``Stamp`` before its read transaction
/// starts and again after the transaction's first statement fixed its snapshot; equal stamps
/// mean no order-changing commit of this process fell in between, so the snapshot holds exactly
/// the commits counted by the stamp's generation (a seqlock). Only an insert, a status change,
/// a sort key change or a tag change moves the order; a data-only update does not.
///
/// Another process writing the same file (a second affhost by mistake, `affhost import` while
/// serving) is seen through the writer connection's `PRAGMA data_version`, which changes only
/// when another connection commits: every group commit of this store looks at it, and so does a check
/// the readers schedule on the writer connection when the last look is older than
/// ``freshness``. Until a look is that recent, ``stamp(tenant:resource:)`` refuses, and lists
/// are read by plain `OFFSET`. The window that remains: a page may be read from anchors that
/// another process's commit outdated during at most ``freshness`` after the last look before
/// that commit.
final class SQLiteOrderGenerations: Sendable {
    /// How old the last look at `data_version` may be for anchors to be trusted.
    static let freshness = Duration.milliseconds(250)

    struct Key: Hashable, Sendable {
        var tenant: String
        var resource: String
    }

    /// What a reader compares before and after fixing its snapshot. `epoch` moves when another
    /// process committed, and invalidates every generation at once.
    struct Stamp: Equatable, Sendable {
        var epoch: UInt64
        var generation: UInt64
    }

    private struct Counters {
        var generation: UInt64 = 0
        var pending = 0
    }

    private struct State {
        var epoch: UInt64 = 0
        var counters: [Key: Counters] = [:]
        /// The writer connection's `data_version` at the last look; `nil` before the first.
        var dataVersion: Int64?
        /// When the last look began.
        var lookedAt: ContinuousClock.Instant?
        /// A look is queued on the writer connection.
        var lookScheduled = false
    }

    private let state = Mutex(State())

    /// The order's stamp, or `nil` when a write of it is in flight or the last look at other
    /// processes' commits is too old.
    func stamp(tenant: String, resource: String) -> Stamp? {
        let now = ContinuousClock.now
        return state.withLock { state in
            guard let lookedAt = state.lookedAt, now - lookedAt < Self.freshness else { return nil }
            let counters = state.counters[Key(tenant: tenant, resource: resource)] ?? Counters()
            guard counters.pending == 0 else { return nil }
            return Stamp(epoch: state.epoch, generation: counters.generation)
        }
    }

    /// Whether the caller should queue a look on the writer connection now: the last one is
    /// half as old as ``freshness`` allows, and none is queued. Looking at half-life keeps
    /// the stamps fresh under steady reads, so anchors do not lapse while the look runs.
    func claimLook() -> Bool {
        let now = ContinuousClock.now
        return state.withLock { state in
            if state.lookScheduled { return false }
            if let lookedAt = state.lookedAt, now - lookedAt < Self.freshness / 2 { return false }
            state.lookScheduled = true
            return true
        }
    }

    /// Marks writes applied in the open group transaction, before it commits.
    func markPending(_ keys: some Sequence<Key>) {
        state.withLock { state in
            for key in keys { state.counters[key, default: Counters()].pending += 1 }
        }
    }

    /// Ends what ``markPending(_:)`` began, once the write committed or failed.
    func finish(_ keys: some Sequence<Key>) {
        state.withLock { state in
            for key in keys {
                state.counters[key, default: Counters()].generation &+= 1
                state.counters[key, default: Counters()].pending -= 1
            }
        }
    }

    /// Looks at the writer connection's `data_version` (call it on the writer connection only):
    /// when another connection committed since the last look, every generation moves.
    func look(_ writer: Database) {
        let began = ContinuousClock.now
        let version = try? Int64.fetchOne(writer.cachedStatement(sql: "PRAGMA data_version"))
        state.withLock { state in
            state.lookScheduled = false
            guard let version else {
                // The connection could not tell (closed, failing): trust no anchor.
                state.epoch &+= 1
                state.lookedAt = nil
                return
            }
            if let known = state.dataVersion, known != version { state.epoch &+= 1 }
            state.dataVersion = version
            state.lookedAt = began
        }
    }

    /// The writes of one call, marked pending inside its group transaction and finished once
    /// the call returns or throws.
    final class Ticket: Sendable {
        private let generations: SQLiteOrderGenerations
        private let keys = Mutex<[Key]>([])

        init(_ generations: SQLiteOrderGenerations) {
            self.generations = generations
        }

        /// Call inside the write, after its changes were applied.
        func mark(_ changed: Set<Key>) {
            guard !changed.isEmpty else { return }
            generations.markPending(changed)
            keys.withLock { $0.append(contentsOf: changed) }
        }

        /// Call once the write returned or threw.
        func finish() {
            let marked = keys.withLock { keys in
                defer { keys = [] }
                return keys
            }
            if !marked.isEmpty { generations.finish(marked) }
        }
    }
}
