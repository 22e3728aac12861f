import OpenAPIKit

/// The JSON shapes FirstPromoter v1 answers with (spec §7), as the renderer writes them: every
/// documented key always present, `null` where empty.
enum FirstPromoterSchemas {
    static func ref(_ name: String) -> JSONSchema { .reference(.component(named: name)) }
    static func nullableRef(_ name: String) -> JSONSchema { .any(of: ref(name), .null()) }

    static let timestamp = JSONSchema.string(format: .dateTime, description: "ISO-8601 UTC with milliseconds")
    static let nullableTimestamp = JSONSchema.string(format: .dateTime, nullable: true)
    static let nullableText = JSONSchema.string(nullable: true)
    static let alwaysNull = JSONSchema.null()
    static let unit = JSONSchema.string(allowedValues: RewardUnit.all.map { AnyCodable($0) })

    /// A closed object: the renderer writes exactly these keys, in this order. (OpenAPIKit lists
    /// a property as required unless its schema says `required: false`.)
    static func closed(_ properties: OrderedDictionary<String, JSONSchema>, description: String? = nil) -> JSONSchema {
        .object(description: description, properties: properties, additionalProperties: .a(false))
    }

    static let campaign = closed([
        "id": .integer, "name": .string, "landing_url": .string, "description": nullableText, "private": .boolean,
        "color": .string, "default_webhook_url": .string, "auto_approve_rewards": .boolean,
        "auto_approve_promoters": .boolean,
    ], description: "A campaign from the tenant's configuration (read-only).")

    /// `{"cash": 23000}`: one key per unit that counts, or `null` when none does.
    static let balance = JSONSchema.object(
        nullable: true,
        properties: RewardUnit.all.reduce(into: OrderedDictionary<String, JSONSchema>()) { $0[$1] = .integer(required: false) },
        additionalProperties: .a(false)
    )

    static let shortPromoterProperties: OrderedDictionary<String, JSONSchema> = [
        "id": .integer,
        "status": .string(allowedValues: ["active", "pending", "denied"]),
        "cust_id": nullableText,
        "email": .string,
        "created_at": timestamp,
        "temp_password": nullableText,
        "default_promotion_id": .integer,
        "pref": .string(pattern: "^[a-z0-9]{7}$"),
        "default_ref_id": nullableText,
        "note": nullableText,
        "w8_form_url": alwaysNull,
        "w9_form_url": alwaysNull,
        "parent_promoter_id": .integer(nullable: true),
        "earnings_balance": ref("Balance"),
        "current_balance": ref("Balance"),
        "paid_balance": ref("Balance"),
        "auth_token": .string(pattern: "^[A-Za-z0-9_-]{32}$"),
    ]

    static let shortPromoter = closed(shortPromoterProperties, description: "A promoter as nested in payouts and rewards.")

    static let fullPromoter: JSONSchema = {
        var properties = shortPromoterProperties
        properties["profile"] = ref("Profile")
        properties["promotions"] = .array(items: ref("Promotion"))
        properties["custom_fields"] = alwaysNull
        properties["promo_codes"] = .array(maxItems: 0)
        return closed(properties, description: "A promoter with its profile and promotions.")
    }()

    static let profile: JSONSchema = {
        var properties: OrderedDictionary<String, JSONSchema> = ["id": .integer]
        for name in ["first_name", "last_name", "website", "company_name", "phone_number", "address", "vat_id", "country",
                     "paypal_email", "avatar_url", "description"] {
            properties[name] = nullableText
        }
        properties["social_accounts"] = .object(
            properties: ProfileField.networks.reduce(into: OrderedDictionary<String, JSONSchema>()) { accounts, network in
                accounts[network] = JSONSchema.object(required: false, properties: ["url": .string])
            }
        )
        return JSONSchema.object(properties: properties)
    }()

    static let promotion: JSONSchema = {
        var properties: OrderedDictionary<String, JSONSchema> = [
            "id": .integer, "status": .string(allowedValues: ["offer_running"]), "ref_id": .string,
            "promo_code": nullableText, "customer_promo_code": nullableText, "target_reached_at": alwaysNull,
            "promoter_id": .integer, "campaign_id": .integer, "referral_link": nullableText,
            "current_offer": alwaysNull, "current_referral_reward": alwaysNull, "current_promotion_reward": alwaysNull,
            "current_target_reward": alwaysNull, "campaign_name": .string, "hidden": .boolean,
        ]
        for counter in Renderer.zeroCounters { properties[counter] = .integer }
        return closed(properties, description: "A promoter's place in one campaign.")
    }()

    static let payout = closed([
        "id": .integer, "status": .string(description: "A word of the tenant's payout vocabulary."), "amount": .integer,
        "date_paid": nullableTimestamp, "due_date": nullableTimestamp, "unit": unit, "created_at": timestamp,
        "has_issues": .boolean, "reward": alwaysNull, "promoter": nullableRef("Promoter"),
        "campaign": nullableRef("Campaign"),
    ], description: "A payout of a promoter in one campaign; amount in cents for cash.")

    static let reward = closed([
        "id": .integer, "status": .string(description: "A word of the tenant's reward vocabulary."), "amount": .integer,
        "unit": unit, "created_at": timestamp, "lead": alwaysNull, "event_id": nullableText,
        "conversion_amount": alwaysNull, "tier_level": .integer, "promoter": nullableRef("Promoter"),
        "promotion": nullableRef("Promotion"),
    ], description: "A reward of a promotion; amount in cents for cash, negative for a clawback.")

    /// `{"error": "<text>"}`: every error but 401 and promoter field validation.
    static let error = closed(["error": .string], description: "The dialect's error shape.")

    /// The 401 body: the JSON string `"Bad credentials"`.
    static let badCredentials = JSONSchema.string(allowedValues: ["Bad credentials"])

    /// Promoter validation: one hash of every failing attribute, in the vendor's names.
    static let promoterFieldErrors: JSONSchema = {
        let messages = JSONSchema.array(required: false, minItems: 1, items: .string)
        return .object(
            minProperties: 1,
            properties: [
                "company_user.user.email": messages, "cust_id": messages,
                "promotions": .array(required: false, items: .object(properties: ["ref_id": messages])),
                "created_at": messages,
            ],
            additionalProperties: .a(false)
        )
    }()

    static let components: OpenAPI.ComponentDictionary<JSONSchema> = [
        "Campaign": campaign, "Balance": balance, "Promoter": shortPromoter, "PromoterWithProfile": fullPromoter,
        "Profile": profile, "Promotion": promotion, "Payout": payout, "Reward": reward, "Error": error,
        "BadCredentials": badCredentials, "PromoterFieldErrors": promoterFieldErrors,
    ]
}
