import AffiliateCore
import ProviderFirstPromoter
import Testing

/// Fixture documents (`fixtures:` of a firstpromoter-v1 tenant) shaped into records, and every
/// problem in them reported with its path.
@Suite struct FirstPromoterFixturesTests {
    let provider = FirstPromoterProvider()

    var tenant: TenantConfig {
        var policies: [String: StatusPolicy] = [:]
        for resource in provider.resources { policies[resource.name] = StatusPolicy(vocabulary: resource.defaultVocabulary) }
        return TenantConfig(
            id: "acme", name: "Acme", dialect: provider.dialect, apiKeys: [], statusPolicies: policies,
            settings: ["payout_due_days": .integer(29)],
            campaigns: [Campaign(id: 15161, name: "Test new campaign", landingURL: "http://example.com/")]
        )
    }

    static let minimal = """
        {"promoters": [{"id": 7, "email": "Sam@Example.com", "created_at": "2024-05-27T17:43:38Z",
                        "promotions": [{"id": 70, "ref_id": "sam"}]}],
         "payouts": [{"id": 700, "promoter_id": 7, "amount": 250, "created_at": "2024-09-12T14:02:53.135Z"},
                     {"id": 701, "promoter_id": 7, "amount": 5, "status": "completed", "created_at": "2024-09-13T00:00:00Z",
                      "date_paid": "2024-09-14T00:00:00Z"}],
         "rewards": [{"id": 7000, "promotion_id": 70, "amount": 250, "created_at": "2024-09-01T00:00:00Z",
                      "payout_id": 700, "event_id": "evt_1"}]}
        """

