import AffiliateCore
import GRDB

/// What a `record_tally` row counts.
enum SQLiteTallyFacet: Int64 {
    /// Every record of the resource.
    case all = 0
    /// Records with the status in `status`.
    case status = 1
    /// Records carrying the tag `name` = `value`.
    case tag = 2
    /// Records carrying the tag `name` = `value` with the status in `status`.
    case tagStatus = 3
}

/// Changes to the running counts of `record_tally`, gathered in memory and written once per
/// group commit.
///
/// A write computes the counts its record leaves and enters; the group adds them up and writes
/// only what changed, once per row: thirty updates moving payouts of one campaign from
/// `pending` to `completed` change four rows by thirty, not a hundred and twenty rows by one.
struct SQLiteTallies {
    struct Key: Hashable {
        var tenant: String
        var resource: String
        var facet: SQLiteTallyFacet
        var name: String
        var value: String
        var status: String
    }

    /// What the counts see of one stored record.
    struct Image: Equatable {
        var status: String?
        /// Without repeats: a record counts once per tag.
        var tags: [Tag]
    }

    private(set) var deltas: [Key: Int64] = [:]

    /// The record left `old` (nil: it did not exist) for `new`.
    mutating func move(tenant: String, resource: String, from old: Image?, to new: Image) {
        guard old != new else { return }
        if let old { count(tenant: tenant, resource: resource, old, by: -1) }
        count(tenant: tenant, resource: resource, new, by: 1)
    }

    private mutating func count(tenant: String, resource: String, _ image: Image, by delta: Int64) {
        func add(_ facet: SQLiteTallyFacet, _ name: String, _ value: String, _ status: String) {
            let key = Key(tenant: tenant, resource: resource, facet: facet, name: name, value: value, status: status)
            deltas[key, default: 0] += delta
        }
        add(.all, "", "", "")
        if let status = image.status { add(.status, "", "", status) }
        for tag in image.tags {
            add(.tag, tag.name, tag.value, "")
            if let status = image.status { add(.tagStatus, tag.name, tag.value, status) }
        }
    }

    mutating func add(_ other: SQLiteTallies) {
        deltas.merge(other.deltas, uniquingKeysWith: +)
    }

    /// Applies the changes to `record_tally` inside the open transaction.
    func write(to db: Database) throws {
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO record_tally (tenant, resource, facet, name, value, status, count) VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (tenant, resource, facet, name, value, status) DO UPDATE SET count = count + excluded.count
                """
        )
        for (key, delta) in deltas where delta != 0 {
            try statement.execute(arguments: [
                key.tenant, key.resource, key.facet.rawValue, key.name, key.value, key.status, delta,
            ])
        }
    }
}
