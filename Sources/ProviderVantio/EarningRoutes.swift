import AffiliateCore
import Hummingbird

/// `/api/v1/earnings`: commissions owed to ambassadors for their referrals.
enum EarningRoutes {
    static let resource = VantioResource.earnings
    static let notFound = VantioError(.notFound, "Earning not found")
    static let createFields: Set<String> = [
        "referral_id", "amount", "currency", "type", "description", "metadata", IdempotencyRequest.field,
    ]
    static let updateFields: Set<String> = [
        "amount", "currency", "type", "description", "reference_id", "status", "metadata",
    ]

    /// Earnings filter in snake_case, unlike the other resources (the vendor's own casing).
    static func list(_ request: Request, context: TenantRequestContext) async throws -> Response {
        let query = ListQuery(request)
        let tags = query.tags([("referral_id", "referral_id"), ("program_id", "program_id")])
        let status = try query.status(in: context.engine.policy(for: resource).vocabulary)
        let page = try query.page()
        let found = try await context.engine.listData(resource, tags: tags, status: status, offset: page.offset, limit: page.limit)
        return ListQuery.render(resource, found)
    }

    static func get(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try await RecordLookup.get(resource, notFound: notFound, context: context)
    }

    static func create(_ request: Request, context: TenantRequestContext) async throws -> Response {
        let body = try await RequestBody.read(request, context: context, allowed: createFields).get()
        let idempotency = try IdempotencyRequest.read(from: body)
        return try await IdempotentCreate.run(engine: context.engine, scope: resource, idempotency: idempotency) { tx in
            let fields = FieldRules(body)
            let referralID = try fields.requiredText("referral_id")
            let amount = try fields.amount()
            let currency = try fields.currency() ?? tx.tenant.currency
            let type = try fields.nullableText("type") ?? .null
            let description = try fields.nullableText("description") ?? .null
            let metadata = try fields.metadata() ?? [:]
            guard let referral = try await tx.engine.find(VantioResource.referrals, id: referralID) else {
                throw VantioError.badRequest("Referral not found")
            }
            let initial = tx.engine.policy(for: resource).vocabulary.initial
            var record = VantioRecords.earning(
                id: VantioIDs.make(prefix: VantioResource.idPrefix(resource)), referralID: referralID,
                programID: referral.text("program_id"), amount: amount, currency: currency,
                type: type, description: description, status: initial, referenceID: .null, createdAt: tx.now,
                paidAt: nil, updatedAt: tx.now, metadata: metadata
            )
            if try VantioRecords.setStatus(initial, of: &record, in: &tx)?.entersSettled == true {
                record.data["paid_at"] = .string(tx.now.iso8601Seconds)
            }
            tx.insert(record)
            VantioWebhooks.emitCreated(record, on: &tx)
            return record
        }
    }

    /// Every field is optional and editable in every status (the vendor lists amount
    /// corrections as a use case); `paid_at` follows the status phase, `updated_at` always moves.
    static func update(_ request: Request, context: TenantRequestContext) async throws -> Response {
        let id = context.parameters.get("id") ?? ""
        let body = try await RequestBody.read(request, context: context, allowed: updateFields)
        let mode = VantioSettings(context.tenant).metadataUpdate
        // One trip to the store: read, checked and written where writes are serialised.
        let record = try await context.engine.change(resource, id: id) { stored, tx -> (value: Record, readBack: ReadBack) in
            guard var record = stored else { throw notFound }
            let fields = FieldRules(try body.get())
            let amount = try fields.optionalAmount()
            let currency = try fields.currency()
            let type = try fields.nullableText("type")
            let description = try fields.nullableText("description")
            let referenceID = try fields.nullableText("reference_id")
            let metadata = try fields.metadata()
            if let status = fields.body["status"] {
                guard case .string(let word) = status else {
                    throw VantioError.invalidStatus(allowed: tx.engine.policy(for: resource).vocabulary.words)
                }
                if let change = try VantioRecords.setStatus(word, of: &record, in: &tx) {
                    if change.entersSettled {
                        record.data["paid_at"] = .string(tx.now.iso8601Seconds)
                    } else if change.leavesSettled {
                        record.data["paid_at"] = .null
                    }
                }
            }
            if let amount { record.data["amount"] = .int(amount) }
            if let currency { record.data["currency"] = .string(currency) }
            if let type { record.data["type"] = type }
            if let description { record.data["description"] = description }
            if let referenceID { record.data["reference_id"] = referenceID }
            if let metadata {
                let stored = record.data["metadata"]?.objectValue ?? [:]
                record.data["metadata"] = .object(VantioRecords.update(stored, with: metadata, mode))
            }
            record.data["updated_at"] = .string(tx.now.iso8601Seconds)
            tx.update(record)
            VantioWebhooks.emitStatusChange(record, previousStatus: stored?.status, on: &tx)
            return (record, .none)
        }.value
        return Response.json(.ok, .object(record.data))
    }
}
