import AffiliateOpenAPI
import OpenAPIKit

/// The document's entry for each route of ``VantioRouteTable`` (spec §9).
enum VantioDocs {
    typealias R = VantioResponses

    static func query(_ name: String, _ schema: JSONSchema, _ description: String) -> Either<OpenAPI.Reference<OpenAPI.Parameter>, OpenAPI.Parameter> {
        .parameter(OpenAPI.Parameter(name: name, context: .query(schema: schema), description: description))
    }

    static let idParameter: Either<OpenAPI.Reference<OpenAPI.Parameter>, OpenAPI.Parameter> = .parameter(
        OpenAPI.Parameter(name: "id", context: .path(schema: .string(minLength: 1)), description: "The record's id (`user_...`, `ref_...`).")
    )

    static let paging: OpenAPI.Parameter.Array = [
        query("limit", .integer(minimum: (1, exclusive: false)), "Page size (default 50; above 100 becomes 100); anything else is a 400."),
        query("offset", .integer(minimum: (0, exclusive: false)), "Rows to skip (default 0); anything else is a 400."),
    ]

    /// `GET /<resource>`: filters exact and AND-combined, in the casing the vendor uses.
    static func list(
        _ resource: String, item: String, filters: [(name: String, description: String)], status: Bool = false
    ) -> OpenAPI.Operation {
        var parameters = filters.map { query($0.name, .string, $0.description) }
        if status { parameters.append(query("status", .string, "Only records in this word of the tenant's vocabulary; another word is a 400.")) }
        let own: OpenAPI.Response.Map = [
            200: R.json("A page, ascending by creation time, then id.", VantioSchemas.list(resource, item)),
            400: R.error("`limit` or `offset` out of range" + (status ? ", or a status word outside the vocabulary." : ".")),
        ]
        return OpenAPI.Operation(
            tags: [resource], summary: "List \(resource)", operationId: "list" + item + "s", parameters: parameters + paging,
            responses: R.responses(own)
        )
    }

    static func get(_ resource: String, item: String) -> OpenAPI.Operation {
        OpenAPI.Operation(
            tags: [resource], summary: "Get one \(item.lowercased())", operationId: "get" + item, parameters: [idParameter],
            responses: R.responses([
                200: R.json("The \(item.lowercased()).", VantioSchemas.ref(item)),
                404: R.error("No such \(item.lowercased()) in this tenant: `\(item) not found`."),
            ])
        )
    }

    /// A JSON object body; anything else, or a field not listed, is a 400.
    static func body(_ properties: OrderedDictionary<String, JSONSchema>, description: String) -> OpenAPI.Request {
        OpenAPI.Request(
            description: description,
            content: [OpenAPI.ContentType.json: .content(OpenAPI.Content(schema: JSONSchema.object(properties: properties, additionalProperties: .a(false))))],
            required: true
        )
    }

    static let idempotencyKey = JSONSchema.string(
        required: false, description: "Replays within the tenant's window answer 200 with the first record.", minLength: 1, maxLength: 255
    )
    static let nullableText = JSONSchema.string(required: false, nullable: true)
    static let metadata = JSONSchema.object(required: false)

    static func create(_ resource: String, item: String, _ properties: OrderedDictionary<String, JSONSchema>) -> OpenAPI.Operation {
        var replayed = HostHeaders.standard
        replayed["Idempotent-Replayed"] = R.header("`true`: an earlier request with the same idempotency_key made the record.", .string(allowedValues: ["true"]))
        return OpenAPI.Operation(
            tags: [resource], summary: "Create a \(item.lowercased())", operationId: "create" + item,
            requestBody: body(properties, description: "Unknown fields are refused."),
            responses: R.responses([
                200: R.json("An idempotent replay: the record first created, as it is now.", VantioSchemas.ref(item), headers: replayed),
                201: R.json("The new \(item.lowercased()).", VantioSchemas.ref(item)),
                400: R.error("The body is not a JSON object, has an unknown field, a field breaks its rule, or names a record that does not exist."),
                409: R.error("The idempotency_key was used with another payload."),
            ])
        )
    }

    static func update(_ resource: String, item: String, _ properties: OrderedDictionary<String, JSONSchema>) -> OpenAPI.Operation {
        OpenAPI.Operation(
            tags: [resource], summary: "Update a \(item.lowercased())", operationId: "update" + item, parameters: [idParameter],
            requestBody: body(properties, description: "Every field is optional; `{}` only refreshes updated_at."),
            responses: R.responses([
                200: R.json("The \(item.lowercased()).", VantioSchemas.ref(item)),
                400: R.error("The body is not a JSON object, has an unknown field, a field breaks its rule, or the status move is refused."),
                404: R.error("No such \(item.lowercased()) in this tenant: `\(item) not found`."),
            ])
        )
    }

    static let listUsers = list("users", item: "User", filters: [("programId", "Only this program's users.")])
    static let getUser = get("users", item: "User")
    static let listPosters = list("posters", item: "Poster", filters: [("programId", "Only this program's posters."), ("studentId", "Only this ambassador's posters.")])
    static let getPoster = get("posters", item: "Poster")
    static let listImpressions = list("impressions", item: "Impression", filters: [("programId", "Only this program's scans."), ("posterId", "Only this poster's scans.")])
    static let getImpression = get("impressions", item: "Impression")
    static let listReferrals = list(
        "referrals", item: "Referral", filters: [("programId", "Only this program's referrals."), ("studentId", "Only this ambassador's referrals.")], status: true
    )
    static let getReferral = get("referrals", item: "Referral")
    static let listEarnings = list(
        "earnings", item: "Earning", filters: [("referral_id", "Only this referral's earnings."), ("program_id", "Only earnings in this program.")], status: true
    )
    static let getEarning = get("earnings", item: "Earning")

    static let createReferral = create("referrals", item: "Referral", [
        "impression_id": .string(description: "An impression of this tenant.", minLength: 1),
        "first_name": .string(minLength: 1), "last_name": .string(minLength: 1), "email": .string(format: .email),
        "profile_picture": nullableText, "metadata": metadata, IdempotencyRequest.field: idempotencyKey,
    ])
    static let updateReferral = update("referrals", item: "Referral", [
        "first_name": .string(required: false, minLength: 1), "last_name": .string(required: false, minLength: 1),
        "email": .string(format: .email, required: false), "profile_picture": nullableText,
        "status": .string(required: false, description: "A word of the tenant's referral vocabulary."),
        "verified_at": .string(format: .dateTime, required: false, nullable: true), "metadata": metadata,
    ])
    static let createEarning = create("earnings", item: "Earning", [
        "referral_id": .string(description: "A referral of this tenant.", minLength: 1),
        "amount": .integer(description: "Cents.", maximum: (Int(FieldRules.maximumAmount), exclusive: false), minimum: (1, exclusive: false)),
        "currency": .string(required: false, pattern: "^[A-Z]{3}$"), "type": nullableText, "description": nullableText,
        "metadata": metadata, IdempotencyRequest.field: idempotencyKey,
    ])
    static let updateEarning = update("earnings", item: "Earning", [
        "amount": .integer(required: false, maximum: (Int(FieldRules.maximumAmount), exclusive: false), minimum: (1, exclusive: false)),
        "currency": .string(required: false, pattern: "^[A-Z]{3}$"), "type": nullableText, "description": nullableText,
        "reference_id": nullableText, "status": .string(required: false, description: "A word of the tenant's earning vocabulary."),
        "metadata": metadata,
    ])
}
