import AffiliateCore
import Hummingbird

/// `/api/v1/referrals`: signups that came through an ambassador's QR poster.
enum ReferralRoutes {
    static let resource = VantioResource.referrals
    static let notFound = VantioError(.notFound, "Referral not found")
    static let createFields: Set<String> = [
        "impression_id", "first_name", "last_name", "email", "profile_picture", "metadata", IdempotencyRequest.field,
    ]
    static let updateFields: Set<String> = [
        "first_name", "last_name", "email", "profile_picture", "status", "verified_at", "metadata",
    ]

    static func list(_ request: Request, context: TenantRequestContext) async throws -> Response {
        let query = ListQuery(request)
        let tags = query.tags([("programId", "program_id"), ("studentId", "student_id")])
        let status = try query.status(in: context.engine.policy(for: resource).vocabulary)
        let page = try query.page()
        let found = try await context.engine.listData(resource, tags: tags, status: status, offset: page.offset, limit: page.limit)
        return ListQuery.render(resource, found)
    }

    static func get(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try await RecordLookup.get(resource, notFound: notFound, context: context)
    }

    /// The referral inherits its impression's program and ambassador.
    static func create(_ request: Request, context: TenantRequestContext) async throws -> Response {
        let body = try await RequestBody.read(request, context: context, allowed: createFields).get()
        let idempotency = try IdempotencyRequest.read(from: body)
        return try await IdempotentCreate.run(engine: context.engine, scope: resource, idempotency: idempotency) { tx in
            let fields = FieldRules(body)
            let impressionID = try fields.requiredText("impression_id")
            let firstName = try fields.requiredText("first_name")
            let lastName = try fields.requiredText("last_name")
            let email = try fields.email()
            let profilePicture = try fields.nullableText("profile_picture") ?? .null
            let metadata = try fields.metadata() ?? [:]
            guard let impression = try await tx.engine.find(VantioResource.impressions, id: impressionID) else {
                throw VantioError.badRequest("Impression not found")
            }
            let initial = tx.engine.policy(for: resource).vocabulary.initial
            var record = VantioRecords.referral(
                id: VantioIDs.make(prefix: VantioResource.idPrefix(resource)), impressionID: impressionID,
                firstName: firstName, lastName: lastName, email: email, profilePicture: profilePicture,
                status: initial, programID: impression.text("program_id"),
                studentID: impression.text("student_id"), createdAt: tx.now, verifiedAt: nil,
                updatedAt: tx.now, metadata: metadata
            )
            if try VantioRecords.setStatus(initial, of: &record, in: &tx)?.entersSettled == true {
                record.data["verified_at"] = .string(tx.now.iso8601Seconds)
            }
            tx.insert(record)
            VantioWebhooks.emitCreated(record, on: &tx)
            return record
        }
    }

    /// `verified_at` follows the status phase unless the request sets it explicitly.
    static func update(_ request: Request, context: TenantRequestContext) async throws -> Response {
        let id = context.parameters.get("id") ?? ""
        let body = try await RequestBody.read(request, context: context, allowed: updateFields)
        let mode = VantioSettings(context.tenant).metadataUpdate
        // One trip to the store: read, checked and written where writes are serialised.
        let record = try await context.engine.change(resource, id: id) { stored, tx -> (value: Record, readBack: ReadBack) in
            guard var record = stored else { throw notFound }
            let fields = FieldRules(try body.get())
            let firstName = try fields.optionalText("first_name")
            let lastName = try fields.optionalText("last_name")
            let email = try fields.optionalEmail()
            let profilePicture = try fields.nullableText("profile_picture")
            let status = fields.body["status"]
            let verifiedAt = try fields.timestampOrNull("verified_at")
            let metadata = try fields.metadata()
            if let status {
                guard case .string(let word) = status else {
                    throw VantioError.invalidStatus(allowed: tx.engine.policy(for: resource).vocabulary.words)
                }
                if let change = try VantioRecords.setStatus(word, of: &record, in: &tx), verifiedAt == nil {
                    if change.entersSettled {
                        record.data["verified_at"] = .string(tx.now.iso8601Seconds)
                    } else if change.leavesSettled {
                        record.data["verified_at"] = .null
                    }
                }
            }
            if let verifiedAt { record.data["verified_at"] = verifiedAt.rendered }
            if let firstName { record.data["first_name"] = .string(firstName) }
            if let lastName { record.data["last_name"] = .string(lastName) }
            if let email { record.data["email"] = .string(email) }
            if let profilePicture { record.data["profile_picture"] = profilePicture }
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
