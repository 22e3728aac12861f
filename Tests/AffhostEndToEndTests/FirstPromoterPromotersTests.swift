import AffiliateCore
import Hummingbird
import Testing

/// `promoters/create`, `update`, `show`, `list`, `delete` (spec §8.4-8.8).
@Suite struct FirstPromoterPromotersTests {
    static let showMissing =
        "You need to find the promoter either by id, cust_id, auth_token, ref_id, promoter_email or promo_code"
    static let deleteMissing = "You need to find the promoter either by id, cust_id, auth_token, ref_id or promoter_email"

    static func fieldErrors(_ pairs: KeyValuePairs<String, String>) -> String {
        var body = JSONObject()
        for (name, message) in pairs {
            body[name] = name == "promotions"
                ? .array([.object(["ref_id": .array([.string(message)])])]) : .array([.string(message)])
        }
        return JSONValue.object(body).serialized
    }

    // MARK: create

    @Test func createValidatesEveryFieldInOneAnswer() async throws {
        try await FirstPromoter.run { host in
            let create = "/api/v1/promoters/create"
            var response = try await host.fpForm(.post, create, "first_name=Jo")
            expectFP(response, 422, Self.fieldErrors(["company_user.user.email": "can't be blank"]))
            for email in ["a@b", "ab.example.com", "a b@example.com", "a@@example.com", "@example.com", "a@example..com", "a@.com", "a@example.com."] {
                response = try await host.fpJSON(.post, create, JSONValue.object(["email": .string(email)]).serialized)
                expectFP(response, 422, Self.fieldErrors(["company_user.user.email": "is invalid"]))
            }
            response = try await host.fpForm(.post, create, "email=jo@example.com&cust_id=")
            #expect(response.status == 200)
            #expect(response.fpObject["cust_id"] == .string(""))
            _ = try await host.fpForm(.post, create, "email=kim@example.com&cust_id=usr_1&ref_id=kim")

            response = try await host.fpForm(
                .post, create, "email=AVERY.LEE@example.COM&cust_id=usr_1&ref_id=Bad%20Ref&created_at=yesterday"
            )
            expectFP(response, 422, Self.fieldErrors([
                "company_user.user.email": "has already been taken", "cust_id": "has already been taken",
                "promotions": "is invalid", "created_at": "is invalid",
            ]))
            response = try await host.fpForm(.post, create, "email=new@example.com&ref_id=kim")
            expectFP(response, 422, Self.fieldErrors(["promotions": "has already been taken"]))
            response = try await host.fpForm(.post, create, "email=new@example.com&ref_id=avery")
            expectFP(response, 422, Self.fieldErrors(["promotions": "has already been taken"]))
        }
    }

