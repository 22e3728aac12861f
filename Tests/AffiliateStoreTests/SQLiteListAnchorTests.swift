import AffiliateCore
import GRDB
import Synchronization
import Testing

@testable import AffiliateStoreSQLite

import Foundation

/// Deep list pages read from offset anchors are the pages a plain `OFFSET` walk gives, whatever
/// was written before or during the read, by this store or by another connection.
@Suite("SQLite list anchors")
struct SQLiteListAnchorTests {
    static let spacing = SQLiteListAnchors.spacing

    /// Three thousand earnings: three share each sort key (so ties go by id), every fifth is
    /// paid, half are in campaign 1, a seventh per promoter.
    static let earnings = (0..<3000).map { index in
        StoreSample.record(
            "e\(index)", resource: "earnings", status: index % 5 == 0 ? "paid" : "pending",
            sortKey: String(format: "%08d", 3000 - index / 3),
            tags: [Tag("campaign_id", "\(index % 2)"), Tag("promoter_id", "\(index % 7)")]
        )
    }

    static let shapes: [RecordQuery] = [
        RecordQuery(tenant: "acme", resource: "earnings"),
        RecordQuery(tenant: "acme", resource: "earnings", status: "pending"),
        RecordQuery(tenant: "acme", resource: "earnings", tags: [Tag("campaign_id", "1")]),
        RecordQuery(tenant: "acme", resource: "earnings", tags: [Tag("campaign_id", "1")], status: "paid"),
        RecordQuery(tenant: "acme", resource: "earnings", tags: [Tag("campaign_id", "1"), Tag("promoter_id", "3")]),
    ]

    static let offsets = [
        0, 1, spacing - 1, spacing, spacing + 1, 2 * spacing - 1, 2 * spacing, 2 * spacing + 1, 1000, 1199,
        1499, 1500, 1501, 2399, 2400, 2950, 2999, 3000, 3001, 10_000,
    ]

    private func withStore<T>(_ body: (SQLiteStore, String) async throws -> T) async throws -> T {
        let folder = try StoreTemporaryFolder.make()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("affhost.sqlite").path
        let store = try await SQLiteStore.open(path: path, logger: StoreTestLogger.quiet)
        do {
            let result = try await body(store, path)
            try await store.close()
            return result
        } catch {
            try? await store.close()
            throw error
        }
    }

    /// The page by plain `OFFSET`, as before anchors.
    private func plain(_ store: SQLiteStore, _ query: RecordQuery) async throws -> RecordPage {
        try await store.pool.read { try SQLiteRecordReader(db: $0).records(matching: query) }
    }

    /// Looks at other connections' commits now, so that the next reads may use anchors.
    private func look(_ store: SQLiteStore) async throws {
        let generations = store.orderGenerations
        try await store.pool.writeWithoutTransaction { generations.look($0) }
    }

    /// Every shape at every offset, with a page limit, with a total, and without a limit.
    private func expectEveryPageIsPlain(_ store: SQLiteStore, _ comment: Comment) async throws {
        for shape in Self.shapes {
            for offset in Self.offsets {
                // Whole remainders only near the end, where they are short.
                let variants: [(Int?, Bool)] = offset >= 2400 ? [(50, false), (nil, false), (0, true)] : [(50, offset % 2 == 1)]
                for (limit, countTotal) in variants {
                    var query = shape
                    query.offset = offset
                    query.limit = limit
                    query.countTotal = countTotal
                    try await look(store)
                    let page = try await store.records(matching: query)
                    let expected = try await plain(store, query)
                    #expect(page == expected, "\(comment): \(query)")
                    // The stored texts of the same page, read the same way.
                    let data = try await store.recordData(matching: query)
                    #expect(data == RecordDataPage(expected), "\(comment), data: \(query)")
                }
            }
        }
    }

    @Test func pagesAtEveryOffsetEqualThePlainWalk() async throws {
        try await withStore { store, _ in
            try await StoreSample.insert(Self.earnings, into: store)
            try await expectEveryPageIsPlain(store, "first reads")
            let statistics = store.listAnchors.statistics
            // Once per shape (the driver of a shape may differ by its tallies, never twice).
            #expect(statistics.builds == Self.shapes.count)
            #expect(statistics.anchoredPages > 100)
            // The second time round every deep page comes from the anchors already read.
            try await expectEveryPageIsPlain(store, "second reads")
            #expect(store.listAnchors.statistics.builds == Self.shapes.count)
            // A sanity check of the plain walk itself, against the records in memory.
            let all = try await plain(store, RecordQuery(tenant: "acme", resource: "earnings", offset: 700, limit: 3))
            let sorted = Self.earnings.sorted {
                $0.sortKey == $1.sortKey ? storeByteOrder($0.id, $1.id) : storeByteOrder($0.sortKey, $1.sortKey)
            }
            #expect(all.records.map(\.id) == sorted[700..<703].map(\.id))
        }
    }

