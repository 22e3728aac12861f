import AffiliateCore
import GRDB

/// GRDB exports a `Record` class too; in this module `Record` is always affhost's.
typealias Record = AffiliateCore.Record

/// How a ``Record`` lies in a `record` row.
///
/// `data` and `tags` are stored as compact JSON text: the record comes back exactly as written
/// (key order, number literals, repeated tag names), and an operator can still read the file
/// with the `sqlite3` shell.
enum SQLiteRecordCoding {
    /// The selected columns, in the order ``record(from:)`` reads them.
    static func columns(_ alias: String) -> String {
        ["tenant", "resource", "id", "status", "sort_key", "version", "data", "tags", "amount", "amount_unit", "amount_totals_by"]
            .map { "\(alias).\($0)" }
            .joined(separator: ", ")
    }

    /// Where `data` is among those columns.
    static let dataColumn = 6

    static func record(from row: Row) throws -> Record {
        let dataText: String = row[dataColumn]
        let tagsText: String = row[7]
        guard case .object(let data)? = try? JSONValue(parsing: dataText) else { throw unreadableData(row) }
        guard let tags = decodeTags(tagsText) else {
            throw StoreFailure("stored record \(row[1] as String)/\(row[2] as String) has unreadable tags")
        }
        return Record(
            tenant: row[0], resource: row[1], id: row[2], status: row[3], sortKey: row[4], version: row[5],
            data: data, tags: tags, amount: try amount(row[8], unit: row[9], totalsBy: row[10], of: row)
        )
    }

    /// Where the columns after ``columns(_:)``'s start (a row's `rowid`, when selected).
    static let columnCount = 11

    /// The record's amount from its three columns (all `NULL`: none).
    static func amount(_ text: String?, unit: String?, totalsBy: String?, of row: Row) throws -> Amount? {
        guard let text, let unit else { return nil }
        guard let value = Int128(text),
            case .array(let names)? = try? JSONValue(parsing: totalsBy ?? "[]"),
            case let tagNames = names.compactMap(\.stringValue), tagNames.count == names.count
        else {
            throw StoreFailure("stored record \(row[1] as String)/\(row[2] as String) has an unreadable amount")
        }
        return Amount(value, unit: unit, totalsBy: tagNames)
    }

    static func encodeAmount(_ amount: Amount?) -> (value: String?, unit: String?, totalsBy: String?) {
        guard let amount else { return (nil, nil, nil) }
        return (String(amount.value), amount.unit, JSONValue.array(amount.totalsBy.map(JSONValue.string)).serialized)
    }

    static func unreadableData(_ row: Row) -> StoreFailure {
        StoreFailure("stored record \(row[1] as String)/\(row[2] as String) has unreadable data")
    }

    static func encodeData(_ data: JSONObject) -> String {
        JSONValue.object(data).serialized
    }

    /// `[["campaign_id","15161"],["promoter_id","7"]]`, in the record's own order.
    static func encodeTags(_ tags: [Tag]) -> String {
        JSONValue.array(tags.map { .array([.string($0.name), .string($0.value)]) }).serialized
    }

    static func decodeTags(_ text: String) -> [Tag]? {
        guard case .array(let items)? = try? JSONValue(parsing: text) else { return nil }
        var tags: [Tag] = []
        tags.reserveCapacity(items.count)
        for item in items {
            guard case .array(let pair) = item, pair.count == 2,
                  let name = pair[0].stringValue, let value = pair[1].stringValue
            else { return nil }
            tags.append(Tag(name, value))
        }
        return tags
    }
}
