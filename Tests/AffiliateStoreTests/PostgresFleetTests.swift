import AffiliateCore
import AffiliateStorePostgres
import Synchronization
import PostgresTestSupport
import Testing

/// Two instances (two stores, two pools) on one database, as two affhost servers behind a load
/// balancer: every guarantee must hold across them, not just within one.
@Suite("PostgreSQL fleet", .postgresInstalled, .timeLimit(.minutes(5)))
struct PostgresFleetTests {
    @Test func oneWinnerPerVersionAcrossInstances() async throws {
        try await withTwoInstances { first, second in
            let stored = try await StoreSample.insert([StoreSample.record("1")], into: first)[0]
            let outcomes = await concurrentCommits(16, on: RoundRobin(first, second)) { index in
                var changed = stored
                changed.status = "status-\(index)"
                return StoreSample.updating(changed)
            }
            #expect(outcomes.filter(\.succeeded).count == 1)
            #expect(outcomes.compactMap(\.conflict).count == 15)
            #expect(outcomes.compactMap(\.conflict).allSatisfy { $0 == .version(resource: "payouts", id: "1") })
            let final = try await second.record(tenant: "acme", resource: "payouts", id: "1")
            #expect(final?.version == 2)
        }
    }

    /// Read, change, compare-and-set, retry on conflict: what the engine does. Every increment
    /// lands and the audit trail is an unbroken chain.
    @Test func noLostUpdateAcrossInstances() async throws {
        try await withTwoInstances { first, second in
            try await StoreSample.insert(
                [StoreSample.record("1", status: "0", data: ["count": .int(0)])], into: first
            )
            let perInstance = 20
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (name, store) in [("a", first), ("b", second)] {
                    for index in 0..<perInstance {
                        group.addTask { try await increment(store, request: "\(name)-\(index)") }
                    }
                }
                try await group.waitForAll()
            }
            let total = 2 * perInstance
            let final = try #require(try await first.record(tenant: "acme", resource: "payouts", id: "1"))
            #expect(final.data["count"] == .int(total))
            #expect(final.status == String(total))
            #expect(final.version == Int64(total + 1))
            let trail = try await second.auditTrail(tenant: "acme", resource: "payouts", recordID: "1")
            #expect(trail.map(\.to) == (1...total).map(String.init))
            #expect(trail.map(\.from) == (0..<total).map(String.init))
        }
    }

    @Test func uniqueClaimAcrossInstances() async throws {
        try await withTwoInstances { first, second in
            let outcomes = await concurrentCommits(12, on: RoundRobin(first, second)) { index in
                var batch = StoreSample.inserting([StoreSample.record("p\(index)", resource: "promoters")])
                batch.claims = [StoreSample.claim("same@example.com", for: "p\(index)")]
                return batch
            }
            #expect(outcomes.filter(\.succeeded).count == 1)
            #expect(outcomes.compactMap(\.conflict).allSatisfy { $0 == .claim(StoreSample.claimKey("same@example.com")) })
            let winnerIndex = outcomes.firstIndex { $0.succeeded }
            let winner = try #require(winnerIndex)
            #expect(try await second.record(claimedBy: StoreSample.claimKey("same@example.com"))?.id == "p\(winner)")
            let page = try await first.records(matching: RecordQuery(tenant: "acme", resource: "promoters", countTotal: true))
            #expect(page.total == 1)
        }
    }

    @Test func idempotencyKeyAcrossInstances() async throws {
        try await withTwoInstances { first, second in
            let expiry = Timestamp.now().adding(seconds: 3600)
            let outcomes = await concurrentCommits(12, on: RoundRobin(first, second)) { index in
                var batch = StoreSample.inserting([StoreSample.record("e\(index)", resource: "earnings")])
                batch.idempotency = [StoreSample.idempotency("key-1", recordID: "e\(index)", expiresAt: expiry)]
                return batch
            }
            #expect(outcomes.filter(\.succeeded).count == 1)
            #expect(outcomes.compactMap(\.conflict).allSatisfy { $0 == .idempotency(scope: "earnings", key: "key-1") })
            let winnerIndex = outcomes.firstIndex { $0.succeeded }
            let winner = try #require(winnerIndex)
            let entry = try await first.idempotencyEntry(tenant: "acme", scope: "earnings", key: "key-1")
            #expect(entry == StoreSample.idempotency("key-1", recordID: "e\(winner)", expiresAt: expiry))
        }
    }

    @Test func sequenceValuesUniqueAcrossInstances() async throws {
        try await withTwoInstances { first, second in
            let values = try await withThrowingTaskGroup(of: Int64.self) { group in
                for index in 0..<60 {
                    let store = index.isMultiple(of: 2) ? first : second
                    group.addTask { try await store.nextSequenceValue(tenant: "acme", sequence: "payouts", atLeast: 1) }
                }
                var values: [Int64] = []
                for try await value in group { values.append(value) }
                return values
            }
            #expect(values.sorted() == Array(1...60))
        }
    }

    @Test func seedingFromBothInstancesAddsOnce() async throws {
        try await withTwoInstances { first, second in
            let seed = SeedData(
                records: (1...20).map { StoreSample.record(String($0)) },
                claims: [StoreSample.claim("seed@example.com", for: "1", resource: "payouts")],
                sequenceFloors: ["payouts": 20]
            )
            async let fromFirst = first.seed(seed, tenant: "acme")
            async let fromSecond = second.seed(seed, tenant: "acme")
            let added = try await [fromFirst, fromSecond]
            #expect(added.sorted() == [0, 20])
            #expect(try await second.nextSequenceValue(tenant: "acme", sequence: "payouts", atLeast: 1) == 21)
            #expect(try await first.record(claimedBy: StoreSample.claimKey("seed@example.com", resource: "payouts"))?.id == "1")
        }
    }
}

