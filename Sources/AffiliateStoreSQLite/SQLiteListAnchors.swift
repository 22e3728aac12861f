import AffiliateCore
import Synchronization

/// Where list pages at deep offsets start: for each list shape, the (sort key, id) of every
/// ``spacing``-th entry in list order.
///
/// `OFFSET` steps over every skipped index entry, so without anchors a page at offset 10,000
/// walks 10,000 entries. With them it seeks to the nearest anchor at or below the offset with
/// a keyset condition and skips fewer than ``spacing`` entries. Anchors are read by one walk of
/// the shape's driving index the first time a deep page of it is asked for, and are only used
/// under the ``SQLiteOrderGenerations/Stamp`` they were read under (see there).
///
/// Memory is bounded by ``budget`` anchors over all shapes; the least recently used shapes go
/// first. A 20,000-entry list needs 78 anchors, so the budget holds hundreds of such lists in
/// a few megabytes.
final class SQLiteListAnchors: Sendable {
    /// Entries between two anchors: a page skips fewer than this many.
    static let spacing = 256
    /// Anchors kept over all shapes (each is two short strings, about 100 bytes).
    static let budget = 40_000

    /// A list, as far as its order and membership go.
    struct Shape: Hashable, Sendable {
        var tenant: String
        var resource: String
        var status: String?
        var tags: [Tag]
        var driver: SQLiteListFilter.Driver

        init(_ query: RecordQuery, driver: SQLiteListFilter.Driver) {
            tenant = query.tenant
            resource = query.resource
            status = query.status
            tags = query.tags
            self.driver = driver
        }
    }

    /// The position of an entry in list order.
    struct Anchor: Equatable, Sendable {
        var sortKey: String
        var id: String
    }

    /// Where a page begins: after `anchor` (from the start when `nil`), skipping `skip` entries.
    struct Start: Equatable, Sendable {
        var anchor: Anchor?
        var skip: Int
    }

    /// How often anchors were read and used (tests check that a data-only update keeps them).
    struct Statistics: Equatable, Sendable {
        var builds = 0
        var anchoredPages = 0
    }

    private struct Entry {
        var stamp: SQLiteOrderGenerations.Stamp
        /// `anchors[i]` is the entry at position `(i + 1) * spacing - 1`.
        var anchors: [Anchor]
        var lastUse: UInt64
    }

    private struct State {
        var entries: [Shape: Entry] = [:]
        /// ``cost(_:)`` summed over the entries.
        var cost = 0
        var uses: UInt64 = 0
        var statistics = Statistics()
    }

    private let state = Mutex(State())

    var statistics: Statistics { state.withLock { $0.statistics } }

    /// The shape's anchors read under `stamp`, if kept.
    func anchors(for shape: Shape, stamp: SQLiteOrderGenerations.Stamp) -> [Anchor]? {
        state.withLock { state in
            guard var entry = state.entries[shape], entry.stamp == stamp else { return nil }
            state.uses &+= 1
            entry.lastUse = state.uses
            state.entries[shape] = entry
            return entry.anchors
        }
    }

    /// Keeps anchors just read under `stamp`, replacing older ones, within the budget.
    func store(_ anchors: [Anchor], for shape: Shape, stamp: SQLiteOrderGenerations.Stamp) {
        state.withLock { state in
            state.statistics.builds += 1
            guard anchors.count <= Self.budget else { return }
            if let old = state.entries.removeValue(forKey: shape) { state.cost -= Self.cost(old.anchors) }
            state.uses &+= 1
            state.entries[shape] = Entry(stamp: stamp, anchors: anchors, lastUse: state.uses)
            state.cost += Self.cost(anchors)
            guard state.cost > Self.budget else { return }
            // Down to half the budget at once, so that the sort is paid rarely.
            for (oldest, entry) in state.entries.sorted(by: { $0.value.lastUse < $1.value.lastUse }) {
                guard state.cost > Self.budget / 2 else { break }
                guard oldest != shape else { continue }
                state.entries[oldest] = nil
                state.cost -= Self.cost(entry.anchors)
            }
        }
    }

    /// What an entry counts against the budget: a list too short for anchors counts as one,
    /// so that many such lists are bounded too.
    private static func cost(_ anchors: [Anchor]) -> Int {
        max(1, anchors.count)
    }

    /// Counts a page read from an anchor.
    func served() {
        state.withLock { $0.statistics.anchoredPages += 1 }
    }

    /// Where the page at `offset` starts, given the shape's anchors.
    static func start(at offset: Int, in anchors: [Anchor]) -> Start {
        let passed = min(offset / spacing, anchors.count)
        guard passed > 0 else { return Start(anchor: nil, skip: offset) }
        return Start(anchor: anchors[passed - 1], skip: offset - passed * spacing)
    }
}
