/// Everything the engine asks of persistent storage.
///
/// Writes go through ``commit(_:)`` as one atomic ``WriteBatch`` guarded by record versions
/// (compare-and-set) rather than through long-lived transactions: the same contract holds for an
/// embedded SQLite file and for several instances sharing PostgreSQL, and it lets a store group
/// concurrent commits into one durable transaction.
public protocol Store: Sendable {
    /// A short description for status output (`sqlite:data/affhost.sqlite`), never a password.
    var description: String { get }

    func record(tenant: String, resource: String, id: String) async throws -> Record?
    /// The live record holding a unique value, if any.
    func record(claimedBy claim: ClaimKey) async throws -> Record?
    func records(matching query: RecordQuery) async throws -> RecordPage
    /// The same page as each record's `data` object, written as one JSON array.
    ///
    /// A dialect whose stored object is its response (Vantio) only needs that text, and a
    /// store that keeps `data` as JSON text hands it over without decoding: parsing and
    /// re-writing fifty objects was a third of a list page's CPU. The default writes the
    /// decoded page.
    func recordData(matching query: RecordQuery) async throws -> RecordDataPage
    /// The records with these ids and the pages of these queries, in order, from one call.
    ///
    /// A response that nests related records (a payout with its promoter and the promoter's
    /// balances) needs several reads; each store call is a round trip to a connection, and
    /// those round trips, not the SQL, were most of such a response's cost. SQLite answers all
    /// of them in one read transaction, so they also agree with each other; the default asks
    /// for each in turn.
    /// The amount totals of `totals` come from the same call (``AmountTotal``): running totals,
    /// a few rows each, however many records they sum.
    func records(
        tenant: String, ids: [(resource: String, id: String)], pages: [RecordQuery], totals: [AmountTotalsQuery]
    ) async throws -> RelatedRecords

    /// The running amount totals of each query, in order.
    func amountTotals(tenant: String, _ queries: [AmountTotalsQuery]) async throws -> [[AmountTotal]]

    /// Applies the batch atomically and durably, or throws ``StoreConflict`` and applies nothing.
    func commit(_ batch: WriteBatch) async throws

    /// Reads one record, lets the change plan its writes on it, commits them and reads back
    /// what the plan names, as one trip to the store where it can.
    ///
    /// SQLite runs all of it inside its serialised write transaction: the plan sees the record
    /// as no other write can change it before the commit, so no version race is lost, and what
    /// is read back is exactly what the commit wrote. The default reads, commits (a lost race
    /// throws ``StoreConflict`` and the engine runs the plan again) and reads back in turn.
    /// An error the plan throws reaches the caller unchanged and nothing is written.
    func change<T: Sendable>(_ change: RecordChange<T>) async throws -> ChangeOutcome<T>

    /// Gives every stored record that has no amount yet the one `rules` (by resource name)
    /// finds in it, and builds the running totals from them: once, for stores written before
    /// amounts were kept. Returns how many records it gave an amount; later calls find none.
    func deriveAmounts(_ rules: [String: AmountRule]) async throws -> Int

    /// A number strictly greater than every number this sequence gave before, and at least
    /// `atLeast`: ids unique across instances without reading the table.
    func nextSequenceValue(tenant: String, sequence: String, atLeast: Int64) async throws -> Int64

    /// Inserts the seed's records and claims that are not stored yet (existing ids are left
    /// untouched) and raises its sequences, in one transaction. Returns how many records it added.
    func seed(_ data: SeedData, tenant: String) async throws -> Int

    func idempotencyEntry(tenant: String, scope: String, key: String) async throws -> IdempotencyEntry?

    /// The audit trail of one record, oldest first.
    func auditTrail(tenant: String, resource: String, recordID: String) async throws -> [AuditEvent]

    /// How many records of a resource use each status word (to refuse vocabularies that would
    /// orphan stored records).
    func statusCounts(tenant: String, resource: String) async throws -> [String: Int]

    /// The same for each (tenant, resource), in order: a reload that adds 900 tenants checks
    /// 1,800 of them. SQLite answers all in one read transaction and PostgreSQL in one query;
    /// the default asks one after another.
    func statusCounts(of pairs: [(tenant: String, resource: String)]) async throws -> [[String: Int]]

    func close() async throws
}

extension Store {
    public func records(
        tenant: String, ids: [(resource: String, id: String)], pages: [RecordQuery]
    ) async throws -> (records: [Record?], pages: [RecordPage]) {
        let found = try await records(tenant: tenant, ids: ids, pages: pages, totals: [])
        return (found.records, found.pages)
    }