    @Test func concurrentCreatesWithOneEmailMakeOnePromoter() async throws {
        try await FirstPromoter.run { host in
            let responses = try await withThrowingTaskGroup(of: TestResponse.self) { group in
                for index in 0..<8 {
                    group.addTask {
                        try await host.fpForm(.post, "/api/v1/promoters/create", "email=Same@example.com&first_name=Sam&cust_id=c\(index)")
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(responses.filter { $0.status == 200 }.count == 1)
            for response in responses where response.status != 200 {
                expectFP(response, 422, Self.fieldErrors(["company_user.user.email": "has already been taken"]))
            }
            let list = try await host.fp(.get, "/api/v1/promoters/list")
            #expect(list.header("Total") == "2")
        }
    }

    @Test func campaignAndParentAreCheckedBeforeTheFields() async throws {
        try await FirstPromoter.run { host in
            let create = "/api/v1/promoters/create"
            expectFPError(try await host.fpForm(.post, create, "campaign_id=999&parent_promoter_id=1"), 422, "Campaign not found.")
            expectFPError(try await host.fpForm(.post, create, "campaign_id=x"), 422, "Campaign not found.")
            expectFPError(try await host.fpForm(.post, create, "parent_promoter_id=1"), 422, "Parent promoter not found.")
            expectFPError(try await host.fpForm(.post, create, "parent_promoter_email=nobody@example.com"), 422, "Parent promoter not found.")
            // The id wins over the email.
            expectFPError(
                try await host.fpForm(.post, create, "parent_promoter_id=1&parent_promoter_email=avery.lee@example.com&email=x@example.com"),
                422, "Parent promoter not found."
            )
            var response = try await host.fpForm(.post, create, "email=child@example.com&parent_promoter_email=Avery.Lee@example.com")
            #expect(response.fpObject["parent_promoter_id"] == .int(8_262_622))
            response = try await host.fpForm(.post, create, "email=child2@example.com&parent_promoter_id=8262622")
            #expect(response.fpObject["parent_promoter_id"] == .int(8_262_622))
        }
    }

    @Test func createStoresEveryFieldTheVendorAccepts() async throws {
        try await FirstPromoter.run { host in
            let response = try await host.fpJSON(.post, "/api/v1/promoters/create", """
                {"email": "Riley@Example.com", "first_name": "Riley", "last_name": "Park", "website": "https://riley.example",
                 "company_name": "Riley Co", "phone_number": "+1 555 0100", "address": "1 Main St", "country": "CA",
                 "paypal_email": "pay@riley.example", "avatar_url": "https://riley.example/a.png",
                 "instagram_url": "https://instagram.com/riley", "youtube_url": "",
                 "twitter_url": "https://twitter.com/riley", "cust_id": "cus_9", "ref_id": "riley_p-1",
                 "promo_code": "RILEY10", "customer_promo_code": "WELCOME", "campaign_id": 15170,
                 "note": "met at expo", "temp_password": "s3cret", "created_at": "2024-01-02T03:04:05+01:00",
                 "skip_email_notification": true, "always_approve": true, "unknown": "ignored"}
                """)
            #expect(response.status == 200)
            let promoter = response.fpObject
            #expect(promoter["email"] == .string("Riley@Example.com"))
            #expect(promoter["cust_id"] == .string("cus_9"))
            #expect(promoter["created_at"] == .string("2024-01-02T02:04:05.000Z"))
            #expect(promoter["temp_password"] == .string("s3cret"))
            #expect(promoter["note"] == .string("met at expo"))
            #expect(promoter["status"] == .string("active"))
            #expect(promoter["default_ref_id"] == .string("riley_p-1"))
            let profile = try #require(promoter["profile"]?.objectValue)
            #expect(profile.keys == [
                "id", "first_name", "last_name", "website", "company_name", "phone_number", "address", "vat_id", "country",
                "paypal_email", "avatar_url", "description", "social_accounts",
            ])
            #expect(profile["phone_number"] == .string("+1 555 0100"))
            #expect(profile["vat_id"] == .null)
            #expect(profile["social_accounts"] == FirstPromoter.value("""
                {"twitter": {"url": "https://twitter.com/riley"}, "youtube": {"url": ""},
                 "instagram": {"url": "https://instagram.com/riley"}}
                """))
            let promotion = try #require(promoter["promotions"]?.arrayValue?.first?.objectValue)
            #expect(promotion["campaign_id"] == .int(15170))
            #expect(promotion["campaign_name"] == .string("Spring launch"))
            #expect(promotion["promo_code"] == .string("RILEY10"))
            #expect(promotion["customer_promo_code"] == .string("WELCOME"))
            #expect(promotion["referral_link"] == .string("https://example.com/spring?src=fp&fpr=riley_p-1"))
            // The new email is found case-insensitively.
            let shown = try await host.fp(.get, "/api/v1/promoters/show?promoter_email=riley@EXAMPLE.com")
            #expect(shown.body == response.body)
        }
    }

    @Test func defaultRefIDsComeFromTheFirstName() async throws {
        try await FirstPromoter.run { host in
            func refID(_ body: String) async throws -> String {
                let response = try await host.fpForm(.post, "/api/v1/promoters/create", body)
                #expect(response.status == 200)
                return response.fpObject["default_ref_id"]?.stringValue ?? ""
            }
            #expect(try await refID("email=a1@example.com&first_name=Jo-Anne%20%C3%9Clle_2") == "jo-annelle_2")
            let taken = try await refID("email=a2@example.com&first_name=Avery")
            #expect(taken.count == 9 && taken.hasPrefix("avery") && taken.dropFirst(5).allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber) })
            let random = try await refID("email=a3@example.com")
            #expect(random.count == 5 && random.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber) })
            let symbols = try await refID("email=a4@example.com&first_name=%C3%89%C3%A9")
            #expect(symbols.count == 5)
        }
    }

    // MARK: lookup

    @Test func promotersAreFoundByEachIdentifierFirstPresentWinning() async throws {
        try await FirstPromoter.run { host in
            _ = try await host.fpForm(.put, "/api/v1/promoters/update", "id=8262622&new_cust_id=cus_avery")
            for query in [
                "id=8262622", "cust_id=cus_avery", "auth_token=Qm7vT2xLp9_RkW4cZy8NbH3dJf6sGa1E", "ref_id=avery",
                "promoter_email=AVERY.lee@example.com", "id=&cust_id=&ref_id=avery", "id=8262622&ref_id=nobody",
            ] {
                let response = try await host.fp(.get, "/api/v1/promoters/show?\(query)")
                #expect(response.status == 200, "\(query)")
                #expect(response.fpObject["id"] == .int(8_262_622))
            }
            for query in ["id=999&ref_id=avery", "id=abc", "cust_id=nobody", "auth_token=nope", "ref_id=nobody", "promoter_email=x@example.com", "cust_id=cus_AVERY"] {
                expectFPError(try await host.fp(.get, "/api/v1/promoters/show?\(query)"), 404, "Promoter not found.")
            }
            expectFPError(try await host.fp(.get, "/api/v1/promoters/show"), 422, Self.showMissing)
            expectFPError(try await host.fp(.get, "/api/v1/promoters/show?promo_code=AVERY&email=avery.lee@example.com"), 422, Self.showMissing)
            expectFPError(try await host.fp(.put, "/api/v1/promoters/update?note=x"), 422, Self.showMissing)
            expectFPError(try await host.fp(.delete, "/api/v1/promoters/delete?promo_code=AVERY"), 422, Self.deleteMissing)
            expectFPError(try await host.fp(.delete, "/api/v1/promoters/delete?id=999"), 404, "Promoter not found.")
        }
    }

    // MARK: update

    @Test func updateChangesOnlySuppliedFields() async throws {
        try await FirstPromoter.run { host in
            let before = try await host.fp(.get, "/api/v1/promoters/show?id=8262622").fpObject
            let response = try await host.fpForm(
                .put, "/api/v1/promoters/update",
                "ref_id=avery&email=avery@example.org&new_cust_id=cus_1&new_ref_id=avery_l&last_name=Lee-Park&youtube_url=https%3A%2F%2Fyoutube.com%2Favery&promo_code=AV10&landing_url=https%3A%2F%2Favery.example%2F%3Fa%3D1&temp_password=pw&note=&campaign_id=15170"
            )
            #expect(response.status == 200)
            var expected = before
            expected["email"] = .string("avery@example.org")
            expected["cust_id"] = .string("cus_1")
            expected["default_ref_id"] = .string("avery_l")
            expected["temp_password"] = .string("pw")
            expected["note"] = .string("")
            var profile = before["profile"]!.objectValue!
            profile["last_name"] = .string("Lee-Park")
            profile["social_accounts"] = FirstPromoter.value(#"{"youtube": {"url": "https://youtube.com/avery"}}"#)
            expected["profile"] = .object(profile)
            var promotion = before["promotions"]!.arrayValue![0].objectValue!
            promotion["ref_id"] = .string("avery_l")
            promotion["promo_code"] = .string("AV10")
            promotion["referral_link"] = .string("https://avery.example/?a=1&fpr=avery_l")
            expected["promotions"] = .array([.object(promotion)])
            #expect(response.body == JSONValue.object(expected).serialized)

            // Old values are released, new ones found.
            expectFPError(try await host.fp(.get, "/api/v1/promoters/show?ref_id=avery"), 404, "Promoter not found.")
            expectFPError(try await host.fp(.get, "/api/v1/promoters/show?promoter_email=avery.lee@example.com"), 404, "Promoter not found.")
            #expect(try await host.fp(.get, "/api/v1/promoters/show?cust_id=cus_1").status == 200)
            #expect(try await host.fp(.get, "/api/v1/promoters/show?ref_id=avery_l").status == 200)
            let reuse = try await host.fpForm(.post, "/api/v1/promoters/create", "email=avery.lee@example.com&ref_id=avery")
            #expect(reuse.status == 200)
            // Rewards render the renamed promotion.
            let rewards = try await host.fp(.get, "/api/v1/rewards/list?ref_id=avery_l")
            #expect(rewards.fpValue.arrayValue?.first?["promotion"]?["ref_id"] == .string("avery_l"))
            #expect(rewards.fpValue.arrayValue?.first?["promoter"]?["email"] == .string("avery@example.org"))
        }
    }

    @Test func updateValidatesLikeCreate() async throws {
        try await FirstPromoter.run { host in
            _ = try await host.fpForm(.post, "/api/v1/promoters/create", "email=kim@example.com&cust_id=cus_kim&ref_id=kim")
            let update = "/api/v1/promoters/update"
            expectFP(try await host.fpForm(.put, update, "id=8262622&email="), 422, Self.fieldErrors(["company_user.user.email": "can't be blank"]))
            expectFP(try await host.fpForm(.put, update, "id=8262622&email=nope"), 422, Self.fieldErrors(["company_user.user.email": "is invalid"]))
            expectFP(
                try await host.fpForm(.put, update, "id=8262622&email=KIM@example.com&new_cust_id=cus_kim&new_ref_id=kim"), 422,
                Self.fieldErrors([
                    "company_user.user.email": "has already been taken", "cust_id": "has already been taken",
                    "promotions": "has already been taken",
                ])
            )
            expectFP(try await host.fpForm(.put, update, "id=8262622&new_ref_id=Avery"), 422, Self.fieldErrors(["promotions": "is invalid"]))
            expectFPError(try await host.fpForm(.put, update, "id=8262622&parent_promoter_email=nobody@example.com"), 422, "Parent promoter not found.")
            // Its own values are not "taken"; nothing above changed anything.
            let response = try await host.fpForm(.put, update, "id=8262622&email=Avery.Lee@example.com&new_ref_id=avery&parent_promoter_email=kim@example.com")
            #expect(response.status == 200)
            #expect(response.fpObject["email"] == .string("Avery.Lee@example.com"))
            #expect(response.fpObject["default_ref_id"] == .string("avery"))
            #expect(response.fpObject["cust_id"] == .string(""))
            #expect(response.fpObject["parent_promoter_id"] != .null)
        }
    }

    // MARK: delete and list

    @Test func deleteIsSoft() async throws {
        try await FirstPromoter.run { host in
            _ = try await host.fpForm(.put, "/api/v1/promoters/update", "id=8262622&new_cust_id=cus_avery")
            let response = try await host.fp(.delete, "/api/v1/promoters/delete?promoter_email=avery.lee@example.com")
            expectFP(response, 200, #"{"message": "Promoter removed."}"#)
            for query in ["id=8262622", "ref_id=avery", "cust_id=cus_avery", "auth_token=Qm7vT2xLp9_RkW4cZy8NbH3dJf6sGa1E"] {
                expectFPError(try await host.fp(.get, "/api/v1/promoters/show?\(query)"), 404, "Promoter not found.")
            }
            expectFPError(try await host.fp(.delete, "/api/v1/promoters/delete?id=8262622"), 404, "Promoter not found.")
            expectFPError(try await host.fpForm(.post, "/api/v1/payouts/create", "promoter_id=8262622"), 404, "Promoter not found.")
            expectFP(try await host.fp(.get, "/api/v1/promoters/list"), 200, "[]")
            // Still nested in its payouts and rewards.
            let payouts = try await host.fp(.get, "/api/v1/payouts/list")
            #expect(payouts.fpValue.arrayValue?.first?["promoter"]?["id"] == .int(8_262_622))
            let reward = try await host.fpForm(.put, "/api/v1/rewards/update", "id=5101001")
            #expect(reward.fpObject["promoter"]?["email"] == .string("avery.lee@example.com"))
            // Its email, cust_id and ref id are free again.
            let again = try await host.fpForm(.post, "/api/v1/promoters/create", "email=Avery.Lee@example.com&cust_id=cus_avery&ref_id=avery")
            #expect(again.status == 200)
            #expect(try await host.fp(.get, "/api/v1/promoters/show?ref_id=avery").fpObject["id"] == again.fpObject["id"])
        }
    }

    /// Fixtures re-seeded at a restart restore the claims of values their promoter gave up
    /// since (a renamed ref id, a deleted promoter's email). Such a claim finds nothing and
    /// does not keep the value from a new owner.
    @Test func claimsLeftByReseededFixturesDoNotBlockTheirValues() async throws {
        try await FirstPromoter.run { host in
            _ = try await host.fpForm(.put, "/api/v1/promoters/update", "id=8262622&new_ref_id=avery_l&email=avery@example.org")
            var batch = WriteBatch()
            for (name, value) in [("ref_id", "avery"), ("email", "avery.lee@example.com"), ("cust_id", "cus_old")] {
                batch.claims.append(UniqueClaim(tenant: "acme", resource: "promoters", name: name, value: value, recordID: "8262622"))
            }
            try await host.store.commit(batch)

            expectFPError(try await host.fp(.get, "/api/v1/promoters/show?ref_id=avery"), 404, "Promoter not found.")
            expectFPError(try await host.fp(.get, "/api/v1/promoters/show?cust_id=cus_old"), 404, "Promoter not found.")
            let created = try await host.fpForm(.post, "/api/v1/promoters/create", "email=Avery.Lee@example.com&ref_id=avery&cust_id=cus_old")
            #expect(created.status == 200)
            let id = try #require(created.fpObject["id"])
            for query in ["ref_id=avery", "promoter_email=avery.lee@example.com", "cust_id=cus_old"] {
                #expect(try await host.fp(.get, "/api/v1/promoters/show?\(query)").fpObject["id"] == id)
            }
            // The same holds for a rename onto a stale value.
            try await host.store.commit({
                var batch = WriteBatch()
                batch.claims.append(UniqueClaim(tenant: "acme", resource: "promoters", name: "ref_id", value: "ghost", recordID: "8262622"))
                return batch
            }())
            let renamed = try await host.fpForm(.put, "/api/v1/promoters/update", "ref_id=avery&new_ref_id=ghost")
            #expect(renamed.fpObject["default_ref_id"] == .string("ghost"))
            #expect(try await host.fp(.get, "/api/v1/promoters/show?ref_id=ghost").fpObject["id"] == id)
        }
    }

    @Test func listFiltersByCampaignAndPages() async throws {
        try await FirstPromoter.run { host in
            _ = try await host.fpForm(.post, "/api/v1/promoters/create", "email=s1@example.com&campaign_id=15170")
            _ = try await host.fpForm(.post, "/api/v1/promoters/create", "email=s2@example.com&campaign_id=15170")
            _ = try await host.fpForm(.post, "/api/v1/promoters/create", "email=d@example.com")
            func emails(_ query: String) async throws -> [String?] {
                let response = try await host.fp(.get, "/api/v1/promoters/list" + query)
                #expect(response.status == 200)
                return response.fpValue.arrayValue?.map { $0["email"]?.stringValue } ?? []
            }
            #expect(try await emails("") == ["avery.lee@example.com", "s1@example.com", "s2@example.com", "d@example.com"])
            #expect(try await emails("?campaign_id=15170") == ["s1@example.com", "s2@example.com"])
            #expect(try await emails("?campaign_id=15161") == ["avery.lee@example.com", "d@example.com"])
            expectFPError(try await host.fp(.get, "/api/v1/promoters/list?campaign_id=999&page=0"), 422, "Campaign not found.")
            expectFPError(try await host.fp(.get, "/api/v1/promoters/list?campaign_id=abc"), 422, "Campaign not found.")
            let response = try await host.fp(.get, "/api/v1/promoters/list?campaign_id=15170&per_page=1")
            #expect(response.header("Total") == "2")
            #expect(fpLinkPaths(response) == #"</api/v1/promoters/list?campaign_id=15170&page=2&per_page=1>; rel="last", </api/v1/promoters/list?campaign_id=15170&page=2&per_page=1>; rel="next""#)
            // Balances are computed for each listed promoter.
            let first = try await host.fp(.get, "/api/v1/promoters/list?per_page=1")
            #expect(first.fpValue.arrayValue?.first?["earnings_balance"] == FirstPromoter.value(#"{"cash": 20000}"#))
        }
    }
}
