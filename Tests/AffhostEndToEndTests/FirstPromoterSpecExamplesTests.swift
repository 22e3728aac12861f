import AffiliateCore
import Hummingbird
import Testing

/// The spec's §8 examples in its call order (8.9, 8.2, 8.3, 8.1, 8.11, 8.10, 8.4, 8.6, 8.7, 8.8)
/// against its example state: every documented body comes back exactly, apart from the ids and
/// instants affhost generates, which are checked for their form.
@Suite struct FirstPromoterSpecExamplesTests {
    @Test func theSpecExamplesRunInOrder() async throws {
        try await FirstPromoter.run { host in
            // 8.9 POST /rewards/create: reward ids continue above the fixtures' highest one.
            var response = try await host.fpForm(.post, "/api/v1/rewards/create", "ref_id=avery&reward_type=cash&amount=3000")
            #expect(response.status == 200)
            let reward = response.fpObject
            expectFPRecent(reward["created_at"])
            var expected = FirstPromoter.value("""
                {"id": 5101003, "status": "approved", "amount": 3000, "unit": "cash",
                 "created_at": \(reward["created_at"]?.serialized ?? "null"), "lead": null, "event_id": null,
                 "conversion_amount": null, "tier_level": 1, "promoter": \(FirstPromoter.p0), "promotion": \(FirstPromoter.promotion)}
                """)
            expectFP(response, 200, expected.serialized)

            // 8.2 POST /payouts/create: the whole unpaid balance, reward 5101003.
            response = try await host.fpForm(.post, "/api/v1/payouts/create", "promoter_id=8262622&campaign_id=15161")
            #expect(response.status == 200)
            let created = response.fpObject
            let payoutID = try #require(created["id"]?.integerValue)
            #expect(payoutID > 2_709_870)
            expectFPRecent(created["created_at"])
            let createdAt = try #require(Timestamp(iso8601: created["created_at"]?.stringValue ?? ""))
            expected = FirstPromoter.value("""
                {"id": \(payoutID), "status": "pending", "amount": 3000, "date_paid": null,
                 "due_date": "\(createdAt.startOfDay.adding(days: 29).iso8601Milliseconds)", "unit": "cash",
                 "created_at": "\(createdAt.iso8601Milliseconds)", "has_issues": false, "reward": null,
                 "promoter": \(FirstPromoter.p0), "campaign": \(FirstPromoter.campaign)}
                """)
            expectFP(response, 200, expected.serialized)

            // 8.3 PUT /payouts/update: completing it moves the money to paid_balance.
            response = try await host.fp(.put, "/api/v1/payouts/update?id=\(payoutID)&status=completed")
            #expect(response.status == 200)
            let completed = response.fpObject
            expectFPRecent(completed["date_paid"])
            var completedObject = expected.objectValue!
            completedObject["status"] = .string("completed")
            completedObject["date_paid"] = completed["date_paid"]
            completedObject["promoter"] = FirstPromoter.value(FirstPromoter.p1)
            expectFP(response, 200, JSONValue.object(completedObject).serialized)

            // 8.1 GET /payouts/list?promoter_id=...
            response = try await host.fp(.get, "/api/v1/payouts/list?promoter_id=8262622")
            expectFP(response, 200, "[\(FirstPromoter.pendingPayout), \(JSONValue.object(completedObject).serialized)]")
            #expect(response.header("Total") == "2")
            #expect(response.header("Per-Page") == "20")
            #expect(response.header("Link") == nil)

            // 8.11 PUT /rewards/update by event_id, JSON body.
            response = try await host.fpJSON(.put, "/api/v1/rewards/update", #"{"event_id": "in_1PqR5tAbCdEf", "status": "denied"}"#)
            expectFP(response, 200, """
                {"id": 5101002, "status": "denied", "amount": 1500, "unit": "cash",
                 "created_at": "2024-09-09T08:30:00.000Z", "lead": null, "event_id": "in_1PqR5tAbCdEf",
                 "conversion_amount": null, "tier_level": 1, "promoter": \(FirstPromoter.p1), "promotion": \(FirstPromoter.promotion)}
                """)

            // 8.10 GET /rewards/list?ref_id=avery&per_page=1
            response = try await host.fp(.get, "/api/v1/rewards/list?ref_id=avery&per_page=1")
            expectFP(response, 200, """
                [{"id": 5101001, "status": "approved", "amount": 20000, "unit": "cash",
                  "created_at": "2024-08-01T12:00:00.000Z", "lead": null, "event_id": null, "conversion_amount": null,
                  "tier_level": 1, "promoter": \(FirstPromoter.p1), "promotion": \(FirstPromoter.promotion)}]
                """)
            #expect(response.header("Total") == "3")
            #expect(response.header("Per-Page") == "1")
            #expect(fpLinkPaths(response) == #"</api/v1/rewards/list?page=3&per_page=1&ref_id=avery>; rel="last", </api/v1/rewards/list?page=2&per_page=1&ref_id=avery>; rel="next""#)

            // 8.4 POST /promoters/create, JSON body.
            response = try await host.fpJSON(.post, "/api/v1/promoters/create", """
                {"email": "jordan.kim@example.com", "first_name": "Jordan", "last_name": "Kim",
                 "cust_id": "usr_4411", "country": "US", "twitter_url": "https://twitter.com/jordankim"}
                """)
            #expect(response.status == 200)
            let jordan = response.fpObject
            let generated: Set<String> = [
                "id", "created_at", "default_promotion_id", "pref", "auth_token", "profile.id", "promotions[0].id",
                "promotions[0].promoter_id",
            ]
            #expect(fpShapeDifferences(.object(jordan), FirstPromoter.value(Self.jordan), ignoringValuesAt: generated) == [])
            let jordanID = try #require(jordan["id"]?.integerValue)
            #expect(jordanID > 8_262_622)
            expectFPRecent(jordan["created_at"])
            let promotion = try #require(jordan["promotions"]?.arrayValue?.first?.objectValue)
            #expect(jordan["default_promotion_id"] == promotion["id"])
            #expect(promotion["id"]!.integerValue! > 9_441_115)
            #expect(promotion["promoter_id"]?.integerValue == jordanID)
            let pref = jordan["pref"]?.stringValue ?? ""
            #expect(pref.count == 7 && pref.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber) })
            let token = jordan["auth_token"]?.stringValue ?? ""
            #expect(token.count == 32 && token.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") })

            // 8.6 PUT /promoters/update, form body: J is 8.4 with exactly these changes.
            response = try await host.fpForm(.put, "/api/v1/promoters/update", "id=\(jordanID)&new_ref_id=jordank&note=Podcast%20partner")
            var j = jordan
            j["default_ref_id"] = .string("jordank")
            j["note"] = .string("Podcast partner")
            var renamed = promotion
            renamed["ref_id"] = .string("jordank")
            renamed["referral_link"] = .string("http://example.com/?fpr=jordank")
            j["promotions"] = .array([.object(renamed)])
            let jText = JSONValue.object(j).serialized
            expectFP(response, 200, jText)

            // 8.7 GET /promoters/show?ref_id=jordank and the paged list.
            response = try await host.fp(.get, "/api/v1/promoters/show?ref_id=jordank")
            expectFP(response, 200, jText)
            response = try await host.fp(.get, "/api/v1/promoters/list?campaign_id=15161&per_page=1&page=2")
            expectFP(response, 200, "[\(jText)]")
            #expect(response.header("Total") == "2")
            #expect(response.header("Per-Page") == "1")
            #expect(fpLinkPaths(response) == #"</api/v1/promoters/list?campaign_id=15161&page=1&per_page=1>; rel="first", </api/v1/promoters/list?campaign_id=15161&page=1&per_page=1>; rel="prev""#)

            // 8.8 DELETE /promoters/delete
            response = try await host.fp(.delete, "/api/v1/promoters/delete?id=\(jordanID)")
            expectFP(response, 200, #"{"message": "Promoter removed."}"#)
            response = try await host.fp(.get, "/api/v1/promoters/show?id=\(jordanID)")
            expectFPError(response, 404, "Promoter not found.")
        }
    }

    /// The 8.4 response.
    static let jordan = """
        {"id": 8262700, "status": "active", "cust_id": "usr_4411", "email": "jordan.kim@example.com",
         "created_at": "2024-09-22T10:05:11.482Z", "temp_password": null, "default_promotion_id": 9441200,
         "pref": "q7d2m8x", "default_ref_id": "jordan", "note": null, "w8_form_url": null, "w9_form_url": null,
         "parent_promoter_id": null, "earnings_balance": null, "current_balance": null, "paid_balance": null,
         "auth_token": "Vd3kP9sLq2_Zx7RmT4nWb8YcHf1Ja6Ue",
         "profile": {"id": 8310455, "first_name": "Jordan", "last_name": "Kim", "website": null,
          "company_name": null, "phone_number": null, "address": null, "vat_id": null, "country": "US",
          "paypal_email": null, "avatar_url": null, "description": null,
          "social_accounts": {"twitter": {"url": "https://twitter.com/jordankim"}}},
         "promotions": [{"id": 9441200, "status": "offer_running", "ref_id": "jordan", "promo_code": null,
          "customer_promo_code": null, "target_reached_at": null, "promoter_id": 8262700, "campaign_id": 15161,
          "referral_link": "http://example.com/?fpr=jordan", "current_offer": null,
          "current_referral_reward": null, "current_promotion_reward": null, "current_target_reward": null,
          "campaign_name": "Test new campaign", "hidden": false, "visitors_count": 0, "leads_count": 0,
          "customers_count": 0, "refunds_count": 0, "cancellations_count": 0, "sales_count": 0,
          "sales_total": 0, "refunds_total": 0, "active_customers_count": 0}],
         "custom_fields": null, "promo_codes": []}
        """
}

/// The `Link` header with each URL's scheme and authority dropped (the test server's port is
/// not fixed); `nil` without a header. Asserts the URLs are absolute `http://` ones.
func fpLinkPaths(_ response: TestResponse, sourceLocation: SourceLocation = #_sourceLocation) -> String? {
    guard let link = response.header("Link") else { return nil }
    var out = ""
    var rest = Substring(link)
    while let start = rest.range(of: "<http://") {
        out += rest[..<start.lowerBound] + "<"
        rest = rest[start.upperBound...]
        guard let slash = rest.firstIndex(of: "/") else { break }
        #expect(!rest[..<slash].isEmpty, "a host in \(link)", sourceLocation: sourceLocation)
        rest = rest[slash...]
    }
    #expect(!out.isEmpty, "absolute http URLs in \(link)", sourceLocation: sourceLocation)
    return out + rest
}
