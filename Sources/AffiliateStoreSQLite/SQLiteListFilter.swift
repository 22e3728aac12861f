import AffiliateCore
import GRDB

/// The SQL that finds the records a ``RecordQuery`` matches, in list order, from an index.
///
/// - No tags: `record_order` (or `record_status_order` with a status).
/// - Tags: the first tag's range of `record_tag`, already in list order; every other tag is
///   one primary-key lookup (`EXISTS`). Without a status the records are not touched at all
///   while filtering; with one, each candidate is joined to read its status.
struct SQLiteListFilter {
    /// `FROM ... WHERE ...`
    var from: String
    var arguments: StatementArguments
    /// The index order, in the terms of `from`.
    var order: String
    /// The columns that identify a matching record (`sort_key` and `id` among them).
    var keys: String
    /// Joins those keys, selected as `p`, to the record `r`.
    var join: String

    init(_ query: RecordQuery) {
        arguments = [query.tenant, query.resource]
        guard let first = query.tags.first else {
            from = "FROM record r WHERE r.tenant = ? AND r.resource = ?"
            if let status = query.status {
                from += " AND r.status = ?"
                arguments += [status]
            }
            order = "r.sort_key, r.id"
            keys = "r.rowid AS row, r.sort_key AS sort_key, r.id AS id"
            join = "r.rowid = p.row"
            return
        }
        from = "FROM record_tag t"
        if query.status != nil {
            from += " CROSS JOIN record r ON r.tenant = t.tenant AND r.resource = t.resource AND r.id = t.record_id"
        }
        from += " WHERE t.tenant = ? AND t.resource = ? AND t.name = ? AND t.value = ?"
        arguments += [first.name, first.value]
        for tag in query.tags.dropFirst() {
            from += """
                 AND EXISTS (SELECT 1 FROM record_tag o WHERE o.tenant = t.tenant AND o.resource = t.resource \
                AND o.name = ? AND o.value = ? AND o.sort_key = t.sort_key AND o.record_id = t.record_id)
                """
            arguments += [tag.name, tag.value]
        }
        if let status = query.status {
            from += " AND r.status = ?"
            arguments += [status]
        }
        order = "t.sort_key, t.record_id"
        keys = "t.tenant AS tenant, t.resource AS resource, t.sort_key AS sort_key, t.record_id AS id"
        join = "r.tenant = p.tenant AND r.resource = p.resource AND r.id = p.id"
    }
}
