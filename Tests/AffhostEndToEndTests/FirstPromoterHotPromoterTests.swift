import AffiliateCore
import Testing

/// A promoter with a long history (10,000 rewards, 200 more payouts) answers with balances that
/// are exactly the sums of that history, moved by each change, through every response nesting
/// them. The balances are running totals (no response reads the history behind them); this
/// checks them against the history itself.
@Suite struct FirstPromoterHotPromoterTests {
    static let rewards = 10_000
    static let payouts = 200

    static func rewardStatus(_ index: Int) -> String { ["approved", "pending", "denied"][index % 3] }
    static func rewardAmount(_ index: Int) -> Int { index * 37 % 5_000 + 1 }
    static func payoutCompleted(_ index: Int) -> Bool { index % 2 == 0 }
    static func payoutAmount(_ index: Int) -> Int { 100 + index }

    /// The demo fixtures with the extra history of promoter 8262622 (promotion 9441115).
    static var fixtures: String {
        var rewards = ""
        for index in 0..<Self.rewards {
            rewards += """
                  - { id: \(6_000_000 + index), promotion_id: 9441115, status: \(rewardStatus(index)), amount: \(rewardAmount(index)), unit: cash, created_at: "2024-08-01T12:00:00.000Z" }

                """
        }
        var payouts = ""
        for index in 0..<Self.payouts {
            let paid = payoutCompleted(index) ? #"status: completed, date_paid: "2024-09-01T00:00:00.000Z""# : "status: pending"
            payouts += """
                  - { id: \(3_000_000 + index), promoter_id: 8262622, campaign_id: 15161, \(paid), amount: \(payoutAmount(index)), unit: cash, created_at: "2024-08-12T09:00:00.000Z" }

                """
        }
        let demo = FirstPromoter.specFixtures
        // `payouts:` is the last list, so further payouts follow it.
        precondition(demo.contains("\nrewards:\n") && demo.contains("\npayouts:\n"), "the demo fixtures changed shape")
        return demo.replacingOccurrences(of: "\nrewards:\n", with: "\nrewards:\n" + rewards) + "\n" + payouts
    }

    static func expectBalances(
        _ promoter: JSONValue?, earnings: Int, paid: Int, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(promoter?["earnings_balance"] == FirstPromoter.value(#"{"cash": \#(earnings)}"#), sourceLocation: sourceLocation)
        #expect(promoter?["current_balance"] == FirstPromoter.value(#"{"cash": \#(earnings - paid)}"#), sourceLocation: sourceLocation)
        #expect(promoter?["paid_balance"] == FirstPromoter.value(#"{"cash": \#(paid)}"#), sourceLocation: sourceLocation)
    }

    @Test func balancesAreTheSumsOfTheWholeHistoryAfterEachChange() async throws {
        try await FirstPromoter.run(fixtures: Self.fixtures) { host in
            // The demo's own history: 20,000 cents approved, nothing paid.
            var earnings = 20_000 + (0..<Self.rewards).filter { Self.rewardStatus($0) == "approved" }.map(Self.rewardAmount).reduce(0, +)
            var paid = (0..<Self.payouts).filter(Self.payoutCompleted).map(Self.payoutAmount).reduce(0, +)
            var response = try await host.fp(.put, "/api/v1/payouts/update?id=2709870")
            #expect(response.status == 200)
            Self.expectBalances(response.fpObject["promoter"], earnings: earnings, paid: paid)

            response = try await host.fp(.put, "/api/v1/payouts/update?id=2709870&status=completed")
            #expect(response.status == 200)
            paid += 20_000
            Self.expectBalances(response.fpObject["promoter"], earnings: earnings, paid: paid)

            // A pending reward approved: it counts toward the earnings from now on.
            response = try await host.fp(.put, "/api/v1/rewards/update?id=\(6_000_000 + 1)&status=approved")
            #expect(response.status == 200)
            earnings += Self.rewardAmount(1)
            Self.expectBalances(response.fpObject["promoter"], earnings: earnings, paid: paid)

            // An approved one denied, and a completed payout back to pending.
            response = try await host.fp(.put, "/api/v1/rewards/update?id=\(6_000_000 + 3)&status=denied")
            earnings -= Self.rewardAmount(3)
            Self.expectBalances(response.fpObject["promoter"], earnings: earnings, paid: paid)
            response = try await host.fp(.put, "/api/v1/payouts/update?id=\(3_000_000 + 2)&status=pending")
            paid -= Self.payoutAmount(2)
            Self.expectBalances(response.fpObject["promoter"], earnings: earnings, paid: paid)

            // A refused change moves nothing.
            response = try await host.fp(.put, "/api/v1/payouts/update?id=\(3_000_000 + 4)&status=teleported")
            #expect(response.status == 422)

            // Every response nesting the promoter agrees.
            response = try await host.fp(.get, "/api/v1/promoters/show?id=8262622")
            #expect(response.status == 200)
            Self.expectBalances(response.fpValue, earnings: earnings, paid: paid)
            response = try await host.fp(.get, "/api/v1/payouts/list?promoter_id=8262622&per_page=1")
            #expect(response.status == 200)
            Self.expectBalances(FirstPromoter.value(response.body).arrayValue?.first?["promoter"], earnings: earnings, paid: paid)
            response = try await host.fp(.get, "/api/v1/rewards/list?promoter_id=8262622&per_page=1")
            #expect(response.status == 200)
            Self.expectBalances(FirstPromoter.value(response.body).arrayValue?.first?["promoter"], earnings: earnings, paid: paid)
        }
    }
}
