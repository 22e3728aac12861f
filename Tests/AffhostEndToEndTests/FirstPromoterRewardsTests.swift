import AffiliateCore
import Hummingbird
import Testing

/// `rewards/create`, `rewards/list`, `rewards/update` (spec §8.9-8.11) and the balances they
/// drive (spec §5).
@Suite struct FirstPromoterRewardsTests {
    // MARK: create

    @Test func createErrorsInTheirOrder() async throws {
        try await FirstPromoter.run { host in
            let create = "/api/v1/rewards/create"
            let cases: [(String, String)] = [
                ("reward_type=cash&amount=1&promotion_id=&ref_id=", "You need to pass either lead_id, email, uid, promotion_id or ref_id."),
                ("promotion_id=1&reward_type=bogus", "Promotion not found."),
                ("promotion_id=abc", "Promotion not found."),
                ("ref_id=nobody&lead_id=7", "Promotion not found."),
                ("email=lead@example.com&reward_type=bogus", "Lead not found."),
                ("uid=u_1", "Lead not found."),
                ("lead_id=7", "Lead not found."),
                ("ref_id=avery&amount=x", "You need to pass the reward_type."),
                ("ref_id=avery&reward_type=&amount=1", "You need to pass the reward_type."),
                ("ref_id=avery&reward_type=discount_per&amount=x", "Invalid reward_type. Must be one of: cash, credits, points, free_months"),
                ("ref_id=avery&reward_type=discount_mon", "Invalid reward_type. Must be one of: cash, credits, points, free_months"),
                ("ref_id=avery&reward_type=Cash", "Invalid reward_type. Must be one of: cash, credits, points, free_months"),
                ("ref_id=avery&reward_type=cash&status=bogus", "You need to pass the amount."),
                ("ref_id=avery&reward_type=cash&amount=12.5&status=bogus", "Amount must be an integer."),
                ("ref_id=avery&reward_type=cash&amount=1e3", "Amount must be an integer."),
                ("ref_id=avery&reward_type=cash&amount=%2B5", "Amount must be an integer."),
                ("ref_id=avery&reward_type=cash&amount=99999999999999999999", "Amount must be an integer."),
                ("ref_id=avery&reward_type=cash&amount=5&status=paid", "Invalid status. Must be one of: approved, pending, denied"),
                ("ref_id=avery&reward_type=cash&amount=5&event_id=in_1PqR5tAbCdEf", "Event id has already been taken."),
            ]
            for (body, message) in cases {
                expectFPError(try await host.fpForm(.post, create, body), 422, message)
            }
            // None of them made a reward.
            #expect(try await host.fp(.get, "/api/v1/rewards/list").header("Total") == "2")
        }
    }

    @Test func createTargetsThePromotionIdFirstAndStoresTheEvent() async throws {
        try await FirstPromoter.run { host in
            var response = try await host.fpJSON(.post, "/api/v1/rewards/create", """
                {"promotion_id": 9441115, "ref_id": "nobody", "email": "lead@example.com", "reward_type": "points",
                 "amount": -25, "status": "pending", "event_id": "ch_42", "skip_email_notification": "true"}
                """)
            #expect(response.status == 200)
            let reward = response.fpObject
            #expect(reward["id"] == .int(5_101_003))
            #expect(reward["status"] == .string("pending"))
            #expect(reward["amount"] == .int(-25))
            #expect(reward["unit"] == .string("points"))
            #expect(reward["event_id"] == .string("ch_42"))
            #expect(reward["promotion"]?["id"] == .int(9_441_115))
            expectFPRecent(reward["created_at"])
            let trail = try await host.store.auditTrail(tenant: "acme", resource: "rewards", recordID: "5101003")
            #expect(trail.map(\.to) == ["pending"])
            // The event id is unique and finds the reward.
            expectFPError(
                try await host.fpForm(.post, "/api/v1/rewards/create", "ref_id=avery&reward_type=cash&amount=1&event_id=ch_42"), 422,
                "Event id has already been taken."
            )
            response = try await host.fpForm(.put, "/api/v1/rewards/update", "event_id=ch_42")
            #expect(response.fpObject["id"] == .int(5_101_003))
            // An empty event id is no event id.
            response = try await host.fpForm(.post, "/api/v1/rewards/create", "ref_id=avery&reward_type=cash&amount=1&event_id=")
            #expect(response.fpObject["event_id"] == .null)
        }
    }