    /// A page after an anchor seeks to it in the driving index: the keyset condition is part
    /// of the index search, not a filter over the entries before it.
    @Test func aPageAfterAnAnchorSeeksInTheDrivingIndex() async throws {
        try await withStore { store, _ in
            try await StoreSample.insert(Self.earnings, into: store)
            let anchor = SQLiteListAnchors.Anchor(sortKey: "00002000", id: "e3000")
            for shape in Self.shapes {
                let drivers = [.records] + shape.tags.indices.map { SQLiteListFilter.Driver.tag($0) }
                for driver in drivers {
                    var query = shape
                    query.limit = 50
                    let page = SQLiteRecordReader.pageSQL(SQLiteListFilter(query, driver: driver, after: anchor), query, skip: 7)
                    let steps = try await store.pool.read { db in
                        try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + page.sql, arguments: page.arguments)
                            .map { $0["detail"] as String }
                    }
                    let keyset = driver == .records ? "AND (sort_key,id)>(?,?))" : "AND (sort_key,record_id)>(?,?))"
                    #expect(steps.contains { $0.hasPrefix("SEARCH ") && $0.hasSuffix(keyset) }, "\(query) \(driver): \(steps)")
                }
            }
        }
    }

    @Test func pagesStayRightAfterEachKindOfWrite() async throws {
        try await withStore { store, _ in
            let stored = try await StoreSample.insert(Self.earnings, into: store)
            try await expectEveryPageIsPlain(store, "before writes")
            let built = store.listAnchors.statistics.builds

            // Data only: the order is unchanged, so the anchors stay.
            var meta = stored[1200]
            meta.data["note"] = .string("changed")
            try await store.commit(StoreSample.updating(meta))
            let served = store.listAnchors.statistics.anchoredPages
            try await expectEveryPageIsPlain(store, "after a data-only update")
            #expect(store.listAnchors.statistics.builds == built)
            #expect(store.listAnchors.statistics.anchoredPages > served)

            // Each of these moves entries across the anchors; every one is read again.
            var status = stored[11]
            #expect(status.status == "pending")
            status.status = "paid"
            var tags = stored[12]
            tags.tags = [Tag("campaign_id", "1"), Tag("promoter_id", "3")]
            var sortKey = stored[13]
            sortKey.sortKey = "00000000"
            let writes: [(String, WriteBatch)] = [
                ("an insert", StoreSample.inserting([StoreSample.record(
                    "new", resource: "earnings", sortKey: "00001500", tags: [Tag("campaign_id", "1"), Tag("promoter_id", "3")]
                )])),
                ("a status change", StoreSample.updating(status)),
                ("a tag change", StoreSample.updating(tags)),
                ("a sort key change", StoreSample.updating(sortKey)),
            ]
            for (name, batch) in writes {
                let before = store.listAnchors.statistics.builds
                try await store.commit(batch)
                try await expectEveryPageIsPlain(store, "after \(name)")
                #expect(store.listAnchors.statistics.builds == before + Self.shapes.count, "after \(name)")
            }

            // Another tenant's and another resource's writes leave these anchors alone.
            let before = store.listAnchors.statistics.builds
            try await StoreSample.insert([StoreSample.record("x", tenant: "other", resource: "earnings")], into: store)
            try await StoreSample.insert([StoreSample.record("y", resource: "payouts")], into: store)
            try await expectEveryPageIsPlain(store, "after other lists' inserts")
            #expect(store.listAnchors.statistics.builds == before)
        }
    }

    /// A batch refused for a conflict was rolled back whole: it changed no order, so the
    /// anchors stay.
    @Test func aRefusedBatchKeepsTheAnchors() async throws {
        try await withStore { store, _ in
            let stored = try await StoreSample.insert(Self.earnings, into: store)
            try await expectEveryPageIsPlain(store, "before")
            let built = store.listAnchors.statistics.builds
            var batch = StoreSample.inserting([StoreSample.record("fresh", resource: "earnings", sortKey: "00000001")])
            batch.records.append(stored[0])
            batch.records[1].version = 7
            await #expect(throws: StoreConflict.version(resource: "earnings", id: "e0")) { try await store.commit(batch) }
            try await expectEveryPageIsPlain(store, "after a conflict")
            #expect(store.listAnchors.statistics.builds == built)
            #expect(try await store.record(tenant: "acme", resource: "earnings", id: "fresh") == nil)
        }
    }

    /// Readers and writers at once for a few seconds: each page read from anchors equals the
    /// plain walk in its own read transaction, and once the writers stop every page is plain.
    /// On a machine busy enough that no page came from anchors in those seconds, they go on
    /// (up to 30 s) until some did, so that the check is never empty.
    @Test func concurrentReadersAndWritersNeverSeeAWrongPage() async throws {
        try await withStore { store, _ in
            let stored = try await StoreSample.insert(Self.earnings, into: store)
            let seen = PagesSeen()
            let deadline = ContinuousClock.now + .seconds(3)
            let giveUp = ContinuousClock.now + .seconds(30)
            @Sendable func goOn() -> Bool {
                let now = ContinuousClock.now
                return now < deadline || (seen.checked < 20 && now < giveUp)
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<2 {
                    group.addTask {
                        var round = 0
                        while goOn() {
                            round += 1
                            let id = "w\(writer)-\(round)"
                            let sortKey = String(format: "%08d", (round * 37 + writer * 1000) % 3000)
                            try await store.commit(StoreSample.inserting([StoreSample.record(
                                id, resource: "earnings", sortKey: sortKey, tags: [Tag("campaign_id", "\(round % 2)")]
                            )]))
                            let index = (round * 131 + writer) % stored.count
                            guard var record = try await store.record(tenant: "acme", resource: "earnings", id: stored[index].id)
                            else { continue }
                            record.status = record.status == "paid" ? "pending" : "paid"
                            do {
                                try await store.commit(StoreSample.updating(record))
                            } catch is StoreConflict {
                                // The other writer changed it first.
                            }
                        }
                    }
                }
                for reader in 0..<4 {
                    group.addTask {
                        var round = 0
                        while goOn() {
                            round += 1
                            var query = Self.shapes[(round + reader) % Self.shapes.count]
                            query.offset = (round * 977 + reader * 301) % 3100
                            query.limit = 50
                            _ = try await store.records(matching: query) { [query] reader, page in
                                let expected = try reader.records(matching: query)
                                seen.add(query, page == expected)
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(seen.mismatches == [])
            #expect(seen.checked > 0)
            try await expectEveryPageIsPlain(store, "after the writers stopped")
        }
    }

    /// Under reads alone the readers' own looks keep the anchors in use: a reader that finds
    /// the last look too old inside its transaction does not stop the next look from being
    /// queued.
    @Test func readsAloneKeepUsingAnchors() async throws {
        let generations = SQLiteOrderGenerations()
        #expect(generations.stamp(tenant: "acme", resource: "earnings") == nil)
        #expect(generations.claimLook())
        #expect(!generations.claimLook())
        try await withStore { store, _ in
            try await StoreSample.insert(Self.earnings, into: store)
            let started = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for reader in 0..<3 {
                    group.addTask {
                        var round = 0
                        while !Task.isCancelled {
                            round += 1
                            var query = Self.shapes[(round + reader) % Self.shapes.count]
                            query.offset = Self.spacing + (round * 577) % 2000
                            query.limit = 50
                            do {
                                _ = try await store.records(matching: query)
                            } catch {
                                if Task.isCancelled { return }
                                throw error
                            }
                        }
                    }
                }
                // Pages are still read from anchors long after any write (four looks' lifetimes).
                // How soon depends on how busy the machine is, not on the store: on two cores
                // shared with a whole test run, the readers may go a while without a look.
                try await Task.sleep(until: started + SQLiteOrderGenerations.freshness * 4)
                let later = store.listAnchors.statistics.anchoredPages
                let giveUp = ContinuousClock.now + .seconds(30)
                while store.listAnchors.statistics.anchoredPages == later, ContinuousClock.now < giveUp {
                    try await Task.sleep(for: .milliseconds(20))
                }
                group.cancelAll()
                try await group.waitForAll()
                #expect(store.listAnchors.statistics.anchoredPages > later)
            }
            // After a pause longer than a look's lifetime, the first read finds the look too old
            // and queues one; the reads after it has run use anchors again, however long the
            // writer connection takes to run it on a busy machine (up to 30 s).
            let before = store.listAnchors.statistics.anchoredPages
            try await Task.sleep(for: SQLiteOrderGenerations.freshness * 2)
            let giveUp = ContinuousClock.now + .seconds(30)
            repeat {
                _ = try await store.records(matching: RecordQuery(tenant: "acme", resource: "earnings", offset: 700, limit: 5))
                try await Task.sleep(for: .milliseconds(20))
            } while store.listAnchors.statistics.anchoredPages == before && ContinuousClock.now < giveUp
            #expect(store.listAnchors.statistics.anchoredPages > before)
        }
    }

    /// Another connection's commits (a second affhost, `affhost import`) are seen at this
    /// store's next write, or by a reader's look once the last one is too old.
    @Test func anotherConnectionsInsertIsSeen() async throws {
        try await withStore { store, path in
            try await StoreSample.insert(Self.earnings, into: store)
            try await expectEveryPageIsPlain(store, "before")
            let other = try DatabaseQueue(path: path)
            defer { try? other.close() }
            func insertElsewhere(_ id: String, sortKey: String) async throws {
                try await other.write { db in
                    try db.execute(
                        sql: """
                            INSERT INTO record (tenant, resource, id, status, sort_key, version, data, tags)
                            VALUES ('acme', 'earnings', ?, 'pending', ?, 1, '{}', '[["campaign_id","1"]]');
                            INSERT INTO record_tag (tenant, resource, name, value, sort_key, record_id)
                            VALUES ('acme', 'earnings', 'campaign_id', '1', ?, ?);
                            """,
                        arguments: [id, sortKey, sortKey, id]
                    )
                }
            }

            // Seen at the store's next write, whatever it writes.
            var built = store.listAnchors.statistics.builds
            try await insertElsewhere("elsewhere-1", sortKey: "00000500")
            _ = try await StoreSample.insert([StoreSample.record("z", tenant: "other", resource: "payouts")], into: store)
            // Right away, without any look but the write's own.
            for shape in Self.shapes {
                var query = shape
                query.offset = 2 * Self.spacing + 3
                query.limit = 50
                #expect(try await store.records(matching: query) == (try await plain(store, query)), "\(query)")
            }
            try await expectEveryPageIsPlain(store, "after another connection's insert and a write")
            #expect(store.listAnchors.statistics.builds == built + Self.shapes.count)

            // Seen by the readers' own look, once the last one is older than its freshness.
            built = store.listAnchors.statistics.builds
            try await insertElsewhere("elsewhere-2", sortKey: "00000100")
            try await Task.sleep(for: SQLiteOrderGenerations.freshness + .milliseconds(50))
            // The first deep read finds the last look too old, reads plainly and queues a look;
            // the pages below are read once that look has run (up to 30 s on a busy machine), so
            // every shape reads its anchors again whatever the machine's speed.
            var first = Self.shapes[0]
            first.offset = 2 * Self.spacing
            first.limit = 50
            #expect(try await store.records(matching: first) == (try await plain(store, first)))
            let giveUp = ContinuousClock.now + .seconds(30)
            while store.orderGenerations.stamp(tenant: "acme", resource: "earnings") == nil, ContinuousClock.now < giveUp {
                try await Task.sleep(for: .milliseconds(10))
            }
            for shape in Self.shapes {
                for offset in Self.offsets {
                    var query = shape
                    query.offset = offset
                    query.limit = 50
                    let page = try await store.records(matching: query)
                    #expect(page == (try await plain(store, query)), "\(query)")
                }
            }
            #expect(store.listAnchors.statistics.builds == built + Self.shapes.count)
        }
    }
}

/// What the concurrent readers saw: how many pages they checked, and which were wrong.
private final class PagesSeen: Sendable {
    private let state = Mutex((checked: 0, mismatches: [String]()))

    var checked: Int { state.withLock { $0.checked } }
    var mismatches: [String] { state.withLock { $0.mismatches } }

    func add(_ query: RecordQuery, _ matched: Bool) {
        state.withLock { state in
            state.checked += 1
            if !matched { state.mismatches.append("\(query)") }
        }
    }
}
