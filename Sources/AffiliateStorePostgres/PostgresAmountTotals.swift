import AffiliateCore
import PostgresNIO

/// The running amount totals of `record_sums` (schema version 2): per (tenant, resource, tag,
/// status, unit) how many records carry an amount and their exact `numeric` sum. They move in
/// the transaction of the record write that moves them.
enum PostgresAmountTotals {
    /// What the totals see of one stored record.
    struct Image: Equatable {
        var status: String?
        /// Without repeats: a record counts once per tag.
        var tags: [Tag]
        var amount: Amount?

        /// Only the tags the amount is totalled by count.
        init(status: String?, tags: [Tag], amount: Amount?) {
            self.status = status
            self.tags = amount?.totalled(tags) ?? []
            self.amount = amount
        }
    }

    private struct Key: Hashable, Comparable {
        var name: String
        var value: String
        var status: String
        var unit: String

        static func < (lhs: Key, rhs: Key) -> Bool {
            (lhs.name, lhs.value, lhs.status, lhs.unit) < (rhs.name, rhs.value, rhs.status, rhs.unit)
        }
    }

    /// Moves the totals of `record`, which was `old` (nil: it did not exist), in one statement.
    static func move(_ record: Record, from old: Image?, on connection: PostgresConnection, logger: Logger) async throws {
        let new = Image(status: record.status, tags: record.tags, amount: record.amount)
        guard old != new else { return }
        var deltas: [Key: (count: Int64, sum: Int128)] = [:]
        func add(_ image: Image, sign: Int64) {
            guard let amount = image.amount else { return }
            for tag in image.tags {
                let key = Key(name: tag.name, value: tag.value, status: image.status ?? "", unit: amount.unit)
                let delta = deltas[key, default: (0, 0)]
                deltas[key] = (delta.count + sign, delta.sum + Int128(sign) * amount.value)
            }
        }
        if let old { add(old, sign: -1) }
        add(new, sign: 1)
        // Rows in one order in every transaction: two writers queue instead of deadlocking.
        let changed = deltas.filter { $0.value.count != 0 || $0.value.sum != 0 }.sorted { $0.key < $1.key }
        guard !changed.isEmpty else { return }
        try await connection.query(
            """
            INSERT INTO record_sums (tenant, resource, name, value, status, unit, count, sum)
            SELECT \(record.tenant), \(record.resource), d.name, d.value, d.status, d.unit, d.count, d.sum::numeric
            FROM unnest(\(changed.map(\.key.name))::text[], \(changed.map(\.key.value))::text[],
                        \(changed.map(\.key.status))::text[], \(changed.map(\.key.unit))::text[],
                        \(changed.map(\.value.count))::int8[], \(changed.map { String($0.value.sum) })::text[])
                WITH ORDINALITY AS d(name, value, status, unit, count, sum, position)
            ORDER BY d.position
            ON CONFLICT (tenant, resource, name, value, status, unit) DO UPDATE
            SET count = record_sums.count + excluded.count, sum = record_sums.sum + excluded.sum
            """,
            logger: logger
        )
    }

    /// An `INSERT` adding the totals of the records `source` names (a table or a CTE with the
    /// columns tenant, resource, status, tags, amount, amount_unit, amount_totals_by).
    static func addingSQL(from source: String) -> String {
        """
        INSERT INTO record_sums (tenant, resource, name, value, status, unit, count, sum)
        SELECT a.tenant, a.resource, t.tag::json->>0, t.tag::json->>1, coalesce(a.status, ''), a.amount_unit,
               count(*), sum(a.amount)
        FROM \(source) a CROSS JOIN LATERAL (SELECT DISTINCT unnest(a.tags) AS tag) t
        WHERE a.amount IS NOT NULL AND a.amount_unit IS NOT NULL AND t.tag::json->>0 = ANY(a.amount_totals_by)
        GROUP BY 1, 2, 3, 4, 5, 6
        ORDER BY 3, 4, 5, 6
        ON CONFLICT (tenant, resource, name, value, status, unit) DO UPDATE
        SET count = record_sums.count + excluded.count, sum = record_sums.sum + excluded.sum
        """
    }

    /// The totals of each query, in order, in one statement.
    static func read(
        tenant: String, _ queries: [AmountTotalsQuery], on connection: PostgresConnection, logger: Logger
    ) async throws -> [[AmountTotal]] {
        guard !queries.isEmpty else { return [] }
        var totals = [[AmountTotal]](repeating: [], count: queries.count)
        if NulCharacter.isIn(tenant) || queries.contains(where: { NulCharacter.isIn($0.resource, $0.tag.name, $0.tag.value) }) {
            return totals
        }
        let rows = try await connection.query(
            """
            SELECT q.position, s.status, s.unit, s.count, s.sum::text
            FROM unnest(\(queries.map(\.resource))::text[], \(queries.map(\.tag.name))::text[],
                        \(queries.map(\.tag.value))::text[]) WITH ORDINALITY AS q(resource, name, value, position)
            JOIN record_sums s ON s.tenant = \(tenant) AND s.resource = q.resource AND s.name = q.name
                AND s.value = q.value AND s.count > 0
            ORDER BY q.position, s.status, s.unit
            """,
            logger: logger
        )
        for try await (position, status, unit, count, sumText) in rows.decode((Int64, String, String, Int64, String).self) {
            guard let sum = Int128(sumText) else { throw StoreFailure("a stored amount total \(sumText) is not a whole number") }
            totals[Int(position) - 1].append(
                AmountTotal(status: status.isEmpty ? nil : status, unit: unit, count: count, sum: sum)
            )
        }
        return totals
    }
}
