import OpenAPIKit

/// The document's entries for `rewards/create`, `rewards/list` and `rewards/update` (spec §8.9-8.11).
/// Every refusal of these endpoints is a 422, as the vendor declares no other code.
enum RewardDocs {
    typealias R = FirstPromoterResponses
    typealias P = FirstPromoterParameters
    static let tags = ["rewards"]
    static let reward = FirstPromoterSchemas.ref("Reward")

    static let create = OpenAPI.Operation(
        tags: tags, summary: "Create a reward for a promotion", operationId: "createReward",
        requestBody: P.body([
            "promotion_id": P.id, "ref_id": .string, "lead_id": .string, "email": .string, "uid": .string,
            "reward_type": .string(allowedValues: RewardUnit.all.map { AnyCodable($0) }),
            "amount": .integer(description: "Cents for cash; negative for a clawback."),
            "status": .string(description: "A word of the tenant's reward vocabulary; default its first."),
            "event_id": .string(description: "Unique in the tenant."), "skip_email_notification": .boolean,
        ], description: "`promotion_id` or `ref_id` names the promotion; `reward_type` and `amount` are required."),
        responses: R.responses([
            200: R.json("The new reward.", reward),
            422: R.error("A missing or invalid parameter, an unknown promotion, or a taken event id."),
        ])
    )

    static let list = OpenAPI.Operation(
        tags: tags, summary: "List rewards", description: "Filters are AND-combined; an unknown promotion, promoter or campaign is a 422.",
        operationId: "listRewards",
        parameters: [
            P.query("promotion_id", P.id, "Only this promotion's rewards (wins over ref_id)."),
            P.query("ref_id", .string, "Only the rewards of the promotion with this ref id."),
            P.query("promoter_id", P.id, "Only this promoter's rewards."),
            P.query("campaign_id", P.id, "Only rewards in this campaign."),
        ] + P.paging,
        responses: R.responses([
            200: R.json("A page of rewards.", .array(items: reward), headers: R.pagingHeaders),
            422: R.error("An unknown filter value, or `page` / `per_page` not a positive integer."),
        ])
    )

    static let update = OpenAPI.Operation(
        tags: tags, summary: "Change a reward's status", operationId: "updateReward",
        requestBody: P.body([
            "id": P.id, "event_id": .string, "status": .string(description: "A word of the tenant's reward vocabulary."),
        ], description: "`id` or `event_id` (id wins); without `status` the reward is returned unchanged."),
        responses: R.responses([
            200: R.json("The reward.", reward),
            422: R.error("No identifier, no such reward, a word outside the vocabulary, or a forbidden move."),
        ])
    )
}