    /// Asks for each in turn.
    public func records(
        tenant: String, ids: [(resource: String, id: String)], pages: [RecordQuery], totals: [AmountTotalsQuery]
    ) async throws -> RelatedRecords {
        var records: [Record?] = []
        for key in ids { records.append(try await record(tenant: tenant, resource: key.resource, id: key.id)) }
        var found: [RecordPage] = []
        for query in pages { found.append(try await self.records(matching: query)) }
        let sums = totals.isEmpty ? [] : try await amountTotals(tenant: tenant, totals)
        return RelatedRecords(records: records, pages: found, totals: sums)
    }

    public func change<T: Sendable>(_ change: RecordChange<T>) async throws -> ChangeOutcome<T> {
        let stored = try await record(tenant: change.tenant, resource: change.resource, id: change.id)
        let plan = try change.plan(stored)
        try await commit(plan.batch)
        let readBack = plan.readBack
        guard !readBack.isEmpty else { return ChangeOutcome(value: plan.value, related: .empty) }
        let related = try await records(tenant: change.tenant, ids: readBack.records, pages: [], totals: readBack.totals)
        return ChangeOutcome(value: plan.value, related: related)
    }

    public func recordData(matching query: RecordQuery) async throws -> RecordDataPage {
        RecordDataPage(try await records(matching: query))
    }

    public func statusCounts(of pairs: [(tenant: String, resource: String)]) async throws -> [[String: Int]] {
        var counts: [[String: Int]] = []
        for pair in pairs { counts.append(try await statusCounts(tenant: pair.tenant, resource: pair.resource)) }
        return counts
    }
}

/// What ``Store/records(tenant:ids:pages:totals:)`` found, in the order asked.
public struct RelatedRecords: Sendable {
    public var records: [Record?]
    public var pages: [RecordPage]
    public var totals: [[AmountTotal]]

    public init(records: [Record?], pages: [RecordPage], totals: [[AmountTotal]]) {
        self.records = records
        self.pages = pages
        self.totals = totals
    }

    public static let empty = RelatedRecords(records: [], pages: [], totals: [])
}

/// One record's change as ``Store/change(_:)`` runs it.
public struct RecordChange<T: Sendable>: Sendable {
    public var tenant: String
    public var resource: String
    public var id: String
    /// Given the record as stored (`nil`: none), what to write and what to read back after.
    /// On SQLite it runs on the writer connection, so it must be quick and never wait.
    public var plan: @Sendable (Record?) throws -> PlannedChange<T>
    /// The record is contended (earlier attempts lost their races): a store that checks
    /// versions optimistically holds the record for the whole change instead, so that this
    /// attempt cannot lose again (PostgreSQL reads it `FOR UPDATE`). Stores that serialise
    /// every change anyway (SQLite) need not look at it.
    public var holdsRecord = false

    public init(tenant: String, resource: String, id: String, plan: @escaping @Sendable (Record?) throws -> PlannedChange<T>) {
        self.tenant = tenant
        self.resource = resource
        self.id = id
        self.plan = plan
    }
}

public struct PlannedChange<T: Sendable>: Sendable {
    /// Empty when nothing changes (a status set to the one the record has).
    public var batch: WriteBatch
    public var readBack: ReadBack
    public var value: T

    public init(batch: WriteBatch, readBack: ReadBack, value: T) {
        self.batch = batch
        self.readBack = readBack
        self.value = value
    }
}

/// What a response nests beside a changed record, read in the same trip as the change.
public struct ReadBack: Sendable {
    public var records: [(resource: String, id: String)]
    public var totals: [AmountTotalsQuery]

    public init(records: [(resource: String, id: String)] = [], totals: [AmountTotalsQuery] = []) {
        self.records = records
        self.totals = totals
    }

    public static let none = ReadBack()
    public var isEmpty: Bool { records.isEmpty && totals.isEmpty }
}

public struct ChangeOutcome<T: Sendable>: Sendable {
    public var value: T
    /// What the plan's ``ReadBack`` named, as the commit left it.
    public var related: RelatedRecords

    public init(value: T, related: RelatedRecords) {
        self.value = value
        self.related = related
    }
}

/// An error a change's plan threw, carried through the store unchanged (see ``Store/change(_:)``).
public struct ChangeRefused: Error, Sendable {
    public let error: any Error
    public init(_ error: any Error) { self.error = error }
}

public struct ClaimKey: Sendable, Hashable {
    public var tenant: String
    public var resource: String
    public var name: String
    public var value: String
    public init(tenant: String, resource: String, name: String, value: String) {
        self.tenant = tenant
        self.resource = resource
        self.name = name
        self.value = value
    }
}

public struct RecordQuery: Sendable, Hashable {
    public var tenant: String
    public var resource: String
    /// Every tag must match (AND).
    public var tags: [Tag]
    public var status: String?
    public var offset: Int
    /// `nil`: every matching record.
    public var limit: Int?
    /// Whether to count all matches (costs a second query; only some dialects need it).
    public var countTotal: Bool

