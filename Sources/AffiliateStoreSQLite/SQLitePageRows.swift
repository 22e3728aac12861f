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
    private var builder = RecordDataPage.Builder()

    mutating func append(_ row: Row) throws {
        let copied = try row.withUnsafeData(atIndex: SQLiteRecordCoding.dataColumn) { data in
            data.map { builder.append(stored: $0) } ?? false
        }
        guard copied else { throw SQLiteRecordCoding.unreadableData(row) }
    }

    mutating func page(total: Int?) -> RecordDataPage { builder.finish(total: total) }
}
