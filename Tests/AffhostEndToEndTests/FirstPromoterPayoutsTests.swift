import AffiliateCore
import Hummingbird
import Testing

/// `payouts/update`, `payouts/list`, `payouts/create` (spec §8.1-8.3), with the default and with
/// tenant-declared vocabularies and transitions.
@Suite struct FirstPromoterPayoutsTests {
    // MARK: payouts/update

    @Test func updateErrorsInTheirOrder() async throws {
        try await FirstPromoter.run { host in
            let missing = "You need to find the payout by id."
            expectFPError(try await host.fp(.put, "/api/v1/payouts/update"), 422, missing)
            expectFPError(try await host.fp(.put, "/api/v1/payouts/update?id=&status=completed"), 422, missing)
            expectFPError(try await host.fp(.put, "/api/v1/payouts/update?id=999&status=done"), 404, "Payment not found")
            expectFPError(try await host.fp(.put, "/api/v1/payouts/update?id=abc"), 404, "Payment not found")
            expectFPError(try await host.fp(.put, "/api/v1/payouts/update?id=-2709870"), 404, "Payment not found")
            let invalid = "Invalid status. Must be one of: pending, processing, completed"
            expectFPError(try await host.fp(.put, "/api/v1/payouts/update?id=2709870&status=done"), 422, invalid)
            expectFPError(try await host.fp(.put, "/api/v1/payouts/update?id=2709870&status=Completed"), 422, invalid)
            expectFPError(try await host.fp(.put, "/api/v1/payouts/update?id=2709870&status="), 422, invalid)
            // A word the vendor knows but this tenant did not declare.
            expectFPError(try await host.fp(.put, "/api/v1/payouts/update?id=2709870&status=failed"), 422, invalid)
            // Leading zeros still name the payout; no status returns it unchanged.
            let unchanged = try await host.fp(.put, "/api/v1/payouts/update?id=0002709870")
            let promoter = FirstPromoter.promoter(earnings: #"{"cash": 20000}"#, current: #"{"cash": 20000}"#, paid: "null")
            expectFP(unchanged, 200, """
                {"id": 2709870, "status": "pending", "amount": 20000, "date_paid": null,
                 "due_date": "2024-09-10T00:00:00.000Z", "unit": "cash", "created_at": "2024-08-12T09:00:00.000Z",
                 "has_issues": false, "reward": null, "promoter": \(promoter), "campaign": \(FirstPromoter.campaign)}
                """)
            #expect(try await host.store.auditTrail(tenant: "acme", resource: "payouts", recordID: "2709870").isEmpty)
        }
    }

    @Test func enteringAndLeavingTheSettledPhaseSetsAndClearsDatePaid() async throws {
        try await FirstPromoter.run { host in
            var response = try await host.fp(.put, "/api/v1/payouts/update?id=2709870&status=processing")
            #expect(response.fpObject["date_paid"] == .null)
            #expect(response.fpObject["promoter"]?["paid_balance"] == .null)
            response = try await host.fp(.put, "/api/v1/payouts/update?id=2709870&status=completed")
            let datePaid = response.fpObject["date_paid"]
            expectFPRecent(datePaid)
            #expect(response.fpObject["promoter"]?["paid_balance"] == FirstPromoter.value(#"{"cash": 20000}"#))
            #expect(response.fpObject["promoter"]?["current_balance"] == FirstPromoter.value(#"{"cash": 0}"#))
            // The same word again is a no-op: date_paid kept.
            response = try await host.fp(.put, "/api/v1/payouts/update?id=2709870&status=completed")
            #expect(response.fpObject["date_paid"] == datePaid)
            response = try await host.fp(.put, "/api/v1/payouts/update?id=2709870&status=pending")
            #expect(response.fpObject["date_paid"] == .null)
            #expect(response.fpObject["promoter"]?["paid_balance"] == .null)
            let trail = try await host.store.auditTrail(tenant: "acme", resource: "payouts", recordID: "2709870")
            #expect(trail.map { "\($0.from ?? "-")>\($0.to)" } == ["pending>processing", "processing>completed", "completed>pending"])
        }
    }

    @Test func aTenantVocabularyWithDeclaredTransitionsDecidesWordsMovesAndPhases() async throws {
        let tenant = """
            statuses:
              payouts: { pending: open, processing: in_progress, paid: settled, failed: failed, cancelled: void }
            transitions:
              payouts: { pending: [processing, failed, cancelled], processing: [paid, failed], failed: [pending] }
            """
        try await FirstPromoter.run(acme: tenant) { host in
            let invalid = "Invalid status. Must be one of: pending, processing, paid, failed, cancelled"
            expectFPError(try await host.fp(.put, "/api/v1/payouts/update?id=2709870&status=completed"), 422, invalid)
            expectFPError(
                try await host.fp(.put, "/api/v1/payouts/update?id=2709870&status=paid"), 422,
                "Cannot change payout status from pending to paid."
            )
            var response = try await host.fp(.put, "/api/v1/payouts/update?id=2709870&status=processing")
            #expect(response.fpObject["status"] == .string("processing"))
            response = try await host.fp(.put, "/api/v1/payouts/update?id=2709870&status=paid")
            #expect(response.fpObject["status"] == .string("paid"))
            expectFPRecent(response.fpObject["date_paid"])
            #expect(response.fpObject["promoter"]?["paid_balance"] == FirstPromoter.value(#"{"cash": 20000}"#))
            expectFPError(
                try await host.fp(.put, "/api/v1/payouts/update?id=2709870&status=pending"), 422,
                "Cannot change payout status from paid to pending."
            )
            // Setting the current word is a no-op even where no move from it is declared.
            response = try await host.fp(.put, "/api/v1/payouts/update?id=2709870&status=paid")
            #expect(response.status == 200)
            // Transitions do not constrain the status chosen at creation; a settled word pays now.
            _ = try await host.fpForm(.post, "/api/v1/rewards/create", "ref_id=avery&reward_type=cash&amount=700")
            response = try await host.fpForm(.post, "/api/v1/payouts/create", "promoter_id=8262622&status=paid")
            #expect(response.status == 200)
            #expect(response.fpObject["status"] == .string("paid"))
            #expect(response.fpObject["amount"] == .int(700))
            expectFPRecent(response.fpObject["date_paid"])
            #expect(response.fpObject["promoter"]?["paid_balance"] == FirstPromoter.value(#"{"cash": 20700}"#))
            expectFPError(try await host.fpForm(.post, "/api/v1/payouts/create", "promoter_id=8262622&status=completed"), 422, invalid)
        }
    }

    @Test func twoSettledWordsKeepDatePaidWhenMovingBetweenThem() async throws {
        try await FirstPromoter.run(acme: "statuses:\n  payouts: { pending: open, completed: settled, paid: settled }") { host in
            let completed = try await host.fp(.put, "/api/v1/payouts/update?id=2709870&status=completed")
            let datePaid = completed.fpObject["date_paid"]
            expectFPRecent(datePaid)
            let paid = try await host.fp(.put, "/api/v1/payouts/update?id=2709870&status=paid")
            #expect(paid.fpObject["status"] == .string("paid"))
            #expect(paid.fpObject["date_paid"] == datePaid)
        }
    }

    // MARK: payouts/create

    @Test func createErrorsInTheirOrder() async throws {
        try await FirstPromoter.run { host in
            let create = "/api/v1/payouts/create"
            expectFPError(try await host.fpForm(.post, create, "campaign_id=15161"), 422, "You need to pass either promoter_email or promoter_id.")
            expectFPError(try await host.fpForm(.post, create, "promoter_id=&promoter_email="), 422, "You need to pass either promoter_email or promoter_id.")
            expectFPError(try await host.fpForm(.post, create, "promoter_id=999&campaign_id=1&status=x"), 404, "Promoter not found.")
            expectFPError(try await host.fpForm(.post, create, "promoter_email=nobody@example.com"), 404, "Promoter not found.")
            // The id wins over the email.
            expectFPError(try await host.fpForm(.post, create, "promoter_id=999&promoter_email=avery.lee@example.com"), 404, "Promoter not found.")
            expectFPError(try await host.fpForm(.post, create, "promoter_id=8262622&campaign_id=1&status=x"), 422, "Campaign not found.")
            expectFPError(try await host.fpForm(.post, create, "promoter_id=8262622&campaign_id=abc"), 422, "Campaign not found.")
            expectFPError(
                try await host.fpForm(.post, create, "promoter_id=8262622&status=done"), 422,
                "Invalid status. Must be one of: pending, processing, completed"
            )
            // 5101001 sits in a pending payout, 5101002 is only pending: nothing to pay.
            expectFPError(try await host.fpForm(.post, create, "promoter_id=8262622"), 422, "Promoter has no unpaid balance.")
            expectFPError(try await host.fpForm(.post, create, "promoter_id=8262622&campaign_id=15170"), 422, "Promoter has no unpaid balance.")
        }
    }

    @Test func createTakesTheUnpaidCashOfOneCampaignByEmailCaseInsensitively() async throws {
        try await FirstPromoter.run { host in
            for body in [
                "ref_id=avery&reward_type=cash&amount=1200", "ref_id=avery&reward_type=cash&amount=300",
                "ref_id=avery&reward_type=credits&amount=5", "ref_id=avery&reward_type=cash&amount=999&status=pending",
            ] {
                #expect(try await host.fpForm(.post, "/api/v1/rewards/create", body).status == 200)
            }
            let response = try await host.fpForm(.post, "/api/v1/payouts/create", "promoter_email=AVERY.Lee@Example.com")
            #expect(response.status == 200)
            let payout = response.fpObject
            #expect(payout["amount"] == .int(1500))
            #expect(payout["unit"] == .string("cash"))
            #expect(payout["campaign"]?["id"] == .int(15161))
            #expect(payout["promoter"]?["earnings_balance"] == FirstPromoter.value(#"{"cash": 21500, "credits": 5}"#))
            let id = try #require(payout["id"]?.integerValue)
            // The rewards are attached: a second create finds nothing, and the rewards list shows them.
            expectFPError(try await host.fpForm(.post, "/api/v1/payouts/create", "promoter_id=8262622"), 422, "Promoter has no unpaid balance.")
            let trail = try await host.store.auditTrail(tenant: "acme", resource: "payouts", recordID: String(id))
            #expect(trail.map(\.to) == ["pending"])
            #expect(trail.first?.from == nil)
        }
    }

    @Test func failedOrCancelledPayoutsFreeTheirRewardsForTheNextCreate() async throws {
        try await FirstPromoter.run(acme: "statuses:\n  payouts: [pending, processing, completed, failed, cancelled]") { host in
            var response = try await host.fp(.put, "/api/v1/payouts/update?id=2709870&status=failed")
            #expect(response.status == 200)
            response = try await host.fpForm(.post, "/api/v1/payouts/create", "promoter_id=8262622")
            #expect(response.fpObject["amount"] == .int(20000))
            let retry = try #require(response.fpObject["id"]?.integerValue)
            expectFPError(try await host.fpForm(.post, "/api/v1/payouts/create", "promoter_id=8262622"), 422, "Promoter has no unpaid balance.")
            // The failed payout keeps its amount.
            response = try await host.fp(.put, "/api/v1/payouts/update?id=2709870")
            #expect(response.fpObject["amount"] == .int(20000))
            #expect(response.fpObject["status"] == .string("failed"))

            response = try await host.fp(.put, "/api/v1/payouts/update?id=\(retry)&status=cancelled")
            #expect(response.fpObject["status"] == .string("cancelled"))
            response = try await host.fpForm(.post, "/api/v1/payouts/create", "promoter_id=8262622&status=completed")
            #expect(response.fpObject["amount"] == .int(20000))
            expectFPRecent(response.fpObject["date_paid"])
            #expect(response.fpObject["promoter"]?["paid_balance"] == FirstPromoter.value(#"{"cash": 20000}"#))
            #expect(response.fpObject["promoter"]?["current_balance"] == FirstPromoter.value(#"{"cash": 0}"#))
        }
    }

    @Test func concurrentCreatesNeverPayTheSameRewardsTwice() async throws {
        try await FirstPromoter.run { host in
            for amount in [100, 200, 300] {
                _ = try await host.fpForm(.post, "/api/v1/rewards/create", "ref_id=avery&reward_type=cash&amount=\(amount)")
            }
            let responses = try await withThrowingTaskGroup(of: TestResponse.self) { group in
                for _ in 0..<8 {
                    group.addTask { try await host.fpForm(.post, "/api/v1/payouts/create", "promoter_id=8262622") }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let created = responses.filter { $0.status == 200 }
            #expect(created.count == 1)
            #expect(created.first?.fpObject["amount"] == .int(600))
            for response in responses where response.status != 200 {
                expectFPError(response, 422, "Promoter has no unpaid balance.")
            }
            let pending = try await host.fp(.get, "/api/v1/payouts/list?promoter_id=8262622&status=pending")
            #expect(pending.header("Total") == "2")
        }
    }

    @Test func aClawbackThatLeavesNothingPositiveIsNoUnpaidBalance() async throws {
        try await FirstPromoter.run { host in
            _ = try await host.fpForm(.post, "/api/v1/rewards/create", "ref_id=avery&reward_type=cash&amount=400")
            _ = try await host.fpForm(.post, "/api/v1/rewards/create", "ref_id=avery&reward_type=cash&amount=-400")
            expectFPError(try await host.fpForm(.post, "/api/v1/payouts/create", "promoter_id=8262622"), 422, "Promoter has no unpaid balance.")
        }
    }

    @Test func withoutPayoutDueDaysTheDueDateIsNull() async throws {
        try await FirstPromoter.run { host in
            let rival = FirstPromoter.rivalKey
            var response = try await host.fpForm(.post, "/api/v1/promoters/create", "email=sam@example.com&first_name=Sam", key: rival)
            #expect(response.status == 200)
            let promoterID = try #require(response.fpObject["id"]?.integerValue)
            response = try await host.fpForm(.post, "/api/v1/rewards/create", "ref_id=sam&reward_type=cash&amount=900", key: rival)
            #expect(response.status == 200)
            response = try await host.fpForm(.post, "/api/v1/payouts/create", "promoter_id=\(promoterID)", key: rival)
            #expect(response.status == 200)
            #expect(response.fpObject["due_date"] == .null)
            #expect(response.fpObject["campaign"]?["name"] == .string("Rival campaign"))
            #expect(response.fpObject["campaign"]?["color"] == .string("#26a69a"))
        }
    }

    // MARK: payouts/list

    static let threePayouts = FirstPromoter.specFixtures + """

          - { id: 2709871, promoter_id: 8262622, status: pending, amount: 10, created_at: "2024-08-13T09:00:00.000Z" }
          - { id: 2709872, promoter_id: 8262622, campaign_id: 15170, status: completed, amount: 20, created_at: "2024-08-14T09:00:00.000Z", date_paid: "2024-08-20T10:00:00.000Z", due_date: null, has_issues: true }
        """

    @Test func listFiltersCombineAndUnknownValuesMatchNothing() async throws {
        try await FirstPromoter.run(fixtures: Self.threePayouts) { host in
            func ids(_ query: String) async throws -> [Int64?] {
                let response = try await host.fp(.get, "/api/v1/payouts/list" + query)
                #expect(response.status == 200)
                return response.fpValue.arrayValue?.map { $0["id"]?.integerValue } ?? []
            }
            #expect(try await ids("") == [2_709_870, 2_709_871, 2_709_872])
            #expect(try await ids("?status=pending") == [2_709_870, 2_709_871])
            #expect(try await ids("?status=pending&campaign_id=15161") == [2_709_870, 2_709_871])
            #expect(try await ids("?campaign_id=15170&promoter_id=8262622") == [2_709_872])
            #expect(try await ids("?status=&campaign_id=&promoter_id=") == [2_709_870, 2_709_871, 2_709_872])
            #expect(try await ids("?promoter_id=abc") == [])
            #expect(try await ids("?promoter_id=999") == [])
            #expect(try await ids("?campaign_id=1") == [])
            #expect(try await ids("?status=done") == [])
            #expect(try await ids("?status=completed&campaign_id=15161") == [])

            let fixtureCompleted = try await host.fp(.get, "/api/v1/payouts/list?status=completed")
            let payout = try #require(fixtureCompleted.fpValue.arrayValue?.first?.objectValue)
            #expect(payout["date_paid"] == .string("2024-08-20T10:00:00.000Z"))
            #expect(payout["due_date"] == .null)
            #expect(payout["has_issues"] == .bool(true))
            #expect(payout["campaign"]?["landing_url"] == .string("https://example.com/spring?src=fp"))
        }
    }

    @Test func listPagesWithHeadersAndLinks() async throws {
        try await FirstPromoter.run(fixtures: Self.threePayouts) { host in
            var response = try await host.fp(.get, "/api/v1/payouts/list?per_page=1&promoter_id=8262622&junk=1")
            #expect(response.fpValue.arrayValue?.map { $0["id"]?.integerValue } == [2_709_870])
            #expect(response.header("Total") == "3")
            #expect(response.header("Per-Page") == "1")
            #expect(fpLinkPaths(response) == #"</api/v1/payouts/list?page=3&per_page=1&promoter_id=8262622>; rel="last", </api/v1/payouts/list?page=2&per_page=1&promoter_id=8262622>; rel="next""#)

            response = try await host.fp(.get, "/api/v1/payouts/list?page=2&per_page=1&status=pending")
            #expect(response.fpValue.arrayValue?.map { $0["id"]?.integerValue } == [2_709_871])
            #expect(response.header("Total") == "2")
            #expect(fpLinkPaths(response) == #"</api/v1/payouts/list?page=1&per_page=1&status=pending>; rel="first", </api/v1/payouts/list?page=1&per_page=1&status=pending>; rel="prev""#)

            // Both sides, and per_page exactly as received (from a form body here).
            response = try await host.fp(.get, "/api/v1/payouts/list", contentType: FirstPromoter.form, body: "page=2&per_page=01")
            #expect(response.header("Per-Page") == "1")
            #expect(fpLinkPaths(response) == #"</api/v1/payouts/list?page=1&per_page=01>; rel="first", </api/v1/payouts/list?page=1&per_page=01>; rel="prev", </api/v1/payouts/list?page=3&per_page=01>; rel="last", </api/v1/payouts/list?page=3&per_page=01>; rel="next""#)

            // Past the end: an empty page with headers.
            response = try await host.fp(.get, "/api/v1/payouts/list?page=9")
            expectFP(response, 200, "[]")
            #expect(response.header("Total") == "3")
            #expect(response.header("Per-Page") == "20")
            #expect(fpLinkPaths(response) == #"</api/v1/payouts/list?page=1>; rel="first", </api/v1/payouts/list?page=8>; rel="prev""#)
            response = try await host.fp(.get, "/api/v1/payouts/list?page=99999999999999999999999")
            expectFP(response, 200, "[]")

            // Over 100 becomes 100; the Link keeps what was sent.
            response = try await host.fp(.get, "/api/v1/payouts/list?per_page=500")
            #expect(response.header("Per-Page") == "100")
            #expect(response.header("Link") == nil)
        }
    }

    @Test func pagingParametersMustBePositiveIntegers() async throws {
        try await FirstPromoter.run { host in
            for path in ["/api/v1/payouts/list", "/api/v1/promoters/list", "/api/v1/rewards/list"] {
                for value in ["0", "-1", "abc", "1.5", "+2", " 1"] {
                    let encoded = value.replacingOccurrences(of: "+", with: "%2B").replacingOccurrences(of: " ", with: "%20")
                    expectFPError(try await host.fp(.get, "\(path)?page=\(encoded)"), 422, "page must be a positive integer.")
                    expectFPError(try await host.fp(.get, "\(path)?per_page=\(encoded)"), 422, "per_page must be a positive integer.")
                }
                // page is checked before per_page.
                expectFPError(try await host.fp(.get, "\(path)?per_page=0&page=0"), 422, "page must be a positive integer.")
                #expect(try await host.fp(.get, "\(path)?page=&per_page=").status == 200)
            }
        }
    }
}
