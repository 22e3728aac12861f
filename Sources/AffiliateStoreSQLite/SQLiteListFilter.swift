import AffiliateCore
import GRDB

/// The SQL that finds the records a ``RecordQuery`` matches, in list order, from one index.
///
/// The *driving* index is walked in list order; every other condition is a primary-key
/// lookup per candidate, so no sort ever runs over the matches:
/// - ``Driver/records``: `record_order`, or `record_status_order` with a status; each tag is
///   an `EXISTS` on `record_tag`.
/// - ``Driver/tag(_:)``: that tag's range of `record_tag` (which carries the sort key); the
///   other tags are `EXISTS` lookups, and a status joins the candidate's record.
///
/// The reader picks the driver with the fewest entries from the tallies, so a rare tag or a
/// rare status is walked rather than a common one.
///
/// With an anchor (see ``SQLiteListAnchors``) the walk starts just after it: a keyset condition
/// on the driving index's (sort key, id) columns, which follow its equality columns, so SQLite
/// seeks to the anchor instead of stepping from the start.
struct SQLiteListFilter {
    enum Driver: Hashable, Sendable {
        case records
        /// The query's tag at this index.
        case tag(Int)
    }

    /// `FROM ... WHERE ...`
    var from: String
    var arguments: StatementArguments
    /// The index order, in the terms of `from`.
    var order: String
    /// The columns that identify a matching record (`sort_key` and `id` among them).
    var keys: String
    /// Joins those keys, selected as `p`, to the record `r`.
    var join: String

    init(_ query: RecordQuery, driver: Driver, after anchor: SQLiteListAnchors.Anchor? = nil) {
        arguments = [query.tenant, query.resource]
        switch driver {
        case .records:
            from = "FROM record r WHERE r.tenant = ? AND r.resource = ?"
            if let status = query.status {
                from += " AND r.status = ?"
                arguments += [status]
            }
            for tag in query.tags {
                from += Self.tagLookup(sortKey: "r.sort_key", id: "r.id", scope: "r")
                arguments += [tag.name, tag.value]
            }
            if let anchor {
                from += " AND (r.sort_key, r.id) > (?, ?)"
                arguments += [anchor.sortKey, anchor.id]
            }
            order = "r.sort_key, r.id"
            keys = "r.rowid AS row, r.sort_key AS sort_key, r.id AS id"
            join = "r.rowid = p.row"
        case .tag(let index):
            let driving = query.tags[index]
            from = "FROM record_tag t"
            if query.status != nil {
                from += " CROSS JOIN record r ON r.tenant = t.tenant AND r.resource = t.resource AND r.id = t.record_id"
            }
            from += " WHERE t.tenant = ? AND t.resource = ? AND t.name = ? AND t.value = ?"
            arguments += [driving.name, driving.value]
            for (position, tag) in query.tags.enumerated() where position != index {
                from += Self.tagLookup(sortKey: "t.sort_key", id: "t.record_id", scope: "t")
                arguments += [tag.name, tag.value]
            }
            if let status = query.status {
                from += " AND r.status = ?"
                arguments += [status]
            }
            if let anchor {
                from += " AND (t.sort_key, t.record_id) > (?, ?)"
                arguments += [anchor.sortKey, anchor.id]
            }
            order = "t.sort_key, t.record_id"
            keys = "t.tenant AS tenant, t.resource AS resource, t.sort_key AS sort_key, t.record_id AS id"
            join = "r.tenant = p.tenant AND r.resource = p.resource AND r.id = p.id"
        }
    }

    /// One `record_tag` primary-key lookup: does the candidate carry the tag bound next?
    private static func tagLookup(sortKey: String, id: String, scope: String) -> String {
        " AND EXISTS (SELECT 1 FROM record_tag o WHERE o.tenant = \(scope).tenant AND o.resource = \(scope).resource"
            + " AND o.name = ? AND o.value = ? AND o.sort_key = \(sortKey) AND o.record_id = \(id))"
    }
}