/// One increment as the engine would make it: read, change, commit if unchanged, else again.
private func increment(_ store: PostgresStore, request: String) async throws {
    for _ in 0..<500 {
        let current = try #require(try await store.record(tenant: "acme", resource: "payouts", id: "1"))
        let count = current.data["count"]?.integerValue ?? 0
        var changed = current
        changed.data["count"] = .int(count + 1)
        changed.status = String(count + 1)
        var batch = StoreSample.updating(changed)
        batch.audit = [StoreSample.audit("1", from: current.status, to: String(count + 1), request: request)]
        do {
            try await store.commit(batch)
            return
        } catch is StoreConflict {
            continue
        }
    }
    Issue.record("request \(request) never won its compare-and-set")
}

/// Hands out commits to two stores in turn, so that concurrent commits come from both instances.
private struct RoundRobin: Store {
    let stores: [PostgresStore]
    let next = Counter()

    init(_ first: PostgresStore, _ second: PostgresStore) { stores = [first, second] }

    private var store: PostgresStore { stores[next.take() % stores.count] }

    var description: String { "round robin" }
    func commit(_ batch: WriteBatch) async throws { try await store.commit(batch) }
    func record(tenant: String, resource: String, id: String) async throws -> Record? {
        try await store.record(tenant: tenant, resource: resource, id: id)
    }
    func record(claimedBy claim: ClaimKey) async throws -> Record? { try await store.record(claimedBy: claim) }
    func records(matching query: RecordQuery) async throws -> RecordPage { try await store.records(matching: query) }
    func nextSequenceValue(tenant: String, sequence: String, atLeast: Int64) async throws -> Int64 {
        try await store.nextSequenceValue(tenant: tenant, sequence: sequence, atLeast: atLeast)
    }
    func seed(_ data: SeedData, tenant: String) async throws -> Int { try await store.seed(data, tenant: tenant) }
    func idempotencyEntry(tenant: String, scope: String, key: String) async throws -> IdempotencyEntry? {
        try await store.idempotencyEntry(tenant: tenant, scope: scope, key: key)
    }
    func auditTrail(tenant: String, resource: String, recordID: String) async throws -> [AuditEvent] {
        try await store.auditTrail(tenant: tenant, resource: resource, recordID: recordID)
    }
    func statusCounts(tenant: String, resource: String) async throws -> [String: Int] {
        try await store.statusCounts(tenant: tenant, resource: resource)
    }
    func amountTotals(tenant: String, _ queries: [AmountTotalsQuery]) async throws -> [[AmountTotal]] {
        try await store.amountTotals(tenant: tenant, queries)
    }
    func deriveAmounts(_ rules: [String: AmountRule]) async throws -> Int { try await store.deriveAmounts(rules) }
    func close() async throws {}
}

private final class Counter: Sendable {
    private let value = Mutex(0)
    func take() -> Int {
        value.withLock { value in
            let taken = value
            value += 1
            return taken
        }
    }
}

/// Two stores on one new database, closed afterwards.
private func withTwoInstances(_ body: (PostgresStore, PostgresStore) async throws -> Void) async throws {
    try await PostgresTestCluster.withDatabase { cluster, database in
        let url = cluster.url(database: database)
        let first = try await PostgresStore.open(url: url, logger: StoreTestLogger.quiet)
        let second = try await PostgresStore.open(url: url, logger: StoreTestLogger.quiet)
        do {
            try await body(first, second)
        } catch {
            try? await first.close()
            try? await second.close()
            throw error
        }
        try await first.close()
        try await second.close()
    }
}
