import AffiliateCore
import Testing

/// Swift Testing has a `Tag` and GRDB a `Record`; in these tests both names mean affhost's.
typealias Tag = AffiliateCore.Tag
typealias Record = AffiliateCore.Record

/// Opens a fresh store of `kind`, runs `body` with it, then closes and removes it, also when
/// `body` throws.
func withStore<T>(_ kind: StoreKind, _ body: (any Store) async throws -> T) async throws -> T {
    try await withPlace(kind) { place in
        let store = try await place.open()
        let result: T
        do {
            result = try await body(store)
        } catch {
            try? await store.close()
            throw error
        }
        try await store.close()
        return result
    }
}

/// Makes a fresh place of `kind` for a test that opens its store more than once.
func withPlace<T>(_ kind: StoreKind, _ body: (StorePlace) async throws -> T) async throws -> T {
    let place = try await kind.makePlace()
    let result: T
    do {
        result = try await body(place)
    } catch {
        try? await place.destroy()
        throw error
    }
    try await place.destroy()
    return result
}

/// Records and batches the suite writes, with data whose key order and number literals a
/// store must keep.
enum StoreSample {
    static let at = Timestamp(microseconds: 1_726_149_773_135_000)

    static func record(
        _ id: String, tenant: String = "acme", resource: String = "payouts", status: String? = "pending",
        sortKey: String? = nil, tags: [Tag] = [], data: JSONObject? = nil
    ) -> Record {
        Record(
            tenant: tenant, resource: resource, id: id, status: status,
            sortKey: sortKey ?? String(repeating: "0", count: max(0, 10 - id.utf8.count)) + id,
            data: data ?? ["id": .string(id), "amount": .number("12.50"), "meta": .object(["z": .int(1), "a": .null])],
            tags: tags
        )
    }

    static func inserting(_ records: [Record]) -> WriteBatch {
        var batch = WriteBatch()
        batch.records = records.map { var record = $0; record.version = 0; return record }
        return batch
    }

    static func updating(_ records: Record...) -> WriteBatch {
        var batch = WriteBatch()
        batch.records = records
        return batch
    }

    /// Inserts the records in one commit and returns them as stored (version 1).
    @discardableResult
    static func insert(_ records: [Record], into store: any Store) async throws -> [Record] {
        try await store.commit(inserting(records))
        return records.map { var record = $0; record.version = 1; return record }
    }

    static func audit(
        _ recordID: String, tenant: String = "acme", resource: String = "payouts", from: String?, to: String,
        request: String
    ) -> AuditEvent {
        AuditEvent(
            tenant: tenant, resource: resource, recordID: recordID, from: from, to: to, at: at, keyID: "acme-main",
            requestID: request
        )
    }

    static func idempotency(
        _ key: String, tenant: String = "acme", scope: String = "earnings", recordID: String, expiresAt: Timestamp
    ) -> IdempotencyEntry {
        IdempotencyEntry(
            tenant: tenant, scope: scope, key: key, payloadDigest: "digest-\(recordID)", recordID: recordID,
            expiresAt: expiresAt
        )
    }

    static func claim(_ value: String, for recordID: String, tenant: String = "acme", resource: String = "promoters") -> UniqueClaim {
        UniqueClaim(tenant: tenant, resource: resource, name: "email", value: value, recordID: recordID)
    }

    static func claimKey(_ value: String, tenant: String = "acme", resource: String = "promoters") -> ClaimKey {
        ClaimKey(tenant: tenant, resource: resource, name: "email", value: value)
    }
}

/// Runs `count` commits at once and returns each one's outcome, in index order.
func concurrentCommits(
    _ count: Int, on store: any Store, batch: @escaping @Sendable (Int) -> WriteBatch
) async -> [Result<Void, any Error>] {
    await withTaskGroup(of: (Int, Result<Void, any Error>).self) { group in
        for index in 0..<count {
            group.addTask {
                do {
                    try await store.commit(batch(index))
                    return (index, .success(()))
                } catch {
                    return (index, .failure(error))
                }
            }
        }
        var outcomes = [Result<Void, any Error>?](repeating: nil, count: count)
        for await (index, outcome) in group { outcomes[index] = outcome }
        return outcomes.compactMap { $0 }
    }
}

extension Result where Success == Void {
    var succeeded: Bool { if case .success = self { true } else { false } }
    var conflict: StoreConflict? { if case .failure(let error) = self { error as? StoreConflict } else { nil } }
}

/// Byte order, the order a store sorts ids and sort keys in (not Swift's `String` order).
func storeByteOrder(_ a: String, _ b: String) -> Bool {
    a.utf8.lexicographicallyPrecedes(b.utf8)
}
