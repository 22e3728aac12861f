/// The engine as one request of one tenant sees it.
///
/// Every method is scoped to ``tenant``: a dialect cannot name another tenant's records, so
/// isolation does not depend on each handler remembering a `WHERE tenant = ?`.
public struct TenantEngine: Sendable {
    public let tenant: TenantConfig
    public let store: any Store
    /// Who is acting, for the audit trail.
    public let origin: ChangeOrigin
    /// How many times a transaction body is re-run after losing a compare-and-set race. With
    /// the jittered backoff below, dozens of writers on one hot record all get through.
    public static let maximumAttempts = 40
    /// After this many lost races a ``change(_:id:_:)`` asks the store to hold the record
    /// (``RecordChange/holdsRecord``): optimistic retries alone can starve one writer among
    /// dozens on one record.
    public static let optimisticChangeAttempts = 4

    public init(tenant: TenantConfig, store: any Store, origin: ChangeOrigin) {
        self.tenant = tenant
        self.store = store
        self.origin = origin
    }

    /// The tenant's policy for a status-bearing resource. Providers only ask for resources they
    /// declared, and the config module fills every declared one.
    public func policy(for resource: String) -> StatusPolicy {
        guard let policy = tenant.statusPolicies[resource] else {
            preconditionFailure("resource \(resource) has no status policy in tenant \(tenant.id)")
        }
        return policy
    }

    public func find(_ resource: String, id: String) async throws(EngineError) -> Record? {
        try await storeCall { try await store.record(tenant: tenant.id, resource: resource, id: id) }
    }

    /// The record, or ``EngineError/notFound(resource:)``.
    public func get(_ resource: String, id: String) async throws(EngineError) -> Record {
        guard let record = try await find(resource, id: id) else { throw .notFound(resource: resource) }
        return record
    }

    /// The live record holding a unique value (`email`, `cust_id`, ...).
    public func find(_ resource: String, claim name: String, value: String) async throws(EngineError) -> Record? {
        let key = ClaimKey(tenant: tenant.id, resource: resource, name: name, value: value)
        return try await storeCall { try await store.record(claimedBy: key) }
    }

    public func list(
        _ resource: String, tags: [Tag] = [], status: String? = nil, offset: Int = 0, limit: Int? = nil,
        countTotal: Bool = false
    ) async throws(EngineError) -> RecordPage {
        let query = listQuery(resource, tags, status, offset, limit, countTotal)
        return try await storeCall { try await store.records(matching: query) }
    }

    /// The same page as ``list(_:tags:status:offset:limit:countTotal:)``, as its records'
    /// `data` objects in one JSON array: for dialects that render stored objects as they are.
    public func listData(
        _ resource: String, tags: [Tag] = [], status: String? = nil, offset: Int = 0, limit: Int? = nil,
        countTotal: Bool = false
    ) async throws(EngineError) -> RecordDataPage {
        let query = listQuery(resource, tags, status, offset, limit, countTotal)
        return try await storeCall { try await store.recordData(matching: query) }
    }

    private func listQuery(
        _ resource: String, _ tags: [Tag], _ status: String?, _ offset: Int, _ limit: Int?, _ countTotal: Bool
    ) -> RecordQuery {
        RecordQuery(
            tenant: tenant.id, resource: resource, tags: tags, status: status, offset: offset, limit: limit,
            countTotal: countTotal
        )
    }

    /// Records by id and whole tag-filtered lists, read in one store call (see
    /// ``Store/records(tenant:ids:pages:)``): what a response nesting related records needs.
    public func read(
        records ids: [(resource: String, id: String)], lists: [(resource: String, tags: [Tag])] = [],
        totals: [AmountTotalsQuery] = []
    ) async throws(EngineError) -> (records: [Record?], lists: [[Record]], totals: [[AmountTotal]]) {
        let queries = lists.map { RecordQuery(tenant: tenant.id, resource: $0.resource, tags: $0.tags) }
        let found = try await storeCall {
            try await store.records(tenant: tenant.id, ids: ids, pages: queries, totals: totals)
        }
        return (found.records, found.pages.map(\.records), found.totals)
    }

    public func nextID(sequence: String, atLeast: Int64 = 1) async throws(EngineError) -> Int64 {
        try await storeCall { try await store.nextSequenceValue(tenant: tenant.id, sequence: sequence, atLeast: atLeast) }
    }