    @Test func aFixtureBecomesRecordsClaimsAndSequenceFloors() throws {
        let seed = try provider.seedData(from: JSONValue(parsing: Self.minimal), tenant: tenant)
        #expect(seed.records.map { "\($0.resource)/\($0.id)/\($0.status ?? "-")" } == [
            "promoters/7/-", "payouts/700/pending", "payouts/701/completed", "rewards/7000/approved",
        ])
        #expect(seed.records.allSatisfy { $0.tenant == "acme" && $0.version == 0 })
        #expect(seed.sequenceFloors == ["promoters": 7, "profiles": 7, "promotions": 70, "payouts": 701, "rewards": 7000])
        let claims = Set(seed.claims.map { "\($0.resource).\($0.name)=\($0.value)>\($0.recordID)" })
        let promoter = try #require(seed.records.first?.data)
        let token = try #require(promoter["auth_token"]?.stringValue)
        #expect(claims == [
            "promoters.email=sam@example.com>7", "promoters.auth_token=\(token)>7", "promoters.ref_id=sam>7",
            "promoters.promotion_id=70>7", "rewards.event_id=evt_1>7000",
        ])
        // Defaults: active, profile id = promoter id, stable derived pref and token, due date from the setting.
        #expect(promoter["status"] == .string("active"))
        #expect(promoter["created_at"] == .string("2024-05-27T17:43:38.000Z"))
        #expect(promoter["profile"]?["id"] == .int(7))
        let pref = try #require(promoter["pref"]?.stringValue)
        #expect(pref.count == 7)
        #expect(token.count == 32)
        let again = try provider.seedData(from: JSONValue(parsing: Self.minimal), tenant: tenant)
        #expect(again == seed)
        #expect(seed.records[1].data["due_date"] == .string("2024-10-11T00:00:00.000Z"))
        #expect(seed.records[2].data["date_paid"] == .string("2024-09-14T00:00:00.000Z"))
        #expect(seed.records[3].tags.contains(Tag("payout_id", "700")))
    }

    @Test func anEmptyDocumentIsNoRecords() throws {
        #expect(try provider.seedData(from: .null, tenant: tenant).isEmpty)
        #expect(try provider.seedData(from: JSONValue(parsing: "{}"), tenant: tenant).isEmpty)
    }

    @Test func everyProblemIsReportedWithItsPath() throws {
        let document = try JSONValue(parsing: """
            {"promoters": [
               {"id": 1, "email": "one@example.com", "created_at": "2024-01-01T00:00:00Z", "status": "vip",
                "pref": "TOOLONG!", "auth_token": "short", "nickname": "x", "parent_promoter_id": 99,
                "profile": {"id": "p1", "phone_number": 5550100, "twitter_url": true},
                "promotions": [{"id": 10, "ref_id": "one"}, {"id": 11, "ref_id": "one_b", "campaign_id": 15161},
                               {"id": 12, "ref_id": "One", "campaign_id": 99}]},
               {"id": 1, "email": "ONE@example.com", "cust_id": "c1", "created_at": "yesterday", "promotions": []},
               {"id": 2, "email": "not-an-email", "cust_id": "c1", "created_at": "2024-01-01T00:00:00Z",
                "promotions": [{"id": 11, "ref_id": "one_b", "url_tracking": "yes"}]},
               "just text"],
             "payouts": [
               {"id": 5, "promoter_id": 3, "amount": 1.5, "unit": "euros", "created_at": "2024-01-01T00:00:00Z"},
               {"id": 6, "promoter_id": 1, "status": "completed", "amount": 10, "created_at": "2024-01-01T00:00:00Z"},
               {"id": 6, "promoter_id": 1, "status": "done", "amount": 10, "created_at": "2024-01-01T00:00:00Z",
                "date_paid": "2024-01-02T00:00:00Z"}],
             "rewards": [
               {"id": 9, "promotion_id": 404, "amount": "ten", "created_at": "2024-01-01T00:00:00Z"},
               {"id": 9, "promotion_id": 11, "amount": 1, "created_at": "2024-01-01T00:00:00Z", "payout_id": 77,
                "event_id": "e1", "status": "paid"},
               {"id": 10, "promotion_id": 11, "amount": 1, "unit": "points", "created_at": "2024-01-01T00:00:00Z",
                "payout_id": 6, "event_id": "e1"}],
             "leads": []}
            """)
        let problems: [SeedProblem]
        do {
            _ = try provider.seedData(from: document, tenant: tenant)
            Issue.record("the document was accepted")
            return
        } catch {
            problems = error.problems
        }
        let lines = problems.map { "\($0.pathText): \($0.message)" }
        #expect(lines == [
            #"leads: unknown key "leads"; expected one of: promoters, rewards, payouts"#,
            #"promoters[0].nickname: unknown key "nickname"; expected one of: id, status, cust_id, email, created_at, temp_password, pref, note, parent_promoter_id, auth_token, profile, promotions"#,
            "promoters[0].status: must be one of: active, pending, denied, approved",
            "promoters[0].pref: must be 7 characters a-z or 0-9",
            "promoters[0].auth_token: must be 32 characters A-Z, a-z, 0-9, _ or -",
            "promoters[0].profile.id: must be a positive integer",
            "promoters[0].profile.twitter_url: must be a string or null",
            "promoters[0].promotions[1].campaign_id: the promoter already has a promotion in campaign 15161",
            "promoters[0].promotions[2].campaign_id: is not a campaign of tenant acme",
            "promoters[0].promotions[2].ref_id: must use only a-z, 0-9, _ and -",
            #"promoters[1].id: promoter id "1" is already used at promoters[0].id"#,
            #"promoters[1].email: email "one@example.com" is already used at promoters[0].email"#,
            "promoters[1].created_at: must be an ISO 8601 timestamp such as \"2024-09-12T14:02:53.135Z\"",
            "promoters[1].promotions: needs at least one promotion (the first is the default)",
            "promoters[2].email: is not a valid email address",
            #"promoters[2].cust_id: cust_id "c1" is already used at promoters[1].cust_id"#,
            #"promoters[2].promotions[0].id: promotion id "11" is already used at promoters[0].promotions[1].id"#,
            #"promoters[2].promotions[0].ref_id: ref_id "one_b" is already used at promoters[0].promotions[1].ref_id"#,
            "promoters[2].promotions[0].url_tracking: must be true or false",
            "promoters[3]: must be a mapping",
            "promoters[0].parent_promoter_id: must be the id of another promoter in this file",
            "payouts[0].promoter_id: must be the id of a promoter in this file",
            "payouts[0].amount: must be an integer",
            "payouts[0].unit: must be one of: cash, credits, points, free_months",
            "payouts[1].date_paid: is required: status completed means the payout was paid",
            "payouts[2].id: payout id 6 is used twice",
            "payouts[2].status: must be one of: pending, processing, completed",
            "payouts[2].date_paid: must be null: status pending means the payout is not paid",
            "rewards[0].promotion_id: must be the id of a promotion in this file",
            "rewards[0].amount: must be an integer",
            "rewards[1].id: reward id 9 is used twice",
            "rewards[1].status: must be one of: approved, pending, denied",
            "rewards[1].payout_id: must be the id of a payout in this file",
            #"rewards[2].event_id: event_id "e1" is already used at rewards[1]"#,
            "rewards[2].payout_id: only cash rewards are paid out",
        ])
    }
}
