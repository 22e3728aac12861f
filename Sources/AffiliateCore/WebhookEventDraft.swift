/// One event a change emits, staged on its ``Transaction`` and turned into an outbox row by the
/// store inside the commit that makes the change (webhooks.md §5.1).
///
/// The record's rendering is deferred to the store: what a dialect's object nests (a payout's
/// promoter balances) is only known once the change is applied, so the store reads ``readBack``
/// after applying the batch, in the same transaction, and hands it to ``render``. The envelope
/// is deferred further, to the moment the store has numbered the event.
public struct WebhookEventDraft: Sendable, Equatable {
    public var tenant: String
    /// The dialect's event name (`payout_status_changed`, `earning.created`).
    public var type: String
    public var resource: String
    public var recordID: String
    /// The status before the change; `nil` for a creation.
    public var previousStatus: String?
    /// The status the change set (kept for the operator's listing).
    public var status: String?
    /// Ids of the tenant's enabled endpoints that subscribe to ``type``, in YAML order: one
    /// delivery row each. Never empty: no subscriber, no draft.
    public var endpoints: [String]
    /// What ``render`` needs besides the changed record, read after the batch is applied.
    public var readBack: ReadBack
    /// The record's object in the dialect's shape, as of the commit.
    public var render: @Sendable (RelatedRecords) throws -> JSONValue
    /// The request body: the dialect's envelope around the rendered object.
    public var envelope: @Sendable (WebhookEventStamp, JSONValue) -> [UInt8]

    public init(
        tenant: String, type: String, resource: String, recordID: String, previousStatus: String?, status: String?,
        endpoints: [String], readBack: ReadBack = .none,
        render: @escaping @Sendable (RelatedRecords) throws -> JSONValue,
        envelope: @escaping @Sendable (WebhookEventStamp, JSONValue) -> [UInt8]
    ) {
        self.tenant = tenant
        self.type = type
        self.resource = resource
        self.recordID = recordID
        self.previousStatus = previousStatus
        self.status = status
        self.endpoints = endpoints
        self.readBack = readBack
        self.render = render
        self.envelope = envelope
    }

    /// Drafts compare by the event they describe; closures cannot be compared.
    public static func == (lhs: WebhookEventDraft, rhs: WebhookEventDraft) -> Bool {
        lhs.tenant == rhs.tenant && lhs.type == rhs.type && lhs.resource == rhs.resource && lhs.recordID == rhs.recordID
            && lhs.previousStatus == rhs.previousStatus && lhs.status == rhs.status && lhs.endpoints == rhs.endpoints
    }

    /// `resource/id`: the key deliveries are ordered by (webhooks.md §5.4).
    public var recordKey: String { resource + "/" + recordID }

    /// What ``render`` gets when the store need not read for it: nothing, when the draft names
    /// no rows; the change's own read-back (`known`), when it names the same rows. `nil`: the
    /// store reads ``readBack`` in the commit's transaction.
    public func relatedWithoutReading(known: (ReadBack, RelatedRecords)?) -> RelatedRecords? {
        if readBack.isEmpty { return .empty }
        if let known, known.0.names(sameAs: readBack) { return known.1 }
        return nil
    }

    /// The body, rendered from what the commit wrote.
    public func body(stamp: WebhookEventStamp, related: RelatedRecords) throws -> [UInt8] {
        envelope(stamp, try render(related))
    }
}

/// What the store assigns an event when it writes it.
public struct WebhookEventStamp: Sendable, Hashable {
    /// The outbox's integer key; a record's events get increasing numbers in commit order.
    public var seq: Int64
    /// `webhook-id`: the same for every endpoint and attempt of the event.
    public var publicID: String
    /// Commit time.
    public var at: Timestamp

    public init(seq: Int64, publicID: String, at: Timestamp) {
        self.seq = seq
        self.publicID = publicID
        self.at = at
    }

    /// `evt_` and 16 random base62 characters (webhooks.md §3.3): unique across instances
    /// without asking the database.
    public static func newPublicID() -> String {
        let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)
        var generator = SystemRandomNumberGenerator()
        var text = Array("evt_".utf8)
        for _ in 0..<16 { text.append(alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))]) }
        return String(decoding: text, as: UTF8.self)
    }
}

extension ReadBack {
    /// Whether two read-backs name the same rows, so one read serves both.
    public func names(sameAs other: ReadBack) -> Bool {
        records.count == other.records.count && totals == other.totals
            && zip(records, other.records).allSatisfy { $0.resource == $1.resource && $0.id == $1.id }
    }
}
