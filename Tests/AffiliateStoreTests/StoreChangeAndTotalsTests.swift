import AffiliateCore
import Testing

/// ``Store/change(_:)`` and the running amount totals, run against every kind in
/// ``StoreKind/all`` on real storage.
@Suite("Store changes and amount totals", .timeLimit(.minutes(5)))
struct StoreChangeAndTotalsTests {
    /// A tenant whose payouts move freely between three words.
    static let tenant: TenantConfig = {
        let vocabulary = Vocabulary([("pending", .open), ("processing", .inProgress), ("completed", .settled)])
        return TenantConfig(
            id: "acme", name: "Acme", dialect: "test", apiKeys: [],
            statusPolicies: ["payouts": StatusPolicy(vocabulary: vocabulary)], settings: [:], campaigns: []
        )
    }()

    static func engine(_ store: any Store, request: String = "test") -> TenantEngine {
        TenantEngine(tenant: tenant, store: store, origin: ChangeOrigin(keyID: "acme-main", requestID: request))
    }

    /// Amounts totalled by both tags the tests use, or by the promoter only.
    static let byBoth = ["promoter_id", "campaign_id"]
    static let byPromoter = ["promoter_id"]

    static func payout(
        _ id: String, status: String = "pending", amount: Int128?, unit: String = "cash", totalsBy: [String] = byBoth,
        tags: [Tag]
    ) -> Record {
        var record = StoreSample.record(id, status: status, tags: tags)
        record.amount = amount.map { Amount($0, unit: unit, totalsBy: totalsBy) }
        return record
    }

    /// The totals a full recount of `records` gives for `query`, as a store reports them.
    static func recount(_ records: some Sequence<Record>, _ query: AmountTotalsQuery) -> [AmountTotal] {
        var totals: [String: AmountTotal] = [:]
        for record in records where record.resource == query.resource && record.tags.contains(query.tag) {
            guard let amount = record.amount, amount.totalsBy.contains(query.tag.name) else { continue }
            let key = "\(record.status ?? "")\u{0}\(amount.unit)"
            var total = totals[key] ?? AmountTotal(status: record.status, unit: amount.unit, count: 0, sum: 0)
            total.count += 1
            total.sum += amount.value
            totals[key] = total
        }
        return totals.values.sorted { ($0.status ?? "", $0.unit) < ($1.status ?? "", $1.unit) }
    }

