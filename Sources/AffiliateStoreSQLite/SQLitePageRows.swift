import AffiliateCore
import Foundation
import GRDB

/// What a list read makes of the rows of its page.
///
/// Every page is found the same way (driving index, offset anchors, snapshot rules); only the
/// last step differs: whole records for most callers, or just the stored `data` text for a
/// dialect that answers with it as it is (see ``Store/recordData(matching:)``).
protocol SQLitePageRows {
    associatedtype Page: Sendable
    init()
    /// Takes one row selected with ``SQLiteRecordCoding/columns(_:)``.
    mutating func append(_ row: Row) throws
    /// Called once, after the last row.
    mutating func page(total: Int?) -> Page
}

/// Rows decoded into ``Record``s.
struct SQLiteRecordRows: SQLitePageRows {
    private var records: [Record] = []

    mutating func append(_ row: Row) throws {
        records.append(try SQLiteRecordCoding.record(from: row))
    }

    mutating func page(total: Int?) -> RecordPage { RecordPage(records: records, total: total) }
}

/// The rows' `data` columns copied, as stored, into one JSON array: no decoding, no String.
struct SQLiteDataRows: SQLitePageRows {
    private var json: [UInt8] = [UInt8(ascii: "[")]
    private var count = 0

    init() {
        json.reserveCapacity(16 * 1024)
    }

    /// The text is copied as ``SQLiteRecordCoding/encodeData(_:)`` wrote it, unchecked but for
    /// its braces: a row edited by hand into something that is not an object at all is refused
    /// as the decoding read refuses it, instead of breaking the response around it.
    mutating func append(_ row: Row) throws {
        let copied = try row.withUnsafeData(atIndex: SQLiteRecordCoding.dataColumn) { data -> Bool in
            guard let data, data.first == UInt8(ascii: "{"), data.last == UInt8(ascii: "}") else { return false }
            if count > 0 { json.append(UInt8(ascii: ",")) }
            json.append(contentsOf: data)
            return true
        }
        guard copied else { throw SQLiteRecordCoding.unreadableData(row) }
        count += 1
    }

    mutating func page(total: Int?) -> RecordDataPage {
        json.append(UInt8(ascii: "]"))
        return RecordDataPage(json: json, count: count, total: total)
    }
}
