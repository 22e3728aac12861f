import AffiliateCore
import Hummingbird
import Testing

/// The repository's demo (`config/affhost.yaml`, `config/fixtures/acme.yaml`) answering the
/// vendor docs' own seed request with the docs' example payout.
@Suite struct FirstPromoterDemoTests {
    static let demoKey = "fp_test_key_acme"

    @Test func theSeedRequestReturnsTheDocumentedPayoutFieldByField() async throws {
        try await TestHost.runDemo { host in
            let response = try await host.fp(.put, "/api/v1/payouts/update?id=2710287&status=completed", key: Self.demoKey)
            #expect(response.status == 200)
            #expect(response.header("Content-Type") == "application/json; charset=utf-8")
            let payout = response.fpValue

            // Names, order, types, nesting and values as in the spec's example; date_paid is now.
            let differences = fpShapeDifferences(payout, FirstPromoter.value(FirstPromoter.seedPayout), ignoringValuesAt: ["date_paid"])
            #expect(differences == [])
            expectFPRecent(payout["date_paid"])
            #expect(payout["promoter"]?["paid_balance"] == FirstPromoter.value(#"{"cash": 3000}"#))

            // Byte for byte, with the instant substituted.
            var expected = FirstPromoter.value(FirstPromoter.seedPayout).objectValue!
            expected["date_paid"] = payout["date_paid"]
            #expect(response.body == JSONValue.object(expected).serialized)
        }
    }

    @Test func theSeedUpdateWritesOneAuditRowAndIsANoOpWhenRepeated() async throws {
        try await TestHost.runDemo { host in
            let first = try await host.fp(.put, "/api/v1/payouts/update?id=2710287&status=completed", key: Self.demoKey)
            #expect(first.status == 200)
            let datePaid = try #require(first.fpObject["date_paid"]?.stringValue)

            var trail = try await host.store.auditTrail(tenant: "acme", resource: "payouts", recordID: "2710287")
            #expect(trail.count == 1)
            let event = try #require(trail.first)
            #expect(event.tenant == "acme")
            #expect(event.from == "pending")
            #expect(event.to == "completed")
            #expect(event.keyID == "acme-main")
            #expect(event.requestID == first.header("X-Request-Id"))
            // One clock reading per write: the audit instant is the payment date.
            #expect(event.at.iso8601Milliseconds == datePaid)

            // Setting the current status again changes nothing, date_paid included.
            let second = try await host.fp(.put, "/api/v1/payouts/update?id=2710287&status=completed", key: Self.demoKey)
            #expect(second.status == 200)
            #expect(second.body == first.body)
            trail = try await host.store.auditTrail(tenant: "acme", resource: "payouts", recordID: "2710287")
            #expect(trail.count == 1)
        }
    }

    @Test func theDemoDataServesTheOtherEndpoints() async throws {
        try await TestHost.runDemo { host in
            var response = try await host.fp(.put, "/api/v1/payouts/update?id=2710287&status=completed", key: Self.demoKey)
            #expect(response.status == 200)
            var completed = FirstPromoter.value(FirstPromoter.seedPayout).objectValue!
            completed["date_paid"] = response.fpObject["date_paid"]

            response = try await host.fp(.get, "/api/v1/payouts/list?promoter_id=8262622", key: Self.demoKey)
            expectFP(response, 200, "[\(FirstPromoter.pendingPayout), \(JSONValue.object(completed).serialized)]")
            #expect(response.header("Total") == "2")

            response = try await host.fp(.get, "/api/v1/promoters/show?id=8262622", key: Self.demoKey)
            var promoter = FirstPromoter.value(FirstPromoter.p1).objectValue!
            promoter["profile"] = FirstPromoter.value("""
                {"id": 8310400, "first_name": "Avery", "last_name": "Lee", "website": null, "company_name": null,
                 "phone_number": null, "address": null, "vat_id": null, "country": "US", "paypal_email": null,
                 "avatar_url": null, "description": null, "social_accounts": {}}
                """)
            promoter["promotions"] = .array([FirstPromoter.value(FirstPromoter.promotion)])
            promoter["custom_fields"] = .null
            promoter["promo_codes"] = .array([])
            expectFP(response, 200, JSONValue.object(promoter).serialized)

            response = try await host.fp(.get, "/api/v1/rewards/list?promoter_id=8262622", key: Self.demoKey)
            #expect(response.status == 200)
            #expect(response.fpValue.arrayValue?.map { $0["id"]?.integerValue } == [5_101_001, 5_101_002, 5_101_003])
            #expect(response.header("Total") == "3")

            // The unpaid balance is gone: both approved rewards sit in live payouts.
            response = try await host.fpForm(.post, "/api/v1/payouts/create", "promoter_id=8262622", key: Self.demoKey)
            expectFPError(response, 422, "Promoter has no unpaid balance.")
        }
    }
}
