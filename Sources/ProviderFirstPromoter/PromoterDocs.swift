import OpenAPIKit

/// The document's entries for `promoters/create`, `update`, `list`, `show` and `delete` (spec §8.4-8.8).
enum PromoterDocs {
    typealias R = FirstPromoterResponses
    typealias P = FirstPromoterParameters
    static let tags = ["promoters"]

    /// Identifiers of show, update and delete; the first present wins (spec §8.5).
    static let lookup: OrderedDictionary<String, JSONSchema> = [
        "id": P.id, "cust_id": .string, "auth_token": .string, "ref_id": .string, "promoter_email": P.email,
    ]
    static let lookupParameters: OpenAPI.Parameter.Array = lookup.map { name, schema in
        P.query(name, schema, "Promoter identifier; the first of id, cust_id, auth_token, ref_id, promoter_email present wins.")
    }

    static let profileFields: OrderedDictionary<String, JSONSchema> = {
        var fields: OrderedDictionary<String, JSONSchema> = [:]
        for name in ProfileField.text { fields[name] = .string }
        for network in ProfileField.networks { fields[network + "_url"] = .string }
        for name in ["promo_code", "customer_promo_code", "landing_url"] { fields[name] = .string }
        fields["url_tracking"] = .boolean
        fields["note"] = .string
        fields["temp_password"] = .string
        return fields
    }()

    static let full = FirstPromoterSchemas.ref("PromoterWithProfile")
    static let unprocessable = R.json(
        "An unknown campaign or parent (`{\"error\": ...}`), or field validation: one hash of every failing attribute.",
        .one(of: FirstPromoterSchemas.ref("Error"), FirstPromoterSchemas.ref("PromoterFieldErrors"))
    )
    static let notFound = R.error("No such live promoter: `Promoter not found.`")
    static let noIdentifier = R.error("No identifier given.")

    static let create: OpenAPI.Operation = {
        var fields: OrderedDictionary<String, JSONSchema> = [
            "email": P.email, "cust_id": .string,
            "ref_id": .string(description: "`[a-z0-9_-]`, unique; default: from the first name."),
            "campaign_id": P.id, "parent_promoter_id": P.id, "parent_promoter_email": P.email,
            "created_at": .string(format: .dateTime), "skip_email_notification": .boolean, "always_approve": .boolean,
        ]
        for (name, schema) in profileFields { fields[name] = schema }
        return OpenAPI.Operation(
            tags: tags, summary: "Create a promoter with one promotion in a campaign", operationId: "createPromoter",
            requestBody: P.body(fields, description: "`email` is required, valid and unique in the tenant."),
            responses: R.responses([200: R.json("The new promoter.", full), 422: unprocessable])
        )
    }()

    static let update: OpenAPI.Operation = {
        var fields = lookup
        for (name, schema) in ["email": P.email, "new_cust_id": .string, "new_ref_id": .string, "parent_promoter_email": P.email] as OrderedDictionary<String, JSONSchema> {
            fields[name] = schema
        }
        for (name, schema) in profileFields { fields[name] = schema }
        return OpenAPI.Operation(
            tags: tags, summary: "Change a promoter's supplied fields", operationId: "updatePromoter",
            requestBody: P.body(fields, description: "The promoter is found by its first identifier present; only supplied fields change."),
            responses: R.responses([200: R.json("The promoter.", full), 404: notFound, 422: unprocessable])
        )
    }()

    static let show = OpenAPI.Operation(
        tags: tags, summary: "Show one promoter", operationId: "showPromoter", parameters: lookupParameters,
        responses: R.responses([200: R.json("The promoter.", full), 404: notFound, 422: noIdentifier])
    )

    static let list = OpenAPI.Operation(
        tags: tags, summary: "List live promoters", operationId: "listPromoters",
        parameters: [P.query("campaign_id", P.id, "Only promoters with a promotion in this campaign.")] + P.paging,
        responses: R.responses([
            200: R.json("A page of promoters.", .array(items: full), headers: R.pagingHeaders),
            422: R.error("Unknown campaign, or `page` / `per_page` not a positive integer."),
        ])
    )

    static let delete = OpenAPI.Operation(
        tags: tags, summary: "Remove a promoter (soft delete)", operationId: "deletePromoter", parameters: lookupParameters,
        responses: R.responses([
            200: R.json(
                "Removed.",
                .object(properties: ["message": .string(allowedValues: ["Promoter removed."])], additionalProperties: .a(false))
            ),
            404: notFound, 422: noIdentifier,
        ])
    )
}
