import OpenAPIKit

/// The document's entries for `payouts/list`, `payouts/create` and `payouts/update` (spec §8.1-8.3).
enum PayoutDocs {
    typealias R = FirstPromoterResponses
    typealias P = FirstPromoterParameters
    static let tags = ["payouts"]

    static let list = OpenAPI.Operation(
        tags: tags, summary: "List payouts",
        description: "Filters are exact and AND-combined; unknown values match nothing. Rows by id ascending.",
        operationId: "listPayouts",
        parameters: [
            P.query("promoter_id", P.id, "Only this promoter's payouts."),
            P.query("campaign_id", P.id, "Only payouts in this campaign."),
            P.query("status", .string, "Only payouts in this status word."),
        ] + P.paging,
        responses: R.responses([
            200: R.json("A page of payouts.", .array(items: FirstPromoterSchemas.ref("Payout")), headers: R.pagingHeaders),
            422: R.error("`page` or `per_page` is not a positive integer."),
        ])
    )

    static let create = OpenAPI.Operation(
        tags: tags, summary: "Pay out a promoter's unpaid cash balance in one campaign",
        description: "The amount is the sum of the promoter's unpaid cash rewards in the campaign, which become attached to the payout.",
        operationId: "createPayout",
        requestBody: P.body([
            "promoter_id": P.id, "promoter_email": P.email,
            "campaign_id": P.id, "status": .string(description: "A word of the tenant's payout vocabulary; default its first."),
        ], description: "`promoter_id` or `promoter_email` (id wins); `campaign_id` defaults to the promoter's default campaign."),
        responses: R.responses([
            200: R.json("The new payout.", FirstPromoterSchemas.ref("Payout")),
            404: R.error("No such live promoter: `Promoter not found.`"),
            422: R.error("No promoter identifier, unknown campaign, invalid status, or no unpaid balance."),
        ])
    )

    static let update = OpenAPI.Operation(
        tags: tags, summary: "Change a payout's status",
        description: "Entering a settled word sets `date_paid`; leaving it clears it. Without `status` the payout is returned unchanged.",
        operationId: "updatePayout",
        requestBody: P.body([
            "id": P.id, "status": .string(description: "A word of the tenant's payout vocabulary."),
        ], description: "`id` is required."),
        responses: R.responses([
            200: R.json("The payout.", FirstPromoterSchemas.ref("Payout")),
            404: R.error("No such payout in this tenant: `Payment not found`."),
            422: R.error("No `id`, a word outside the vocabulary, or a move the tenant's transitions forbid."),
        ])
    )
}
