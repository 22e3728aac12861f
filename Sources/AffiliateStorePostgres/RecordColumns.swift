import AffiliateCore
import PostgresNIO

/// How a ``Record`` maps to a `records` row: the ordered JSON object as text, tags as an array of
/// `["name","value"]` texts (in record order, duplicates kept) that a GIN index can match whole.
enum RecordColumns {
    /// The columns every record read selects, in this order.
    /// `amount` is `numeric`, read as its exact decimal text.
    static let names = ["id", "status", "sort_key", "version", "data", "tags", "amount::text", "amount_unit", "amount_totals_by"]
    static let list = names.joined(separator: ", ")

    typealias Row = (String, String?, String, Int64, String, [String], String?, String?, [String]?)

    static func record(tenant: String, resource: String, row: Row) throws -> Record {
        let (id, status, sortKey, version, dataText, tagTexts, amountText, unit, totalsBy) = row
        guard case .object(let data)? = try? JSONValue(parsing: dataText) else {
            throw unreadableData(tenant: tenant, resource: resource, id: id)
        }
        let tags = try self.tags(from: tagTexts, of: "\(resource) \(id) in tenant \(tenant)")
        let amount = try self.amount(amountText, unit: unit, totalsBy: totalsBy, of: "\(resource) \(id) in tenant \(tenant)")
        return Record(
            tenant: tenant, resource: resource, id: id, status: status, sortKey: sortKey, version: version,
            data: data, tags: tags, amount: amount
        )
    }

    /// The amount of the `amount`, `amount_unit` and `amount_totals_by` columns (`NULL`: none).
    static func amount(
        _ text: String?, unit: String?, totalsBy: [String]?, of record: @autoclosure () -> String
    ) throws -> Amount? {
        guard let text, let unit else { return nil }
        guard let value = Int128(text) else { throw StoreFailure("stored amount of \(record()) is not a whole number") }
        return Amount(value, unit: unit, totalsBy: totalsBy ?? [])
    }

    /// The tags of a `tags` column; `record` names the record in the error.
    static func tags(from texts: [String], of record: @autoclosure () -> String) throws -> [Tag] {
        var tags: [Tag] = []
        tags.reserveCapacity(texts.count)
        for text in texts {
            guard case .array(let pair)? = try? JSONValue(parsing: text), pair.count == 2,
                  let name = pair[0].stringValue, let value = pair[1].stringValue
            else {
                throw StoreFailure("stored tag \(text) of \(record()) is not [name, value]")
            }
            tags.append(Tag(name, value))
        }
        return tags
    }

    static func unreadableData(tenant: String, resource: String, id: String) -> StoreFailure {
        StoreFailure("stored data of \(resource) \(id) in tenant \(tenant) is not a JSON object")
    }

    static func text(of tag: Tag) -> String {
        JSONValue.array([.string(tag.name), .string(tag.value)]).serialized
    }

    static func texts(of tags: [Tag]) -> [String] { tags.map(text(of:)) }

    static func text(of data: JSONObject) -> String { JSONValue.object(data).serialized }

    /// Records as the JSON array `json_to_recordset` reads, to insert many in one statement.
    /// `data` travels as a string holding its JSON text, so its key order and number literals
    /// arrive untouched.
    static func recordSet(_ records: ArraySlice<Record>) -> String {
        JSONValue.array(
            records.map { record in
                .object([
                    "resource": .string(record.resource),
                    "id": .string(record.id),
                    "status": record.status.map(JSONValue.string) ?? .null,
                    "sort_key": .string(record.sortKey),
                    "data": .string(text(of: record.data)),
                    "tags": .array(texts(of: record.tags).map(JSONValue.string)),
                    "amount": record.amount.map { .string(String($0.value)) } ?? .null,
                    "amount_unit": record.amount.map { .string($0.unit) } ?? .null,
                    "amount_totals_by": record.amount.map { .array($0.totalsBy.map(JSONValue.string)) } ?? .null,
                ])
            }
        ).serialized
    }
}

/// PostgreSQL text cannot hold U+0000, which a Swift string (and SQLite) can. No stored value
/// contains it, so a lookup for one finds nothing without asking the server, and a write of one
/// is refused with a clear reason instead of the server's encoding error.
enum NulCharacter {
    static func isIn(_ texts: String?...) -> Bool {
        texts.contains { $0?.utf8.contains(0) ?? false }
    }

    static func isIn(_ texts: [String]) -> Bool {
        texts.contains { $0.utf8.contains(0) }
    }

    static func refuse(_ what: String) -> StoreFailure {
        StoreFailure("PostgreSQL cannot store the NUL character (U+0000) found in \(what)")
    }
}