    public init(
        tenant: String, resource: String, tags: [Tag] = [], status: String? = nil, offset: Int = 0,
        limit: Int? = nil, countTotal: Bool = false
    ) {
        self.tenant = tenant
        self.resource = resource
        self.tags = tags
        self.status = status
        self.offset = offset
        self.limit = limit
        self.countTotal = countTotal
    }
}

public struct RecordPage: Sendable, Hashable {
    public var records: [Record]
    /// Set when the query asked for it.
    public var total: Int?
    public init(records: [Record], total: Int? = nil) {
        self.records = records
        self.total = total
    }
}

/// A page of records as their `data` objects in one compact JSON array, `[{...},{...}]`,
/// in list order (see ``Store/recordData(matching:)``).
public struct RecordDataPage: Sendable, Hashable, CustomStringConvertible {
    /// UTF-8 JSON text.
    public var json: [UInt8]
    /// How many objects `json` holds.
    public var count: Int
    /// Set when the query asked for it.
    public var total: Int?

    public init(json: [UInt8], count: Int, total: Int? = nil) {
        self.json = json
        self.count = count
        self.total = total
    }

    /// The decoded page written out.
    public init(_ page: RecordPage) {
        var builder = Builder(capacity: 2 + page.records.count * 512)
        for record in page.records { builder.append(record.data) }
        self = builder.finish(total: page.total)
    }

    /// Joins objects into a page one at a time, as a store reads them.
    public struct Builder {
        private var json: [UInt8] = [UInt8(ascii: "[")]
        private var count = 0

        public init(capacity: Int = 16 * 1024) { json.reserveCapacity(capacity) }

        /// Appends a stored object's text as it is, unchecked but for its braces: a text that is
        /// not an object at all (a row edited by hand) is refused (`false`, nothing appended)
        /// instead of breaking the page around it.
        public mutating func append(stored text: some BidirectionalCollection<UInt8>) -> Bool {
            guard text.first == UInt8(ascii: "{"), text.last == UInt8(ascii: "}") else { return false }
            separate()
            json.append(contentsOf: text)
            return true
        }

        public mutating func append(_ object: JSONObject) {
            separate()
            JSONValue.object(object).write(into: &json)
        }

        private mutating func separate() {
            if count > 0 { json.append(UInt8(ascii: ",")) }
            count += 1
        }

        /// Call once, after the last object.
        public mutating func finish(total: Int?) -> RecordDataPage {
            json.append(UInt8(ascii: "]"))
            return RecordDataPage(json: json, count: count, total: total)
        }
    }

    public var description: String {
        "\(count) objects\(total.map { " of \($0)" } ?? ""): \(String(decoding: json, as: UTF8.self))"
    }
}

/// One atomic write: records with their expected versions, unique claims, audit events and
/// idempotency keys. The store applies all of it or none of it.
public struct WriteBatch: Sendable, Hashable {
    /// Each record's `version` is the version the writer read (0: must not exist yet).
    public var records: [Record] = []
    public var claims: [UniqueClaim] = []
    public var releases: [ClaimKey] = []
    public var audit: [AuditEvent] = []
    /// Inserted; an existing unexpired entry for the same key is a conflict.
    public var idempotency: [IdempotencyEntry] = []
    /// Outbox rows: each is rendered and written, with one delivery per endpoint it names, in
    /// the same commit as the records (webhooks.md §5.1).
    public var webhookEvents: [WebhookEventDraft] = []

    public init() {}
    public var isEmpty: Bool {
        records.isEmpty && claims.isEmpty && releases.isEmpty && audit.isEmpty && idempotency.isEmpty
            && webhookEvents.isEmpty
    }

    /// Batches compare by what they write; an event draft's rendering closures are left out
    /// (see ``WebhookEventDraft``'s `==`).
    public static func == (lhs: WriteBatch, rhs: WriteBatch) -> Bool {
        lhs.records == rhs.records && lhs.claims == rhs.claims && lhs.releases == rhs.releases
            && lhs.audit == rhs.audit && lhs.idempotency == rhs.idempotency && lhs.webhookEvents == rhs.webhookEvents
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(records)
        hasher.combine(audit)
    }
}

/// Why a batch was refused; nothing of it was applied.
public enum StoreConflict: Error, Sendable, Hashable {
    /// Another writer changed (or created) the record since it was read.
    case version(resource: String, id: String)
    /// The unique value is held by another record.
    case claim(ClaimKey)
    /// The idempotency key is already remembered.
    case idempotency(scope: String, key: String)
}

/// The store could not do its job (unreachable, disk full, schema newer than this binary).
public struct StoreFailure: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