    @Test(arguments: StoreKind.all)
    func totalsAgreeWithAFullRecountAfterRandomChanges(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            var random = StoreRandom(seed: 20_261_203)
            let statuses = ["pending", "processing", "completed"]
            let units = ["cash", "points"]
            func randomTags() -> [Tag] {
                var tags = [Tag("promoter_id", String(random.next(3)))]
                if random.next(2) == 0 { tags.append(Tag("campaign_id", String(random.next(2)))) }
                if random.next(8) == 0 { tags.append(tags[0]) }
                return tags
            }
            func randomAmount() -> Int128? {
                switch random.next(6) {
                case 0: nil
                // Far beyond 64 bits once summed: the totals must stay exact.
                case 1: Int128(Int64.max) - Int128(random.next(1000))
                case 2: -Int128(random.next(5000))
                default: Int128(random.next(100_000))
                }
            }
            var model: [String: Record] = [:]
            let engine = Self.engine(store)
            for step in 0..<300 {
                if model.isEmpty || random.next(4) == 0 {
                    let record = Self.payout(
                        "p\(step)", status: statuses[random.next(3)], amount: randomAmount(),
                        unit: units[random.next(2)], totalsBy: random.next(3) == 0 ? Self.byPromoter : Self.byBoth,
                        tags: randomTags()
                    )
                    model[record.id] = try await StoreSample.insert([record], into: store)[0]
                    continue
                }
                let ids = model.keys.sorted()
                var record = model[ids[random.next(ids.count)]]!
                switch random.next(5) {
                case 0:
                    record.tags = randomTags()
                    try await store.commit(StoreSample.updating(record))
                    record.version += 1
                case 1:
                    record.amount = randomAmount().map {
                        Amount($0, unit: units[random.next(2)], totalsBy: random.next(3) == 0 ? Self.byPromoter : Self.byBoth)
                    }
                    try await store.commit(StoreSample.updating(record))
                    record.version += 1
                case 2:
                    // Refused by the plan: nothing moves.
                    let refused = await #expect(throws: ChangeRefused.self) {
                        _ = try await store.change(
                            RecordChange<Int>(tenant: "acme", resource: "payouts", id: record.id) { stored in
                                var batch = WriteBatch()
                                var moved = try #require(stored)
                                moved.status = "completed"
                                moved.amount = Amount(1, unit: "cash", totalsBy: Self.byBoth)
                                batch.records = [moved]
                                throw ChangeRefused(StoreFailure("refused on purpose"))
                            }
                        )
                    }
                    #expect(refused != nil)
                default:
                    let word = statuses[random.next(3)]
                    let outcome = try await engine.change("payouts", id: record.id) { stored, tx in
                        var changed = try #require(stored)
                        if try tx.setStatus(of: &changed, to: word) != nil { tx.update(changed) }
                        let tag = changed.tags[0]
                        return (changed, ReadBack(records: [("payouts", changed.id)], totals: [AmountTotalsQuery("payouts", tag: tag)]))
                    }
                    if outcome.value.status != record.status { record.version += 1 }
                    record.status = word
                    #expect(outcome.related.records[0] == record, "the read-back is what the commit wrote")
                    model[record.id] = record
                    let query = AmountTotalsQuery("payouts", tag: record.tags[0])
                    #expect(outcome.related.totals == [Self.recount(model.values, query)], "read back at step \(step)")
                }
                model[record.id] = record
            }
            var queries: [AmountTotalsQuery] = []
            for promoter in 0..<3 { queries.append(AmountTotalsQuery("payouts", tag: Tag("promoter_id", String(promoter)))) }
            for campaign in 0..<2 { queries.append(AmountTotalsQuery("payouts", tag: Tag("campaign_id", String(campaign)))) }
            queries.append(AmountTotalsQuery("payouts", tag: Tag("promoter_id", "nobody")))
            queries.append(AmountTotalsQuery("rewards", tag: Tag("promoter_id", "0")))
            let expected = queries.map { Self.recount(model.values, $0) }
            #expect(try await store.amountTotals(tenant: "acme", queries) == expected)
            let together = try await store.records(tenant: "acme", ids: [("payouts", "p0")], pages: [], totals: queries)
            #expect(together.totals == expected)
            #expect(try await store.amountTotals(tenant: "other", queries).allSatisfy(\.isEmpty), "totals are per tenant")
            // Every record stored with the amount it was given.
            for record in model.values {
                #expect(try await store.record(tenant: "acme", resource: "payouts", id: record.id)?.amount == record.amount)
            }
        }
    }

    @Test(arguments: StoreKind.all)
    func aRefusedChangeLeavesNoTrace(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let tag = Tag("promoter_id", "7")
            let stored = try await StoreSample.insert([Self.payout("1", amount: 250, tags: [tag])], into: store)[0]
            let totals = try await store.amountTotals(tenant: "acme", [AmountTotalsQuery("payouts", tag: tag)])
            let engine = Self.engine(store)
            struct Refusal: Error {}
            await #expect(throws: Refusal.self) {
                _ = try await engine.change("payouts", id: "1") { stored, tx -> (value: Int, readBack: ReadBack) in
                    var record = try #require(stored)
                    _ = try tx.setStatus(of: &record, to: "completed")
                    tx.update(record)
                    throw Refusal()
                }
            }
            // A word outside the vocabulary is the engine's own refusal.
            await #expect(throws: EngineError.self) {
                _ = try await engine.change("payouts", id: "1") { stored, tx -> (value: Int, readBack: ReadBack) in
                    var record = try #require(stored)
                    _ = try tx.setStatus(of: &record, to: "teleported")
                    tx.update(record)
                    return (0, .none)
                }
            }
            #expect(try await store.record(tenant: "acme", resource: "payouts", id: "1") == stored)
            #expect(try await store.auditTrail(tenant: "acme", resource: "payouts", recordID: "1").isEmpty)
            #expect(try await store.amountTotals(tenant: "acme", [AmountTotalsQuery("payouts", tag: tag)]) == totals)
            #expect(try await store.statusCounts(tenant: "acme", resource: "payouts") == ["pending": 1])
            // Another tenant's record is not there for this one's change.
            let foreign = try await Self.engine(store).change("payouts", id: "1") { stored, _ in (stored == nil, ReadBack.none) }
            #expect(foreign.value == false)
            let otherTenant = TenantEngine(
                tenant: TenantConfig(
                    id: "globex", name: "Globex", dialect: "test", apiKeys: [],
                    statusPolicies: Self.tenant.statusPolicies, settings: [:], campaigns: []
                ),
                store: store, origin: ChangeOrigin(keyID: "globex-main", requestID: "probe")
            )
            let missing = try await otherTenant.change("payouts", id: "1") { stored, _ in (stored == nil, ReadBack.none) }
            #expect(missing.value == true)
        }
    }

    /// 64 writers change one record at once: every change lands, in some order, each with its
    /// audit event, and no update is lost.
    @Test(arguments: StoreKind.all)
    func concurrentChangesOfOneRecordLoseNoUpdate(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let tag = Tag("promoter_id", "1")
            try await StoreSample.insert([Self.payout("hot", amount: 100, tags: [tag])], into: store)
            let writers = 64
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<writers {
                    group.addTask {
                        let engine = Self.engine(store, request: "writer-\(writer)")
                        _ = try await engine.change("payouts", id: "hot") { stored, tx in
                            var record = try #require(stored)
                            let count = record.data["count"]?.integerValue ?? 0
                            record.data["count"] = .int(count + 1)
                            // Alternate the word so that each change is a real move.
                            _ = try tx.setStatus(of: &record, to: record.status == "pending" ? "completed" : "pending")
                            tx.update(record)
                            return (count, ReadBack.none)
                        }
                    }
                }
                try await group.waitForAll()
            }
            let stored = try #require(try await store.record(tenant: "acme", resource: "payouts", id: "hot"))
            #expect(stored.data["count"] == .int(Int64(writers)))
            #expect(stored.version == Int64(writers) + 1)
            let trail = try await store.auditTrail(tenant: "acme", resource: "payouts", recordID: "hot")
            #expect(trail.count == writers)
            #expect(Set(trail.map(\.requestID)).count == writers)
            for (previous, next) in zip(trail, trail.dropFirst()) { #expect(next.from == previous.to) }
            #expect(try await store.amountTotals(tenant: "acme", [AmountTotalsQuery("payouts", tag: tag)]) == [
                [AmountTotal(status: stored.status, unit: "cash", count: 1, sum: 100)]
            ])
        }
    }

    @Test(arguments: StoreKind.all)
    func derivingAmountsGivesOlderRecordsTheirsOnce(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let tag = Tag("promoter_id", "7")
            // Records as a store written before amounts were kept holds them: the figure only in `data`.
            var older: [Record] = []
            for (index, amount) in [250, 5, 40].enumerated() {
                var record = StoreSample.record("o\(index)", status: index == 1 ? "completed" : "pending", tags: [tag])
                record.data["cents"] = .int(Int64(amount))
                older.append(record)
            }
            older.append(StoreSample.record("no-amount", tags: [tag]))
            try await StoreSample.insert(older, into: store)
            let rule: AmountRule = { record in
                record.data["cents"]?.integerValue.map { Amount(Int128($0), unit: "cash", totalsBy: Self.byPromoter) }
            }
            #expect(try await store.deriveAmounts(["payouts": rule]) == 3)
            let query = AmountTotalsQuery("payouts", tag: tag)
            let expected = [
                AmountTotal(status: "completed", unit: "cash", count: 1, sum: 5),
                AmountTotal(status: "pending", unit: "cash", count: 2, sum: 290),
            ]
            #expect(try await store.amountTotals(tenant: "acme", [query]) == [expected])
            #expect(try await store.record(tenant: "acme", resource: "payouts", id: "o0")?.amount == Amount(250, unit: "cash", totalsBy: Self.byPromoter))
            // Once only: a record written later without an amount is left as it is.
            try await StoreSample.insert([{ var r = StoreSample.record("later", tags: [tag]); r.data["cents"] = .int(1); return r }()], into: store)
            #expect(try await store.deriveAmounts(["payouts": rule]) == 0)
            #expect(try await store.amountTotals(tenant: "acme", [query]) == [expected])
        }
    }
}