    public func idempotencyEntry(scope: String, key: String) async throws(EngineError) -> IdempotencyEntry? {
        try await storeCall { try await store.idempotencyEntry(tenant: tenant.id, scope: scope, key: key) }
    }

    public func auditTrail(_ resource: String, id: String) async throws(EngineError) -> [AuditEvent] {
        try await storeCall { try await store.auditTrail(tenant: tenant.id, resource: resource, recordID: id) }
    }

    /// Runs `body` as one optimistic transaction: it reads through this engine, stages writes
    /// on the ``Transaction``, and the staged batch commits atomically only if no record it
    /// writes changed since it was read. On a lost race the body runs again on fresh data, so
    /// checks such as "is this email taken" are re-made, never skipped.
    public func transaction<T: Sendable>(
        _ body: (inout Transaction) async throws -> T
    ) async throws -> T {
        var lastConflict: StoreConflict?
        for attempt in 0..<Self.maximumAttempts {
            var transaction = Transaction(engine: self, now: .now())
            let result = try await body(&transaction)
            if transaction.batch.isEmpty { return result }
            do {
                try await store.commit(transaction.batch)
                return result
            } catch let conflict as StoreConflict {
                lastConflict = conflict
                try await Self.backOff(attempt: attempt)
                continue
            } catch let error as EngineError {
                throw error
            } catch {
                throw EngineError.unavailable(reason: String(describing: error))
            }
        }
        throw Self.error(for: lastConflict)
    }

    /// Changes one record in one trip to the store (see ``Store/change(_:)``).
    ///
    /// `body` gets the record as stored (`nil`: no such record of this tenant) and stages its
    /// writes on the ``Transaction`` exactly as a ``transaction(_:)`` body does: the same
    /// vocabulary, transitions, audit event, claims and idempotency rules apply. It cannot read
    /// anything else, so the store can run it where writes are serialised; what the response
    /// nests it names in the returned ``ReadBack``, read after the commit in the same trip.
    /// Where the store checks versions optimistically, a lost race runs `body` again.
    public func change<T: Sendable>(
        _ resource: String, id: String,
        _ body: @escaping @Sendable (Record?, inout Transaction) throws -> (value: T, readBack: ReadBack)
    ) async throws -> ChangeOutcome<T> {
        // The store reads the record by this tenant's id, so `stored` is never another tenant's.
        var change = RecordChange<T>(tenant: tenant.id, resource: resource, id: id) { [self] stored in
            var transaction = Transaction(engine: self, now: .now())
            do {
                let (value, readBack) = try body(stored, &transaction)
                return PlannedChange(batch: transaction.batch, readBack: readBack, value: value)
            } catch {
                throw ChangeRefused(error)
            }
        }
        var lastConflict: StoreConflict?
        for attempt in 0..<Self.maximumAttempts {
            change.holdsRecord = attempt >= Self.optimisticChangeAttempts
            do {
                return try await store.change(change)
            } catch let refused as ChangeRefused {
                throw refused.error
            } catch let conflict as StoreConflict {
                lastConflict = conflict
                // A unique value or an idempotency key held by another record stays held.
                guard case .version = conflict else { break }
                try await Self.backOff(attempt: attempt)
            } catch let error as EngineError {
                throw error
            } catch {
                throw EngineError.unavailable(reason: String(describing: error))
            }
        }
        throw Self.error(for: lastConflict)
    }

    static func error(for conflict: StoreConflict?) -> EngineError {
        switch conflict {
        case .claim(let key)?: .alreadyTaken(resource: key.resource, field: key.name, value: key.value)
        case .idempotency(_, let key)?: .idempotencyConflict(key: key)
        default: .contention
        }
    }

    /// Waits a random time that grows with the attempt (full jitter, capped at 50 ms), so
    /// writers that lost the same race do not collide again in lockstep.
    static func backOff(attempt: Int) async throws {
        let ceiling = min(50_000, 500 << min(attempt, 7))
        try await Task.sleep(for: .microseconds(Int.random(in: 0...ceiling)))
    }

    /// Turns store failures into ``EngineError/unavailable(reason:)`` so that dialects answer
    /// them as 503 in their own shape.
    func storeCall<T>(_ call: () async throws -> T) async throws(EngineError) -> T {
        do {
            return try await call()
        } catch let error as EngineError {
            throw error
        } catch {
            throw .unavailable(reason: String(describing: error))
        }
    }
}

