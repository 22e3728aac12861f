import AffiliateCore
import Testing

/// The contract of ``Store``, run against every kind in ``StoreKind/all`` on real storage.
@Suite("Store conformance", .timeLimit(.minutes(5)))
struct StoreConformanceTests {
    // MARK: Records

    @Test(arguments: StoreKind.all)
    func insertedRecordReadsBackExactlyWithVersionOne(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let record = StoreSample.record(
                "7", status: "pending", tags: [Tag("promoter_id", "3"), Tag("campaign_id", "1"), Tag("campaign_id", "2")],
                data: ["id": .int(7), "note": .string("é \"quoted\" \u{1F600}"), "amount": .number("1.50e2"),
                       "nested": .array([.bool(true), .null, .object(["b": .int(2), "a": .int(1)])])]
            )
            try await store.commit(StoreSample.inserting([record]))
            var expected = record
            expected.version = 1
            #expect(try await store.record(tenant: "acme", resource: "payouts", id: "7") == expected)
            #expect(try await store.record(tenant: "acme", resource: "payouts", id: "8") == nil)
            #expect(try await store.record(tenant: "acme", resource: "rewards", id: "7") == nil)
        }
    }

    /// A page as stored `data` texts is the decoded page written out, byte for byte: same
    /// records, order, filters, escapes and number literals, and the same total.
    @Test(arguments: StoreKind.all)
    func recordDataIsTheDecodedPageWritten(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let promoter = Tag("promoter_id", "3")
            _ = try await StoreSample.insert(
                [
                    StoreSample.record(
                        "1", tags: [promoter],
                        data: ["id": .int(1), "note": .string("é \"quoted\"\n\u{1F600}"), "amount": .number("1.50e2"),
                               "nested": .array([.bool(true), .null, .object(["b": .int(2), "a": .int(1)])])]
                    ),
                    StoreSample.record("2", status: "completed", tags: [promoter]),
                    StoreSample.record("3", tags: [Tag("promoter_id", "4")], data: [:]),
                    StoreSample.record("4", tenant: "other"),
                ],
                into: store
            )
            let queries = [
                RecordQuery(tenant: "acme", resource: "payouts"),
                RecordQuery(tenant: "acme", resource: "payouts", offset: 1, limit: 1),
                RecordQuery(tenant: "acme", resource: "payouts", tags: [promoter], countTotal: true),
                RecordQuery(tenant: "acme", resource: "payouts", status: "completed", countTotal: true),
                RecordQuery(tenant: "acme", resource: "payouts", offset: 9, countTotal: true),
                RecordQuery(tenant: "acme", resource: "rewards"),
                RecordQuery(tenant: "acme\u{0}", resource: "payouts", countTotal: true),
            ]
            for query in queries {
                let data = try await store.recordData(matching: query)
                #expect(data == RecordDataPage(try await store.records(matching: query)), "\(query)")
            }
            let page = try await store.recordData(matching: queries[0])
            #expect(page.count == 3)
            #expect(page.total == nil)
            #expect(String(decoding: page.json, as: UTF8.self).hasPrefix(#"[{"id":1,"note":"é \"quoted\"\n😀","amount":1.50e2,"#))
            #expect(try JSONValue(parsing: page.json).arrayValue?.count == 3)
            let empty = try await store.recordData(matching: queries[5])
            #expect(empty == RecordDataPage(json: Array("[]".utf8), count: 0))
        }
    }

    /// Records by id and pages from one call answer exactly what the single calls answer:
    /// missing ids and another tenant's records are nil, pages keep their order and filters.
    @Test(arguments: StoreKind.all)
    func recordsAndPagesReadTogetherMatchTheSingleReads(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let promoter = Tag("promoter_id", "3")
            _ = try await StoreSample.insert(
                [
                    StoreSample.record("p3", resource: "promoters", status: nil),
                    StoreSample.record("1", tags: [promoter]),
                    StoreSample.record("2", status: "completed", tags: [promoter]),
                    StoreSample.record("3", tags: [Tag("promoter_id", "4")]),
                    StoreSample.record("r1", resource: "rewards", tags: [promoter]),
                    StoreSample.record("p9", tenant: "other", resource: "promoters", status: nil),
                ],
                into: store
            )
            let queries = [
                RecordQuery(tenant: "acme", resource: "rewards", tags: [promoter]),
                RecordQuery(tenant: "acme", resource: "payouts", tags: [promoter]),
                RecordQuery(tenant: "acme", resource: "payouts", status: "completed", countTotal: true),
            ]
            let found = try await store.records(
                tenant: "acme", ids: [("promoters", "p3"), ("promoters", "p9"), ("payouts", "missing")], pages: queries
            )
            #expect(found.records.count == 3)
            #expect(found.records[0] == (try await store.record(tenant: "acme", resource: "promoters", id: "p3")))
            #expect(found.records[0]?.id == "p3")
            #expect(found.records[1] == nil)
            #expect(found.records[2] == nil)
            #expect(found.pages.map { $0.records.map(\.id) } == [["r1"], ["1", "2"], ["2"]])
            #expect(found.pages[2].total == 1)
            for (page, query) in zip(found.pages, queries) {
                #expect(page == (try await store.records(matching: query)))
            }
            let empty = try await store.records(tenant: "acme", ids: [], pages: [])
            #expect(empty.records.isEmpty && empty.pages.isEmpty)
        }
    }

    @Test(arguments: StoreKind.all)
    func recordWithoutStatusOrTagsRoundTrips(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let record = StoreSample.record("c1", resource: "campaigns", status: nil, sortKey: "c1", data: [:])
            let stored = try await StoreSample.insert([record], into: store)
            #expect(try await store.record(tenant: "acme", resource: "campaigns", id: "c1") == stored[0])
        }
    }

    @Test(arguments: StoreKind.all)
    func updateWithTheReadVersionStoresTheNextVersion(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            var record = try await StoreSample.insert([StoreSample.record("1")], into: store)[0]
            record.status = "completed"
            record.data["paid_at"] = .string("2024-09-12T14:02:53.135Z")
            try await store.commit(StoreSample.updating(record))
            var expected = record
            expected.version = 2
            #expect(try await store.record(tenant: "acme", resource: "payouts", id: "1") == expected)
            try await store.commit(StoreSample.updating(expected))
            #expect(try await store.record(tenant: "acme", resource: "payouts", id: "1")?.version == 3)
        }
    }

    @Test(arguments: StoreKind.all)
    func staleVersionIsAConflictAndChangesNothing(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let read = try await StoreSample.insert([StoreSample.record("1")], into: store)[0]
            var first = read
            first.status = "processing"
            try await store.commit(StoreSample.updating(first))
            var second = read
            second.status = "completed"
            await #expect(throws: StoreConflict.version(resource: "payouts", id: "1")) {
                try await store.commit(StoreSample.updating(second))
            }
            var expected = first
            expected.version = 2
            #expect(try await store.record(tenant: "acme", resource: "payouts", id: "1") == expected)
        }
    }

    @Test(arguments: StoreKind.all)
    func insertingAnExistingIdIsAConflict(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let stored = try await StoreSample.insert([StoreSample.record("1")], into: store)[0]
            await #expect(throws: StoreConflict.version(resource: "payouts", id: "1")) {
                try await store.commit(StoreSample.inserting([StoreSample.record("1", status: "completed")]))
            }
            #expect(try await store.record(tenant: "acme", resource: "payouts", id: "1") == stored)
        }
    }

    @Test(arguments: StoreKind.all)
    func updatingAMissingRecordIsAConflict(kind: StoreKind) async throws {
        try await withStore(kind) { store async throws in
            var ghost = StoreSample.record("404")
            ghost.version = 1
            await #expect(throws: StoreConflict.version(resource: "payouts", id: "404")) {
                try await store.commit(StoreSample.updating(ghost))
            }
            #expect(try await store.record(tenant: "acme", resource: "payouts", id: "404") == nil)
        }
    }

    @Test(arguments: StoreKind.all)
    func resourcesKeepTheirOwnIds(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let payout = StoreSample.record("1", resource: "payouts", status: "pending")
            let reward = StoreSample.record("1", resource: "rewards", status: "approved")
            let promoter = StoreSample.record("1", resource: "promoters", status: nil)
            let stored = try await StoreSample.insert([payout, reward, promoter], into: store)
            var changedReward = stored[1]
            changedReward.status = "paid"
            try await store.commit(StoreSample.updating(changedReward))
            #expect(try await store.record(tenant: "acme", resource: "payouts", id: "1") == stored[0])
            #expect(try await store.record(tenant: "acme", resource: "rewards", id: "1")?.status == "paid")
            #expect(try await store.record(tenant: "acme", resource: "promoters", id: "1") == stored[2])
            let rewards = try await store.records(matching: RecordQuery(tenant: "acme", resource: "rewards", countTotal: true))
            #expect(rewards.records.map(\.status) == ["paid"])
            #expect(rewards.total == 1)
        }
    }

    @Test(arguments: StoreKind.all)
    func aRefusedBatchAppliesNothing(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let stale = try await StoreSample.insert([StoreSample.record("1")], into: store)[0]
            var winner = stale
            winner.status = "processing"
            try await store.commit(StoreSample.updating(winner))

            var batch = StoreSample.inserting([StoreSample.record("2", tags: [Tag("promoter_id", "9")])])
            batch.claims = [StoreSample.claim("a@example.com", for: "2")]
            batch.audit = [StoreSample.audit("2", from: nil, to: "pending", request: "r1")]
            batch.idempotency = [StoreSample.idempotency("k1", recordID: "2", expiresAt: .now().adding(seconds: 3600))]
            var loser = stale
            loser.status = "completed"
            batch.records.append(loser)
            await #expect(throws: StoreConflict.version(resource: "payouts", id: "1")) { try await store.commit(batch) }

            #expect(try await store.record(tenant: "acme", resource: "payouts", id: "2") == nil)
            #expect(try await store.record(claimedBy: StoreSample.claimKey("a@example.com")) == nil)
            #expect(try await store.auditTrail(tenant: "acme", resource: "payouts", recordID: "2") == [])
            #expect(try await store.idempotencyEntry(tenant: "acme", scope: "earnings", key: "k1") == nil)
            let tagged = try await store.records(
                matching: RecordQuery(tenant: "acme", resource: "payouts", tags: [Tag("promoter_id", "9")], countTotal: true)
            )
            #expect(tagged == RecordPage(records: [], total: 0))
            #expect(try await store.statusCounts(tenant: "acme", resource: "payouts") == ["processing": 1])
            let all = try await store.records(matching: RecordQuery(tenant: "acme", resource: "payouts", countTotal: true))
            #expect(all.records.map(\.id) == ["1"])
            #expect(all.total == 1)
        }
    }

    // MARK: Lists

    @Test(arguments: StoreKind.all)
    func listsOrderBySortKeyThenIdInByteOrder(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let records = [
                StoreSample.record("é", sortKey: "b"), StoreSample.record("a", sortKey: "b"),
                StoreSample.record("Z", sortKey: "b"), StoreSample.record("B", sortKey: "b"),
                StoreSample.record("9", sortKey: "9"), StoreSample.record("10", sortKey: "10"),
                StoreSample.record("x", sortKey: "a"), StoreSample.record("y", sortKey: "B"),
            ]
            try await StoreSample.insert(records, into: store)
            let page = try await store.records(matching: RecordQuery(tenant: "acme", resource: "payouts"))
            #expect(page.records.map(\.id) == ["10", "9", "y", "x", "B", "Z", "a", "é"])
            #expect(page.total == nil)
        }
    }

    @Test(arguments: StoreKind.all)
    func offsetLimitAndTotalPage(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await StoreSample.insert((1...12).map { StoreSample.record(String($0)) }, into: store)
            func ids(offset: Int, limit: Int?, countTotal: Bool = true) async throws -> ([String], Int?) {
                let page = try await store.records(
                    matching: RecordQuery(tenant: "acme", resource: "payouts", offset: offset, limit: limit, countTotal: countTotal)
                )
                return (page.records.map(\.id), page.total)
            }
            #expect(try await ids(offset: 0, limit: 5) == (["1", "2", "3", "4", "5"], 12))
            #expect(try await ids(offset: 5, limit: 5) == (["6", "7", "8", "9", "10"], 12))
            #expect(try await ids(offset: 10, limit: 5) == (["11", "12"], 12))
            #expect(try await ids(offset: 12, limit: 5) == ([], 12))
            #expect(try await ids(offset: 500, limit: 5) == ([], 12))
            #expect(try await ids(offset: 3, limit: nil) == (["4", "5", "6", "7", "8", "9", "10", "11", "12"], 12))
            #expect(try await ids(offset: 0, limit: 0) == ([], 12))
            #expect(try await ids(offset: 0, limit: 2, countTotal: false) == (["1", "2"], nil))
            let empty = try await store.records(matching: RecordQuery(tenant: "acme", resource: "rewards", countTotal: true))
            #expect(empty == RecordPage(records: [], total: 0))
        }
    }

    @Test(arguments: StoreKind.all)
    func tagFiltersMatchSingleAndAllTagsAndRepeatedNames(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await StoreSample.insert(
                [
                    StoreSample.record("1", tags: [Tag("campaign_id", "1"), Tag("promoter_id", "10")]),
                    StoreSample.record("2", tags: [Tag("campaign_id", "1"), Tag("campaign_id", "2"), Tag("promoter_id", "20")]),
                    StoreSample.record("3", tags: [Tag("campaign_id", "2"), Tag("promoter_id", "10")]),
                    StoreSample.record("4", tags: []),
                    StoreSample.record("5", tags: [Tag("promoter_id", "10"), Tag("promoter_id", "10")]),
                ],
                into: store
            )
            func ids(_ tags: [Tag], offset: Int = 0, limit: Int? = nil) async throws -> ([String], Int?) {
                let page = try await store.records(
                    matching: RecordQuery(tenant: "acme", resource: "payouts", tags: tags, offset: offset, limit: limit, countTotal: true)
                )
                return (page.records.map(\.id), page.total)
            }
            #expect(try await ids([Tag("campaign_id", "1")]) == (["1", "2"], 2))
            #expect(try await ids([Tag("campaign_id", "2")]) == (["2", "3"], 2))
            #expect(try await ids([Tag("promoter_id", "10")]) == (["1", "3", "5"], 3))
            #expect(try await ids([Tag("campaign_id", "1"), Tag("campaign_id", "2")]) == (["2"], 1))
            #expect(try await ids([Tag("campaign_id", "2"), Tag("promoter_id", "10")]) == (["3"], 1))
            #expect(try await ids([Tag("promoter_id", "10"), Tag("campaign_id", "2")]) == (["3"], 1))
            #expect(try await ids([Tag("campaign_id", "1"), Tag("promoter_id", "30")]) == ([], 0))
            #expect(try await ids([Tag("campaign_id", "3")]) == ([], 0))
            #expect(try await ids([Tag("Campaign_id", "1")]) == ([], 0))
            #expect(try await ids([Tag("promoter_id", "10")], offset: 1, limit: 1) == (["3"], 3))
            #expect(try await ids([Tag("promoter_id", "10"), Tag("promoter_id", "10")]) == (["1", "3", "5"], 3))
        }
    }

    @Test(arguments: StoreKind.all)
    func writtenTagsReplaceTheOldOnes(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            var record = try await StoreSample.insert(
                [StoreSample.record("1", tags: [Tag("campaign_id", "1"), Tag("promoter_id", "10")])], into: store
            )[0]
            record.tags = [Tag("campaign_id", "2"), Tag("promoter_id", "10")]
            try await store.commit(StoreSample.updating(record))
            func total(_ tag: Tag) async throws -> (Int, Int?) {
                let page = try await store.records(
                    matching: RecordQuery(tenant: "acme", resource: "payouts", tags: [tag], countTotal: true)
                )
                return (page.records.count, page.total)
            }
            #expect(try await total(Tag("campaign_id", "1")) == (0, 0))
            #expect(try await total(Tag("campaign_id", "2")) == (1, 1))
            #expect(try await total(Tag("promoter_id", "10")) == (1, 1))
            #expect(try await store.record(tenant: "acme", resource: "payouts", id: "1")?.tags == record.tags)
        }
    }

    @Test(arguments: StoreKind.all)
    func changedSortKeyMovesTheRecordInEveryList(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            var stored = try await StoreSample.insert(
                (1...3).map { StoreSample.record(String($0), tags: [Tag("promoter_id", "10")]) }, into: store
            )
            stored[0].sortKey = "9999999999"
            try await store.commit(StoreSample.updating(stored[0]))
            let plain = try await store.records(matching: RecordQuery(tenant: "acme", resource: "payouts"))
            let tagged = try await store.records(
                matching: RecordQuery(tenant: "acme", resource: "payouts", tags: [Tag("promoter_id", "10")], countTotal: true)
            )
            let byStatus = try await store.records(
                matching: RecordQuery(tenant: "acme", resource: "payouts", status: "pending", countTotal: true)
            )
            #expect(plain.records.map(\.id) == ["2", "3", "1"])
            #expect(tagged.records.map(\.id) == ["2", "3", "1"])
            #expect(tagged.total == 3)
            #expect(byStatus.records.map(\.id) == ["2", "3", "1"])
            #expect(byStatus.total == 3)
        }
    }

    @Test(arguments: StoreKind.all)
    func statusFilterAloneAndWithTags(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            var stored = try await StoreSample.insert(
                [
                    StoreSample.record("1", status: "pending", tags: [Tag("promoter_id", "10")]),
                    StoreSample.record("2", status: "completed", tags: [Tag("promoter_id", "10")]),
                    StoreSample.record("3", status: "pending", tags: [Tag("promoter_id", "20")]),
                    StoreSample.record("4", status: "pending", tags: [Tag("promoter_id", "10")]),
                    StoreSample.record("5", status: nil),
                ],
                into: store
            )
            stored[3].status = "completed"
            try await store.commit(StoreSample.updating(stored[3]))
            func ids(status: String, tags: [Tag] = []) async throws -> ([String], Int?) {
                let page = try await store.records(
                    matching: RecordQuery(tenant: "acme", resource: "payouts", tags: tags, status: status, countTotal: true)
                )
                return (page.records.map(\.id), page.total)
            }
            #expect(try await ids(status: "pending") == (["1", "3"], 2))
            #expect(try await ids(status: "completed") == (["2", "4"], 2))
            #expect(try await ids(status: "processing") == ([], 0))
            #expect(try await ids(status: "Pending") == ([], 0))
            #expect(try await ids(status: "pending", tags: [Tag("promoter_id", "10")]) == (["1"], 1))
            #expect(try await ids(status: "completed", tags: [Tag("promoter_id", "10")]) == (["2", "4"], 2))
            #expect(try await ids(status: "completed", tags: [Tag("promoter_id", "20")]) == ([], 0))
            #expect(try await store.statusCounts(tenant: "acme", resource: "payouts") == ["pending": 2, "completed": 2])
            #expect(try await store.statusCounts(tenant: "acme", resource: "rewards") == [:])
            let pairs = [("acme", "rewards"), ("acme", "payouts"), ("other", "payouts"), ("ac\u{0}me", "payouts")]
                + Array(repeating: ("acme", "payouts"), count: 40)
            let batched = try await store.statusCounts(of: pairs.map { (tenant: $0.0, resource: $0.1) })
            #expect(batched == [[:], ["pending": 2, "completed": 2], [:], [:]] + Array(repeating: ["pending": 2, "completed": 2], count: 40))
            #expect(try await store.statusCounts(of: []) == [])
        }
    }

    /// Many random writes, then every kind of list checked against a plain in-memory model:
    /// pages, orders and totals must agree whatever mix of inserts, status, tag and sort key
    /// changes came before.
    @Test(arguments: StoreKind.all)
    func listsAndCountsAgreeWithAModelAfterRandomWrites(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            var random = StoreRandom(seed: 20_240_912)
            let statuses: [String?] = ["pending", "processing", "completed", nil]
            func randomTags() -> [Tag] {
                var tags: [Tag] = []
                for campaign in ["1", "2", "3"] where random.next(4) == 0 { tags.append(Tag("campaign_id", campaign)) }
                if random.next(2) == 0 { tags.append(Tag("region", random.next(2) == 0 ? "eu" : "us")) }
                if random.next(10) == 0, let first = tags.first { tags.append(first) }
                return tags
            }
            var model: [String: Record] = [:]
            for step in 0..<240 {
                if model.isEmpty || random.next(3) == 0 {
                    let id = "r\(step)"
                    let record = StoreSample.record(
                        id, status: statuses[random.next(statuses.count)], sortKey: "k\(random.next(40))", tags: randomTags()
                    )
                    model[id] = try await StoreSample.insert([record], into: store)[0]
                    continue
                }
                let ids = model.keys.sorted()
                var record = model[ids[random.next(ids.count)]]!
                switch random.next(3) {
                case 0: record.status = statuses[random.next(statuses.count)]
                case 1: record.tags = randomTags()
                default: record.sortKey = "k\(random.next(40))"
                }
                try await store.commit(StoreSample.updating(record))
                record.version += 1
                model[record.id] = record
            }
            let filters: [[Tag]] = [
                [], [Tag("campaign_id", "1")], [Tag("region", "eu")], [Tag("campaign_id", "2"), Tag("region", "us")],
                [Tag("campaign_id", "1"), Tag("campaign_id", "3")],
            ]
            for tags in filters {
                for status in statuses + [String?.none] {
                    let matching = model.values
                        .filter { record in
                            tags.allSatisfy(record.tags.contains) && (status == nil || record.status == status)
                        }
                        .sorted { $0.sortKey == $1.sortKey ? storeByteOrder($0.id, $1.id) : storeByteOrder($0.sortKey, $1.sortKey) }
                    for (offset, limit) in [(0, nil), (0, 7), (5, 3), (1000, 10)] as [(Int, Int?)] {
                        let page = try await store.records(
                            matching: RecordQuery(
                                tenant: "acme", resource: "payouts", tags: tags, status: status, offset: offset, limit: limit,
                                countTotal: true
                            )
                        )
                        let expected = Array(matching.dropFirst(offset).prefix(limit ?? Int.max))
                        #expect(page.records == expected, "tags \(tags) status \(String(describing: status)) offset \(offset)")
                        #expect(page.total == matching.count, "tags \(tags) status \(String(describing: status))")
                    }
                }
            }
            var counts: [String: Int] = [:]
            for case let status? in model.values.map(\.status) { counts[status, default: 0] += 1 }
            #expect(try await store.statusCounts(tenant: "acme", resource: "payouts") == counts)
        }
    }

    // MARK: Tenants

    @Test(arguments: StoreKind.all)
    func tenantsNeverSeeOrChangeEachOthersRows(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let soon = Timestamp.now().adding(seconds: 3600)
            for tenant in ["acme", "globex"] {
                var batch = StoreSample.inserting([
                    StoreSample.record("1", tenant: tenant, status: tenant == "acme" ? "pending" : "completed",
                                       tags: [Tag("promoter_id", "10")], data: ["owner": .string(tenant)]),
                ])
                batch.claims = [StoreSample.claim("same@example.com", for: "1", tenant: tenant, resource: "payouts")]
                batch.audit = [StoreSample.audit("1", tenant: tenant, from: nil, to: "pending", request: "req-\(tenant)")]
                batch.idempotency = [StoreSample.idempotency("k", tenant: tenant, recordID: "1", expiresAt: soon)]
                try await store.commit(batch)
            }
            let acme = try #require(try await store.record(tenant: "acme", resource: "payouts", id: "1"))
            let globex = try #require(try await store.record(tenant: "globex", resource: "payouts", id: "1"))
            #expect(acme.data["owner"] == .string("acme"))
            #expect(globex.data["owner"] == .string("globex"))
            #expect(try await store.record(tenant: "initech", resource: "payouts", id: "1") == nil)

            var changed = acme
            changed.status = "processing"
            try await store.commit(StoreSample.updating(changed))
            #expect(try await store.record(tenant: "globex", resource: "payouts", id: "1") == globex)

            var crossTenant = globex
            crossTenant.tenant = "acme"
            await #expect(throws: StoreConflict.version(resource: "payouts", id: "1")) {
                try await store.commit(StoreSample.updating(crossTenant))
            }

            for tenant in ["acme", "globex"] {
                let page = try await store.records(
                    matching: RecordQuery(tenant: tenant, resource: "payouts", tags: [Tag("promoter_id", "10")], countTotal: true)
                )
                #expect(page.records.map(\.tenant) == [tenant])
                #expect(page.total == 1)
                let held = try await store.record(
                    claimedBy: ClaimKey(tenant: tenant, resource: "payouts", name: "email", value: "same@example.com")
                )
                #expect(held?.tenant == tenant)
                #expect(try await store.auditTrail(tenant: tenant, resource: "payouts", recordID: "1").map(\.requestID) == ["req-\(tenant)"])
                #expect(try await store.idempotencyEntry(tenant: tenant, scope: "earnings", key: "k")?.tenant == tenant)
            }
            #expect(try await store.statusCounts(tenant: "acme", resource: "payouts") == ["processing": 1])
            #expect(try await store.statusCounts(tenant: "globex", resource: "payouts") == ["completed": 1])
            #expect(try await store.records(matching: RecordQuery(tenant: "initech", resource: "payouts", countTotal: true)) == RecordPage(records: [], total: 0))
            #expect(try await store.idempotencyEntry(tenant: "initech", scope: "earnings", key: "k") == nil)

            var release = WriteBatch()
            release.releases = [ClaimKey(tenant: "acme", resource: "payouts", name: "email", value: "same@example.com")]
            try await store.commit(release)
            #expect(try await store.record(claimedBy: ClaimKey(tenant: "acme", resource: "payouts", name: "email", value: "same@example.com")) == nil)
            #expect(try await store.record(claimedBy: ClaimKey(tenant: "globex", resource: "payouts", name: "email", value: "same@example.com"))?.id == "1")

            #expect(try await store.nextSequenceValue(tenant: "acme", sequence: "payouts", atLeast: 1) == 1)
            #expect(try await store.nextSequenceValue(tenant: "acme", sequence: "payouts", atLeast: 1) == 2)
            #expect(try await store.nextSequenceValue(tenant: "globex", sequence: "payouts", atLeast: 1) == 1)

            let seeded = try await store.seed(SeedData(records: [StoreSample.record("1", tenant: "acme"), StoreSample.record("2", tenant: "acme")]), tenant: "initech")
            #expect(seeded == 2)
            #expect(try await store.record(tenant: "initech", resource: "payouts", id: "1")?.tenant == "initech")
            #expect(try await store.record(tenant: "acme", resource: "payouts", id: "1")?.status == "processing")
            #expect(try await store.record(tenant: "acme", resource: "payouts", id: "2") == nil)
        }
    }

    // MARK: Claims

    @Test(arguments: StoreKind.all)
    func claimsConflictReclaimReleaseAndLookUp(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let promoters = try await StoreSample.insert(
                [StoreSample.record("1", resource: "promoters", status: nil), StoreSample.record("2", resource: "promoters", status: nil)],
                into: store
            )
            var claimFirst = WriteBatch()
            claimFirst.claims = [StoreSample.claim("a@example.com", for: "1")]
            try await store.commit(claimFirst)
            #expect(try await store.record(claimedBy: StoreSample.claimKey("a@example.com")) == promoters[0])
            #expect(try await store.record(claimedBy: StoreSample.claimKey("A@example.com")) == nil)
            #expect(try await store.record(claimedBy: StoreSample.claimKey("a@example.com", resource: "payouts")) == nil)

            // The holder claiming again (a save that keeps its email) is fine.
            var reclaim = StoreSample.updating(promoters[0])
            reclaim.claims = [StoreSample.claim("a@example.com", for: "1")]
            try await store.commit(reclaim)

            var steal = StoreSample.updating(promoters[1])
            steal.claims = [StoreSample.claim("a@example.com", for: "2")]
            await #expect(throws: StoreConflict.claim(StoreSample.claimKey("a@example.com"))) { try await store.commit(steal) }
            #expect(try await store.record(tenant: "acme", resource: "promoters", id: "2")?.version == 1)
            #expect(try await store.record(claimedBy: StoreSample.claimKey("a@example.com"))?.id == "1")

            // One batch moves the value: the release comes before the claim.
            var move = WriteBatch()
            move.releases = [StoreSample.claimKey("a@example.com")]
            move.claims = [StoreSample.claim("a@example.com", for: "2"), StoreSample.claim("b@example.com", for: "1")]
            try await store.commit(move)
            #expect(try await store.record(claimedBy: StoreSample.claimKey("a@example.com"))?.id == "2")
            #expect(try await store.record(claimedBy: StoreSample.claimKey("b@example.com"))?.id == "1")

            var release = WriteBatch()
            release.releases = [StoreSample.claimKey("b@example.com"), StoreSample.claimKey("never@example.com")]
            try await store.commit(release)
            #expect(try await store.record(claimedBy: StoreSample.claimKey("b@example.com")) == nil)

            // A claim whose record does not exist finds nothing.
            var orphan = WriteBatch()
            orphan.claims = [StoreSample.claim("ghost@example.com", for: "404")]
            try await store.commit(orphan)
            #expect(try await store.record(claimedBy: StoreSample.claimKey("ghost@example.com")) == nil)
        }
    }

    // MARK: Audit

    @Test(arguments: StoreKind.all)
    func auditTrailIsOldestFirstAndPerRecord(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            var record = StoreSample.record("1")
            var create = StoreSample.inserting([record, StoreSample.record("2")])
            let created = StoreSample.audit("1", from: nil, to: "pending", request: "r1")
            create.audit = [created, StoreSample.audit("2", from: nil, to: "pending", request: "r2")]
            try await store.commit(create)
            var expected = [created]
            record.version = 1
            for (index, (from, to)) in [("pending", "processing"), ("processing", "pending"), ("pending", "completed")].enumerated() {
                record.status = to
                var batch = StoreSample.updating(record)
                var event = StoreSample.audit("1", from: from, to: to, request: "r\(index + 3)")
                // Later events may carry an earlier clock reading (another host's clock): order is
                // the order of commits.
                event.at = StoreSample.at.adding(seconds: Int64(-index))
                batch.audit = [event]
                try await store.commit(batch)
                record.version += 1
                expected.append(event)
            }
            #expect(try await store.auditTrail(tenant: "acme", resource: "payouts", recordID: "1") == expected)
            #expect(try await store.auditTrail(tenant: "acme", resource: "payouts", recordID: "2").map(\.requestID) == ["r2"])
            #expect(try await store.auditTrail(tenant: "acme", resource: "rewards", recordID: "1") == [])
        }
    }

    // MARK: Idempotency

    @Test(arguments: StoreKind.all)
    func idempotencyKeysConflictUntilTheyExpire(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let soon = Timestamp.now().adding(seconds: 3600)
            var first = StoreSample.inserting([StoreSample.record("1", resource: "earnings")])
            let entry = StoreSample.idempotency("key-1", recordID: "1", expiresAt: soon)
            first.idempotency = [entry]
            try await store.commit(first)
            #expect(try await store.idempotencyEntry(tenant: "acme", scope: "earnings", key: "key-1") == entry)
            #expect(try await store.idempotencyEntry(tenant: "acme", scope: "referrals", key: "key-1") == nil)

            var again = StoreSample.inserting([StoreSample.record("2", resource: "earnings")])
            again.idempotency = [StoreSample.idempotency("key-1", recordID: "2", expiresAt: soon)]
            await #expect(throws: StoreConflict.idempotency(scope: "earnings", key: "key-1")) { try await store.commit(again) }
            #expect(try await store.record(tenant: "acme", resource: "earnings", id: "2") == nil)
            #expect(try await store.idempotencyEntry(tenant: "acme", scope: "earnings", key: "key-1") == entry)

            // Another scope does not share the key.
            var otherScope = WriteBatch()
            otherScope.idempotency = [StoreSample.idempotency("key-1", scope: "referrals", recordID: "9", expiresAt: soon)]
            try await store.commit(otherScope)

            // An expired entry is still returned (the caller compares), and is replaced.
            let past = Timestamp.now().adding(seconds: -5)
            var expiring = WriteBatch()
            let expired = StoreSample.idempotency("key-2", recordID: "3", expiresAt: past)
            expiring.idempotency = [expired]
            try await store.commit(expiring)
            #expect(try await store.idempotencyEntry(tenant: "acme", scope: "earnings", key: "key-2") == expired)
            var replacing = WriteBatch()
            let replacement = StoreSample.idempotency("key-2", recordID: "4", expiresAt: soon)
            replacing.idempotency = [replacement]
            try await store.commit(replacing)
            #expect(try await store.idempotencyEntry(tenant: "acme", scope: "earnings", key: "key-2") == replacement)
        }
    }

    // MARK: Sequences

    @Test(arguments: StoreKind.all)
    func sequencesAreMonotonicAndHonourAtLeast(kind: StoreKind) async throws {
        try await withStore(kind) { store async throws in
            func next(_ sequence: String = "payouts", atLeast: Int64 = 1) async throws -> Int64 {
                try await store.nextSequenceValue(tenant: "acme", sequence: sequence, atLeast: atLeast)
            }
            #expect(try await next() == 1)
            #expect(try await next() == 2)
            #expect(try await next(atLeast: 100) == 100)
            #expect(try await next() == 101)
            #expect(try await next(atLeast: 50) == 102)
            #expect(try await next("rewards", atLeast: 0) == 1)
            #expect(try await next("promoters", atLeast: 7) == 7)
            #expect(try await next() == 103)
        }
    }

    @Test(arguments: StoreKind.all)
    func concurrentSequenceCallsNeverRepeat(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let values = try await withThrowingTaskGroup(of: Int64.self) { group in
                for _ in 0..<50 {
                    group.addTask { try await store.nextSequenceValue(tenant: "acme", sequence: "payouts", atLeast: 1) }
                }
                var values: [Int64] = []
                for try await value in group { values.append(value) }
                return values
            }
            #expect(values.sorted() == Array(1...50))
        }
    }

    // MARK: Seeds

    @Test(arguments: StoreKind.all)
    func seedingAddsOnlyWhatIsMissingAndRaisesSequences(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let seed = SeedData(
                records: [
                    StoreSample.record("1", resource: "promoters", status: nil, tags: [Tag("campaign_id", "1")]),
                    StoreSample.record("2", resource: "promoters", status: nil, tags: [Tag("campaign_id", "1")]),
                    StoreSample.record("40", resource: "payouts", status: "pending"),
                ],
                claims: [StoreSample.claim("one@example.com", for: "1"), StoreSample.claim("two@example.com", for: "2")],
                sequenceFloors: ["promoters": 2, "payouts": 40]
            )
            #expect(try await store.seed(seed, tenant: "acme") == 3)
            var promoter = try #require(try await store.record(tenant: "acme", resource: "promoters", id: "1"))
            #expect(promoter.version == 1)
            #expect(try await store.record(claimedBy: StoreSample.claimKey("two@example.com"))?.id == "2")
            let campaign = try await store.records(
                matching: RecordQuery(tenant: "acme", resource: "promoters", tags: [Tag("campaign_id", "1")], countTotal: true)
            )
            #expect(campaign.total == 2)
            #expect(try await store.statusCounts(tenant: "acme", resource: "payouts") == ["pending": 1])

            // Clients change things; seeding again leaves them alone.
            promoter.data["name"] = .string("changed")
            var change = StoreSample.updating(promoter)
            change.releases = [StoreSample.claimKey("one@example.com")]
            change.claims = [StoreSample.claim("new@example.com", for: "1"), StoreSample.claim("one@example.com", for: "3")]
            try await store.commit(change)
            #expect(try await store.nextSequenceValue(tenant: "acme", sequence: "payouts", atLeast: 1) == 41)
            #expect(try await store.nextSequenceValue(tenant: "acme", sequence: "payouts", atLeast: 1) == 42)

            #expect(try await store.seed(seed, tenant: "acme") == 0)
            let after = try await store.record(tenant: "acme", resource: "promoters", id: "1")
            #expect(after?.data["name"] == .string("changed"))
            #expect(after?.version == 2)
            #expect(try await store.record(claimedBy: StoreSample.claimKey("new@example.com"))?.id == "1")
            let oneHolder = try await store.record(claimedBy: StoreSample.claimKey("one@example.com"))
            #expect(oneHolder == nil, "the value stays with record 3, which does not exist")
            #expect(try await store.nextSequenceValue(tenant: "acme", sequence: "payouts", atLeast: 1) == 43)
            #expect(try await store.nextSequenceValue(tenant: "acme", sequence: "promoters", atLeast: 1) == 3)
            let recount = try await store.records(
                matching: RecordQuery(tenant: "acme", resource: "promoters", tags: [Tag("campaign_id", "1")], countTotal: true)
            )
            #expect(recount.total == 2)

            var grown = seed
            grown.records.append(StoreSample.record("3", resource: "promoters", status: nil))
            grown.sequenceFloors = ["promoters": 3]
            #expect(try await store.seed(grown, tenant: "acme") == 1)
            #expect(try await store.nextSequenceValue(tenant: "acme", sequence: "promoters", atLeast: 1) == 4)
            #expect(try await store.record(claimedBy: StoreSample.claimKey("one@example.com"))?.id == "3")
            #expect(try await store.seed(SeedData(), tenant: "acme") == 0)
        }
    }

    // MARK: Migrations

    @Test(arguments: StoreKind.all)
    func opensEmptyThenReopensWithItsData(kind: StoreKind) async throws {
        try await withPlace(kind) { place in
            let first = try await place.open()
            #expect(try await first.records(matching: RecordQuery(tenant: "acme", resource: "payouts", countTotal: true)) == RecordPage(records: [], total: 0))
            let stored = try await StoreSample.insert([StoreSample.record("1", tags: [Tag("promoter_id", "1")])], into: first)
            #expect(try await first.nextSequenceValue(tenant: "acme", sequence: "payouts", atLeast: 1) == 1)
            try await first.close()

            let second = try await place.open()
            #expect(try await second.record(tenant: "acme", resource: "payouts", id: "1") == stored[0])
            #expect(try await second.nextSequenceValue(tenant: "acme", sequence: "payouts", atLeast: 1) == 2)
            try await second.close()

            let third = try await place.open()
            let page = try await third.records(
                matching: RecordQuery(tenant: "acme", resource: "payouts", tags: [Tag("promoter_id", "1")], countTotal: true)
            )
            #expect(page == RecordPage(records: stored, total: 1))
            try await third.close()
        }
    }

    // MARK: Concurrency

    @Test(arguments: StoreKind.all)
    func concurrentUpdatesFromOneReadVersionHaveExactlyOneWinner(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let read = try await StoreSample.insert([StoreSample.record("1")], into: store)[0]
            let outcomes = await concurrentCommits(50, on: store) { index in
                var record = read
                record.data["writer"] = .int(index)
                var batch = StoreSample.updating(record)
                batch.audit = [StoreSample.audit("1", from: "pending", to: "pending", request: "writer-\(index)")]
                return batch
            }
            let winners = outcomes.indices.filter { outcomes[$0].succeeded }
            #expect(winners.count == 1)
            #expect(outcomes.filter { $0.conflict == .version(resource: "payouts", id: "1") }.count == 49)
            let stored = try await store.record(tenant: "acme", resource: "payouts", id: "1")
            #expect(stored?.version == 2)
            #expect(stored?.data["writer"] == winners.first.map { .int($0) })
            let trail = try await store.auditTrail(tenant: "acme", resource: "payouts", recordID: "1")
            #expect(trail.map(\.requestID) == winners.map { "writer-\($0)" })
        }
    }

    @Test(arguments: StoreKind.all)
    func concurrentClaimsOfOneIdempotencyKeyHaveExactlyOneWinner(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let soon = Timestamp.now().adding(seconds: 3600)
            let outcomes = await concurrentCommits(20, on: store) { index in
                var batch = StoreSample.inserting([StoreSample.record("e\(index)", resource: "earnings")])
                batch.idempotency = [StoreSample.idempotency("same-key", recordID: "e\(index)", expiresAt: soon)]
                return batch
            }
            let winners = outcomes.indices.filter { outcomes[$0].succeeded }
            #expect(winners.count == 1)
            let others = outcomes.filter { !$0.succeeded && $0.conflict != .idempotency(scope: "earnings", key: "same-key") }
            #expect(others.count == 0, "\(others)")
            let winner = try #require(winners.first)
            #expect(try await store.idempotencyEntry(tenant: "acme", scope: "earnings", key: "same-key")?.recordID == "e\(winner)")
            let earnings = try await store.records(matching: RecordQuery(tenant: "acme", resource: "earnings", countTotal: true))
            #expect(earnings.records.map(\.id) == ["e\(winner)"])
            #expect(earnings.total == 1)
        }
    }

    @Test(arguments: StoreKind.all)
    func concurrentClaimsOfOneValueHaveExactlyOneWinner(kind: StoreKind) async throws {
        try await withStore(kind) { store async throws in
            let outcomes = await concurrentCommits(20, on: store) { index in
                var batch = StoreSample.inserting([StoreSample.record("p\(index)", resource: "promoters", status: nil)])
                batch.claims = [StoreSample.claim("taken@example.com", for: "p\(index)")]
                return batch
            }
            let winners = outcomes.indices.filter { outcomes[$0].succeeded }
            #expect(winners.count == 1)
            #expect(outcomes.filter { $0.conflict == .claim(StoreSample.claimKey("taken@example.com")) }.count == 19)
            #expect(try await store.record(claimedBy: StoreSample.claimKey("taken@example.com"))?.id == winners.first.map { "p\($0)" })
        }
    }

    /// Concurrent commits that share a transaction must still succeed or fail one by one.
    @Test(arguments: StoreKind.all)
    func concurrentIndependentCommitsEachGetTheirOwnOutcome(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let stale = try await StoreSample.insert([StoreSample.record("shared")], into: store)[0]
            var moved = stale
            moved.status = "processing"
            try await store.commit(StoreSample.updating(moved))
            let outcomes = await concurrentCommits(90, on: store) { index in
                if index % 3 == 0 {
                    var record = stale
                    record.data["writer"] = .int(index)
                    var batch = StoreSample.updating(record)
                    batch.records.append(StoreSample.record("lost-\(index)"))
                    return batch
                }
                return StoreSample.inserting([StoreSample.record("ok-\(index)", tags: [Tag("batch", "concurrent")])])
            }
            for (index, outcome) in outcomes.enumerated() {
                if index % 3 == 0 {
                    #expect(outcome.conflict == .version(resource: "payouts", id: "shared"), "commit \(index)")
                } else {
                    #expect(outcome.succeeded, "commit \(index)")
                }
            }
            let page = try await store.records(
                matching: RecordQuery(tenant: "acme", resource: "payouts", tags: [Tag("batch", "concurrent")], countTotal: true)
            )
            #expect(page.total == 60)
            #expect(Set(page.records.map(\.id)) == Set((0..<90).filter { $0 % 3 != 0 }.map { "ok-\($0)" }))
            #expect(try await store.record(tenant: "acme", resource: "payouts", id: "lost-0") == nil)
            #expect(try await store.record(tenant: "acme", resource: "payouts", id: "shared")?.version == 2)
        }
    }
}