    @Test func concurrentCreatesWithOneEventIDMakeOneReward() async throws {
        try await FirstPromoter.run { host in
            let responses = try await withThrowingTaskGroup(of: TestResponse.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        try await host.fpForm(.post, "/api/v1/rewards/create", "ref_id=avery&reward_type=cash&amount=5&event_id=evt_once")
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(responses.filter { $0.status == 200 }.count == 1)
            for response in responses where response.status != 200 {
                expectFPError(response, 422, "Event id has already been taken.")
            }
            #expect(try await host.fp(.get, "/api/v1/rewards/list").header("Total") == "3")
        }
    }

    @Test func balancesFollowRewardPhasesPerUnitAndMayGoNegative() async throws {
        try await FirstPromoter.run { host in
            for body in ["reward_type=credits&amount=50", "reward_type=free_months&amount=2", "reward_type=points&amount=7&status=denied"] {
                #expect(try await host.fpForm(.post, "/api/v1/rewards/create", "ref_id=avery&" + body).status == 200)
            }
            var promoter = try await host.fp(.get, "/api/v1/promoters/show?id=8262622").fpObject
            #expect(promoter["earnings_balance"] == FirstPromoter.value(#"{"cash": 20000, "credits": 50, "free_months": 2}"#))
            #expect(promoter["current_balance"] == FirstPromoter.value(#"{"cash": 20000, "credits": 50, "free_months": 2}"#))
            #expect(promoter["paid_balance"] == .null)

            _ = try await host.fp(.put, "/api/v1/payouts/update?id=2709870&status=completed")
            // Denying a paid reward: earnings drop, the payout keeps its amount, current goes negative.
            let denied = try await host.fpForm(.put, "/api/v1/rewards/update", "id=5101001&status=denied")
            #expect(denied.fpObject["status"] == .string("denied"))
            #expect(denied.fpObject["promoter"]?["earnings_balance"] == FirstPromoter.value(#"{"credits": 50, "free_months": 2}"#))
            #expect(denied.fpObject["promoter"]?["paid_balance"] == FirstPromoter.value(#"{"cash": 20000}"#))
            #expect(denied.fpObject["promoter"]?["current_balance"] == FirstPromoter.value(#"{"cash": -20000, "credits": 50, "free_months": 2}"#))
            let payout = try await host.fp(.put, "/api/v1/payouts/update?id=2709870")
            #expect(payout.fpObject["amount"] == .int(20000))

            // Approving the pending one makes it unpaid cash.
            _ = try await host.fpForm(.put, "/api/v1/rewards/update", "event_id=in_1PqR5tAbCdEf&status=approved")
            let created = try await host.fpForm(.post, "/api/v1/payouts/create", "promoter_id=8262622")
            #expect(created.fpObject["amount"] == .int(1500))
            promoter = created.fpObject["promoter"]?.objectValue ?? [:]
            #expect(promoter["current_balance"] == FirstPromoter.value(#"{"cash": -18500, "credits": 50, "free_months": 2}"#))
        }
    }

    @Test func hugeAmountsAddUpWithoutOverflowing() async throws {
        try await FirstPromoter.run { host in
            for _ in 0..<2 {
                #expect(try await host.fpForm(.post, "/api/v1/rewards/create", "ref_id=avery&reward_type=cash&amount=9223372036854775807").status == 200)
            }
            let promoter = try await host.fp(.get, "/api/v1/promoters/show?id=8262622").fpObject
            #expect(promoter["earnings_balance"] == .object(["cash": .number("18446744073709571614")]))
            let payout = try await host.fpForm(.post, "/api/v1/payouts/create", "promoter_id=8262622")
            #expect(payout.fpObject["amount"] == .number("18446744073709551614"))
        }
    }

    // MARK: list

    @Test func listFiltersCombineAndUnknownOnesAre422() async throws {
        try await FirstPromoter.run { host in
            _ = try await host.fpForm(.post, "/api/v1/promoters/create", "email=kim@example.com&ref_id=kim&campaign_id=15170")
            _ = try await host.fpForm(.post, "/api/v1/rewards/create", "ref_id=kim&reward_type=cash&amount=10")
            func ids(_ query: String) async throws -> [Int64?] {
                let response = try await host.fp(.get, "/api/v1/rewards/list" + query)
                #expect(response.status == 200, "\(query)")
                return response.fpValue.arrayValue?.map { $0["id"]?.integerValue } ?? []
            }
            #expect(try await ids("") == [5_101_001, 5_101_002, 5_101_003])
            #expect(try await ids("?ref_id=kim") == [5_101_003])
            #expect(try await ids("?promotion_id=9441115") == [5_101_001, 5_101_002])
            #expect(try await ids("?promotion_id=9441115&ref_id=kim") == [5_101_001, 5_101_002])
            #expect(try await ids("?promoter_id=8262622") == [5_101_001, 5_101_002])
            #expect(try await ids("?campaign_id=15170") == [5_101_003])
            #expect(try await ids("?ref_id=avery&campaign_id=15170") == [])
            #expect(try await ids("?ref_id=&promoter_id=&campaign_id=") == [5_101_001, 5_101_002, 5_101_003])

            expectFPError(try await host.fp(.get, "/api/v1/rewards/list?ref_id=nobody&promoter_id=1&campaign_id=1"), 422, "Promotion not found.")
            expectFPError(try await host.fp(.get, "/api/v1/rewards/list?promotion_id=1"), 422, "Promotion not found.")
            expectFPError(try await host.fp(.get, "/api/v1/rewards/list?promoter_id=1&campaign_id=1"), 422, "Promoter not found.")
            expectFPError(try await host.fp(.get, "/api/v1/rewards/list?promoter_id=abc"), 422, "Promoter not found.")
            expectFPError(try await host.fp(.get, "/api/v1/rewards/list?campaign_id=1&page=0"), 422, "Campaign not found.")

            let response = try await host.fp(.get, "/api/v1/rewards/list?promoter_id=8262622&per_page=1&campaign_id=15161&page=2")
            #expect(response.header("Total") == "2")
            #expect(fpLinkPaths(response) == #"</api/v1/rewards/list?campaign_id=15161&page=1&per_page=1&promoter_id=8262622>; rel="first", </api/v1/rewards/list?campaign_id=15161&page=1&per_page=1&promoter_id=8262622>; rel="prev""#)
        }
    }

    // MARK: update

    @Test func updateErrorsInTheirOrder() async throws {
        try await FirstPromoter.run { host in
            let update = "/api/v1/rewards/update"
            let missing = "You need to find the reward either by id or event_id."
            expectFPError(try await host.fpForm(.put, update, "status=denied"), 422, missing)
            expectFPError(try await host.fpForm(.put, update, "id=&event_id=&status=bogus"), 422, missing)
            expectFPError(try await host.fpForm(.put, update, "id=1&status=bogus"), 422, "Reward not found.")
            expectFPError(try await host.fpForm(.put, update, "id=abc"), 422, "Reward not found.")
            expectFPError(try await host.fpForm(.put, update, "event_id=nope"), 422, "Reward not found.")
            // The id wins over the event id.
            expectFPError(try await host.fpForm(.put, update, "id=1&event_id=in_1PqR5tAbCdEf"), 422, "Reward not found.")
            expectFPError(
                try await host.fpForm(.put, update, "id=5101001&status=paid"), 422, "Invalid status. Must be one of: approved, pending, denied"
            )
            let unchanged = try await host.fpForm(.put, update, "id=5101001")
            #expect(unchanged.fpObject["status"] == .string("approved"))
            let same = try await host.fpForm(.put, update, "id=5101001&status=approved")
            #expect(same.body == unchanged.body)
            #expect(try await host.store.auditTrail(tenant: "acme", resource: "rewards", recordID: "5101001").isEmpty)

            let denied = try await host.fpForm(.put, update, "id=5101001&event_id=in_1PqR5tAbCdEf&status=denied")
            #expect(denied.fpObject["id"] == .int(5_101_001))
            let trail = try await host.store.auditTrail(tenant: "acme", resource: "rewards", recordID: "5101001")
            #expect(trail.count == 1)
            #expect(trail.first?.from == "approved")
            #expect(trail.first?.to == "denied")
            #expect(trail.first?.keyID == "acme-main")
            #expect(trail.first?.requestID == denied.header("X-Request-Id"))
        }
    }

    @Test func aTenantRewardVocabularyWithTransitions() async throws {
        let tenant = """
            statuses:
              rewards: { pending: open, approved: in_progress, paid: settled, denied: void }
            transitions:
              rewards: { pending: [approved, denied], approved: [paid, denied] }
            """
        try await FirstPromoter.run(acme: tenant) { host in
            // The first word is the initial status.
            var response = try await host.fpForm(.post, "/api/v1/rewards/create", "ref_id=avery&reward_type=cash&amount=100")
            #expect(response.fpObject["status"] == .string("pending"))
            #expect(response.fpObject["promoter"]?["earnings_balance"] == FirstPromoter.value(#"{"cash": 20000}"#))
            expectFPError(
                try await host.fpForm(.post, "/api/v1/rewards/create", "ref_id=avery&reward_type=cash&amount=1&status=rejected"), 422,
                "Invalid status. Must be one of: pending, approved, paid, denied"
            )
            response = try await host.fpForm(.put, "/api/v1/rewards/update", "id=5101001&status=paid")
            #expect(response.fpObject["status"] == .string("paid"))
            // A settled reward still counts toward earnings.
            #expect(response.fpObject["promoter"]?["earnings_balance"] == FirstPromoter.value(#"{"cash": 20000}"#))
            response = try await host.fpForm(.put, "/api/v1/rewards/update", "id=5101002&status=denied")
            #expect(response.status == 200)
            expectFPError(
                try await host.fpForm(.put, "/api/v1/rewards/update", "id=5101002&status=approved"), 422,
                "Cannot change reward status from denied to approved."
            )
            expectFPError(
                try await host.fpForm(.put, "/api/v1/rewards/update", "id=5101001&status=pending"), 422,
                "Cannot change reward status from paid to pending."
            )
        }
    }
}