/// Who made a change: the API key's id (never the key) and the request id.
public struct ChangeOrigin: Sendable, Hashable {
    public let keyID: String
    public let requestID: String
    public init(keyID: String, requestID: String) {
        self.keyID = keyID
        self.requestID = requestID
    }
}

/// The writes one transaction body stages, plus the status rules that go with them.
public struct Transaction: Sendable {
    public let engine: TenantEngine
    /// One clock reading per attempt, so every timestamp a write sets agrees.
    public let now: Timestamp
    public private(set) var batch = WriteBatch()

    init(engine: TenantEngine, now: Timestamp) {
        self.engine = engine
        self.now = now
    }

    public var tenant: TenantConfig { engine.tenant }

    /// Stages a new record (it must not exist when the batch commits).
    public mutating func insert(_ record: Record) {
        var record = record
        record.tenant = tenant.id
        record.version = 0
        batch.records.append(record)
    }

    /// Stages a changed record; it commits only if its stored version is still the one read.
    public mutating func update(_ record: Record) {
        precondition(record.version > 0, "update needs a record read from the store")
        precondition(record.tenant == tenant.id, "records never cross tenants")
        if let index = batch.records.firstIndex(where: { $0.resource == record.resource && $0.id == record.id }) {
            batch.records[index] = record
        } else {
            batch.records.append(record)
        }
    }

    /// Validates a move of `record` to `word` against the tenant's vocabulary and transitions,
    /// sets it and stages the audit event. Returns `nil` (and changes nothing) when the record
    /// already has that status. The caller stages the record itself with ``update(_:)`` or
    /// ``insert(_:)`` after applying the dialect's side effects.
    public mutating func setStatus(of record: inout Record, to word: String) throws(EngineError) -> StatusChange? {
        let from = record.version == 0 ? nil : record.status
        guard let change = try engine.policy(for: record.resource).move(resource: record.resource, from: from, to: word)
        else { return nil }
        record.status = word
        batch.audit.append(
            AuditEvent(
                tenant: tenant.id, resource: record.resource, recordID: record.id, from: change.from, to: word,
                at: now, keyID: engine.origin.keyID, requestID: engine.origin.requestID
            )
        )
        return change
    }

    /// The ids of the tenant's enabled endpoints subscribed to `type`, in YAML order: empty
    /// for most tenants, which then stage, render and store nothing for webhooks.
    public func webhookSubscribers(of type: String) -> [String] {
        let endpoints = tenant.webhooks
        if endpoints.isEmpty { return [] }
        return endpoints.filter { $0.enabled && $0.subscribes(to: type) }.map(\.id)
    }

    /// Stages the event `type` for `record` when an endpoint subscribes to it; the store renders
    /// it from what the commit wrote (``WebhookEventDraft``) and queues one delivery per endpoint
    /// in the same commit. Call it after the change is staged, once per event.
    public mutating func emit(
        _ type: String, for record: Record, previousStatus: String?, readBack: ReadBack = .none,
        render: @escaping @Sendable (RelatedRecords) throws -> JSONValue,
        envelope: @escaping @Sendable (WebhookEventStamp, JSONValue) -> [UInt8]
    ) {
        let endpoints = webhookSubscribers(of: type)
        guard !endpoints.isEmpty else { return }
        batch.webhookEvents.append(
            WebhookEventDraft(
                tenant: tenant.id, type: type, resource: record.resource, recordID: record.id, previousStatus: previousStatus,
                status: record.status, endpoints: endpoints, readBack: readBack, render: render, envelope: envelope
            )
        )
    }

    /// Stages a unique value for a record; the commit fails if another record holds it.
    public mutating func claim(_ resource: String, name: String, value: String, for recordID: String) {
        batch.claims.append(UniqueClaim(tenant: tenant.id, resource: resource, name: name, value: value, recordID: recordID))
    }

    /// Frees a unique value (a renamed or deleted record's).
    public mutating func release(_ resource: String, name: String, value: String) {
        batch.releases.append(ClaimKey(tenant: tenant.id, resource: resource, name: name, value: value))
    }

    /// Remembers an idempotency key with the record it created.
    public mutating func remember(scope: String, key: String, payloadDigest: String, recordID: String, window seconds: Int64) {
        batch.idempotency.append(
            IdempotencyEntry(
                tenant: tenant.id, scope: scope, key: key, payloadDigest: payloadDigest, recordID: recordID,
                expiresAt: now.adding(seconds: seconds)
            )
        )
    }
}
