/// One stored record of any resource of any dialect.
///
/// The engine owns `status`, `version`, ordering and indexing; the dialect owns `data`, an
/// ordered JSON object in whatever shape it renders. That split is what lets a new dialect
/// arrive without a schema change: it only chooses resource names, tags and sort keys.
public struct Record: Sendable, Hashable {
    public var tenant: String
    public var resource: String
    public var id: String
    /// The status word, for resources that have one.
    public var status: String?
    /// Ascending list order within the resource (zero-padded integer ids, or time + id).
    public var sortKey: String
    /// Optimistic-concurrency version: 0 for a record not yet stored; each write adds one.
    public var version: Int64
    public var data: JSONObject
    /// Exact-match attributes that lists can filter on (`promoter_id`, `program_id`, ...).
    /// A name may appear several times (a promoter in several campaigns).
    public var tags: [Tag]
    /// The quantity the store keeps running totals of, per status, unit and tag (see ``Amount``).
    /// The dialect sets it beside the same figure in `data`.
    public var amount: Amount?

    public init(
        tenant: String, resource: String, id: String, status: String? = nil, sortKey: String,
        version: Int64 = 0, data: JSONObject, tags: [Tag] = [], amount: Amount? = nil
    ) {
        self.tenant = tenant
        self.resource = resource
        self.id = id
        self.status = status
        self.sortKey = sortKey
        self.version = version
        self.data = data
        self.tags = tags
        self.amount = amount
    }
}

extension [Tag] {
    /// The tags without repeats, first occurrence first: a record counts once per tag in list
    /// totals and amount totals, however often it names it.
    public var withoutRepeats: [Tag] {
        guard count > 1 else { return self }
        var seen = Set<Tag>()
        return filter { seen.insert($0).inserted }
    }
}

public struct Tag: Sendable, Hashable {
    public var name: String
    public var value: String
    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// A value that at most one live record of a resource may hold in a tenant (an email, a
/// `cust_id`, an `event_id`). The store enforces it, so two instances cannot both win.
public struct UniqueClaim: Sendable, Hashable {
    public var tenant: String
    public var resource: String
    public var name: String
    public var value: String
    public var recordID: String

    public init(tenant: String, resource: String, name: String, value: String, recordID: String) {
        self.tenant = tenant
        self.resource = resource
        self.name = name
        self.value = value
        self.recordID = recordID
    }
}

/// Who changed a status, when, and through which key and request.
public struct AuditEvent: Sendable, Hashable {
    public var tenant: String
    public var resource: String
    public var recordID: String
    public var from: String?
    public var to: String
    public var at: Timestamp
    public var keyID: String
    public var requestID: String

    public init(
        tenant: String, resource: String, recordID: String, from: String?, to: String, at: Timestamp,
        keyID: String, requestID: String
    ) {
        self.tenant = tenant
        self.resource = resource
        self.recordID = recordID
        self.from = from
        self.to = to
        self.at = at
        self.keyID = keyID
        self.requestID = requestID
    }
}

/// A remembered idempotency key: which record its first successful create made, from which payload.
public struct IdempotencyEntry: Sendable, Hashable {
    public var tenant: String
    /// The endpoint the key belongs to (`earnings`, `referrals`): scopes do not share keys.
    public var scope: String
    public var key: String
    /// A digest of the canonical payload, so that "same payload" is one comparison.
    public var payloadDigest: String
    public var recordID: String
    public var expiresAt: Timestamp

    public init(tenant: String, scope: String, key: String, payloadDigest: String, recordID: String, expiresAt: Timestamp) {
        self.tenant = tenant
        self.scope = scope
        self.key = key
        self.payloadDigest = payloadDigest
        self.recordID = recordID
        self.expiresAt = expiresAt
    }
}
