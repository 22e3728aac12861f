import AffiliateCore
import AffiliateStorePostgres
import PostgresTestSupport
import Testing

/// What only the PostgreSQL store has to get right: the cluster's collation, text that
/// PostgreSQL cannot hold, and the description it shows.
@Suite("PostgreSQL store", .postgresInstalled, .timeLimit(.minutes(5)))
struct PostgresStoreTests {
    /// Whatever locale the cluster has (here ICU en-US, where "a" < "B"), keys order as bytes.
    @Test func keysOrderAsBytesWhateverTheClusterCollation() async throws {
        try await withPostgresStore { cluster, database, store in
            #expect(try await cluster.psql(database: database, "SELECT 'a' < 'B'") == "t")
            let ids = ["b", "B", "a", "A", "é", "e", "Z", "_", "10", "9", "a b", "ab"]
            try await StoreSample.insert(ids.map { StoreSample.record($0, sortKey: "same") }, into: store)
            let page = try await store.records(matching: RecordQuery(tenant: "acme", resource: "payouts"))
            #expect(page.records.map(\.id) == ids.sorted(by: storeByteOrder))

            let tagged = ids.map { StoreSample.record($0, resource: "referrals", sortKey: $0, tags: [Tag("promoter_id", "5")]) }
            try await StoreSample.insert(tagged, into: store)
            let filtered = try await store.records(
                matching: RecordQuery(tenant: "acme", resource: "referrals", tags: [Tag("promoter_id", "5")], limit: 5, countTotal: true)
            )
            #expect(filtered.records.map(\.id) == Array(ids.sorted(by: storeByteOrder).prefix(5)))
            #expect(filtered.total == ids.count)
        }
    }

    /// A row whose `data` is not an object (edited by hand with `psql`) is a store failure
    /// naming the record, whether the page is decoded or copied as stored.
    @Test func aRecordWhoseDataIsNotAnObjectIsAStoreFailure() async throws {
        try await withPostgresStore { cluster, database, store in
            try await StoreSample.insert([StoreSample.record("1"), StoreSample.record("2")], into: store)
            _ = try await cluster.psql(database: database, "UPDATE records SET data = '[1]' WHERE id = '2'")
            let expected = "stored data of payouts 2 in tenant acme is not a JSON object"
            for countTotal in [false, true] {
                let query = RecordQuery(tenant: "acme", resource: "payouts", countTotal: countTotal)
                let decoded = await #expect(throws: StoreFailure.self) { try await store.records(matching: query) }
                #expect(decoded?.description == expected)
                let copied = await #expect(throws: StoreFailure.self) { try await store.recordData(matching: query) }
                #expect(copied?.description == expected)
            }
            let first = try await store.recordData(matching: RecordQuery(tenant: "acme", resource: "payouts", limit: 1))
            #expect(first.count == 1)
        }
    }

    /// PostgreSQL text has no U+0000: lookups find nothing, writes are refused with the reason,
    /// and inside JSON data it is an escape like any control character.
    @Test func nulCharacter() async throws {
        try await withPostgresStore { _, _, store in
            #expect(try await store.record(tenant: "acme", resource: "payouts", id: "1\u{0}") == nil)
            #expect(try await store.record(claimedBy: StoreSample.claimKey("a\u{0}@example.com")) == nil)
            #expect(try await store.idempotencyEntry(tenant: "acme", scope: "earnings", key: "k\u{0}") == nil)
            #expect(try await store.auditTrail(tenant: "acme", resource: "payouts", recordID: "\u{0}") == [])
            let page = try await store.records(
                matching: RecordQuery(tenant: "acme", resource: "payouts", status: "\u{0}", countTotal: true)
            )
            #expect(page == RecordPage(records: [], total: 0))

            await #expect {
                try await StoreSample.insert([StoreSample.record("1\u{0}")], into: store)
            } throws: { error in
                (error as? StoreFailure)?.description == "PostgreSQL cannot store the NUL character (U+0000) found in a record"
            }
            var claiming = StoreSample.inserting([StoreSample.record("2", resource: "promoters")])
            claiming.claims = [StoreSample.claim("a\u{0}@example.com", for: "2")]
            await #expect {
                try await store.commit(claiming)
            } throws: { error in
                (error as? StoreFailure)?.description
                    == "PostgreSQL cannot store the NUL character (U+0000) found in a unique value"
            }
            #expect(try await store.record(tenant: "acme", resource: "promoters", id: "2") == nil)

            let data: JSONObject = ["note": .string("a\u{0}b"), "n": .number("1.50")]
            let stored = try await StoreSample.insert([StoreSample.record("3", data: data)], into: store)
            #expect(try await store.record(tenant: "acme", resource: "payouts", id: "3") == stored[0])
        }
    }

    /// Seeds travel a thousand records per statement as JSON: what comes back must be exactly
    /// what went in, key order, number literals, escapes, tags and all.
    @Test func largeSeedRoundTripsExactly() async throws {
        try await withPostgresStore { _, _, store in
            let records = (1...2_500).map { index in
                StoreSample.record(
                    String(index), tenant: "elsewhere", status: index.isMultiple(of: 3) ? nil : "pending",
                    tags: [Tag("promoter_id", String(index % 7)), Tag("note", "é \"q\" \\ \u{1}"), Tag("promoter_id", String(index % 7))],
                    data: [
                        "z": .number("1.50e2"), "a": .string("\u{0}é\u{1F600}\n\"\\"), "n": .null,
                        "nested": .array([.bool(true), .object(["b": .int(index), "a": .number("-0.0")])]),
                    ]
                )
            }
            let seed = SeedData(records: records, claims: [StoreSample.claim("x@example.com", for: "1", resource: "payouts")])
            #expect(try await store.seed(seed, tenant: "acme") == 2_500)
            let page = try await store.records(matching: RecordQuery(tenant: "acme", resource: "payouts", countTotal: true))
            let expected = records.map { record in
                var record = record
                record.tenant = "acme"
                record.version = 1
                return record
            }
            #expect(page.total == 2_500)
            #expect(page.records == expected.sorted { storeByteOrder($0.sortKey, $1.sortKey) })
            #expect(try await store.record(claimedBy: StoreSample.claimKey("x@example.com", resource: "payouts"))?.id == "1")
            #expect(try await store.seed(seed, tenant: "acme") == 0)
        }
    }

    @Test func descriptionHidesThePassword() async throws {
        try await PostgresTestCluster.withDatabase(owner: PostgresTestCluster.passwordUser) { cluster, database in
            let url = cluster.url(database: database, user: PostgresTestCluster.passwordUser, password: PostgresTestCluster.password)
            let store = try await PostgresStore.open(url: url, logger: StoreTestLogger.quiet)
            #expect(store.description == "postgres://affhost_secret@127.0.0.1:\(cluster.port)/\(database)?sslmode=disable")
            try await store.close()
        }
    }
}

/// Opens a store on a new database of the shared cluster, runs `body`, closes and drops it.
func withPostgresStore<T>(
    options: PostgresStore.Options = .init(),
    _ body: (PostgresTestCluster, String, PostgresStore) async throws -> T
) async throws -> T {
    try await PostgresTestCluster.withDatabase { cluster, database in
        let store = try await PostgresStore.open(url: cluster.url(database: database), options: options, logger: StoreTestLogger.quiet)
        let result: T
        do {
            result = try await body(cluster, database, store)
        } catch {
            try? await store.close()
            throw error
        }
        try await store.close()
        return result
    }
}
