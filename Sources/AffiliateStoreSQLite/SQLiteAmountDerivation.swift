import AffiliateCore
import GRDB

/// Gives records stored before schema v3 their amounts, once (``SQLiteStore/deriveAmounts(_:)``).
enum SQLiteAmountDerivation {
    static let note = "amounts derived"

    /// Runs inside the write transaction of `writer`; a second run finds the note and does nothing.
    static func run(_ rules: [String: AmountRule], writer: inout SQLiteBatchWriter) throws -> Int {
        let db = writer.db
        guard try Int.fetchOne(db, sql: "SELECT 1 FROM store_note WHERE name = ?", arguments: [note]) == nil else {
            return 0
        }
        var given = 0
        let update = try db.cachedStatement(
            sql: "UPDATE record SET amount = ?, amount_unit = ?, amount_totals_by = ? WHERE rowid = ?"
        )
        for (resource, rule) in rules.sorted(by: { $0.key < $1.key }) {
            // Read first, then update: an update while the same table's cursor is open may
            // move rows under it.
            var found: [(rowID: Int64, record: Record, amount: Amount)] = []
            let rows = try Row.fetchCursor(
                db,
                sql: "SELECT \(SQLiteRecordCoding.columns("r")), r.rowid FROM record r WHERE r.resource = ? AND r.amount IS NULL",
                arguments: [resource]
            )
            while let row = try rows.next() {
                let record = try SQLiteRecordCoding.record(from: row)
                if let amount = rule(record) { found.append((row[SQLiteRecordCoding.columnCount], record, amount)) }
            }
            for (rowID, record, amount) in found {
                let encoded = SQLiteRecordCoding.encodeAmount(amount)
                try update.execute(arguments: [encoded.value, encoded.unit, encoded.totalsBy, rowID])
                try SQLiteAmountTotals.move(
                    tenant: record.tenant, resource: record.resource,
                    from: .init(status: record.status, tags: record.tags, amount: nil),
                    to: .init(status: record.status, tags: record.tags, amount: amount), in: db
                )
            }
            given += found.count
        }
        try db.execute(sql: "INSERT INTO store_note (name) VALUES (?)", arguments: [note])
        return given
    }
}
