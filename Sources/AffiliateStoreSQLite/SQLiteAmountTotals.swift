import AffiliateCore
import GRDB

/// The running amount totals of `record_sum` (schema v3): per (tenant, resource, tag, status,
/// unit) how many records carry an amount and their exact sum.
///
/// Unlike the counts of ``SQLiteTallies``, which a group commit adds up and writes once, a
/// record's totals move in its own savepoint: a change reads its promoter's balances back in
/// the same transaction (``SQLiteStore/change(_:)``), and they must already include it.
enum SQLiteAmountTotals {
    /// What the totals see of one stored record.
    struct Image: Equatable {
        var status: String?
        /// Only those the amount is totalled by count, once each (``Amount/totalled(_:)``).
        var tags: [Tag]
        var amount: Amount?
    }

    /// Moves the totals of a record that was `old` (nil: it did not exist) and is now `new`.
    static func move(tenant: String, resource: String, from old: Image?, to new: Image, in db: Database) throws {
        guard old != new else { return }
        if let old, let amount = old.amount {
            try add(tenant: tenant, resource: resource, status: old.status, tags: old.tags, amount: amount, sign: -1, db)
        }
        if let amount = new.amount {
            try add(tenant: tenant, resource: resource, status: new.status, tags: new.tags, amount: amount, sign: 1, db)
        }
    }

    private static func add(
        tenant: String, resource: String, status: String?, tags: [Tag], amount: Amount, sign: Int64, _ db: Database
    ) throws {
        let tags = amount.totalled(tags)
        guard !tags.isEmpty else { return }
        let value = sign < 0 ? -amount.value : amount.value
        // value = high * 2^32 + low with 0 <= low < 2^32: the sum of two lows fits easily, and
        // its carry moves into the high part in the same statement.
        let low = Int64(value & 0xFFFF_FFFF)
        let high = Int64(value >> 32)
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO record_sum (tenant, resource, name, value, status, unit, count, sum_high, sum_low)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (tenant, resource, name, value, status, unit) DO UPDATE SET
                    count = count + excluded.count,
                    sum_high = sum_high + excluded.sum_high + ((sum_low + excluded.sum_low) >> 32),
                    sum_low = (sum_low + excluded.sum_low) & 4294967295
                """
        )
        for tag in tags {
            try statement.execute(arguments: [tenant, resource, tag.name, tag.value, status ?? "", amount.unit, sign, high, low])
        }
    }

    /// The totals of each query, in order, read by the connection's current transaction.
    static func read(tenant: String, _ queries: [AmountTotalsQuery], in db: Database) throws -> [[AmountTotal]] {
        guard !queries.isEmpty else { return [] }
        let statement = try db.cachedStatement(
            sql: """
                SELECT status, unit, count, sum_high, sum_low FROM record_sum
                WHERE tenant = ? AND resource = ? AND name = ? AND value = ? AND count > 0
                ORDER BY status, unit
                """
        )
        return try queries.map { query in
            let rows = try Row.fetchCursor(
                statement, arguments: [tenant, query.resource, query.tag.name, query.tag.value]
            )
            var totals: [AmountTotal] = []
            while let row = try rows.next() {
                let status: String = row[0]
                let high: Int64 = row[3]
                let low: Int64 = row[4]
                totals.append(
                    AmountTotal(
                        status: status.isEmpty ? nil : status, unit: row[1], count: row[2],
                        sum: Int128(high) << 32 + Int128(low)
                    )
                )
            }
            return totals
        }
    }
}
