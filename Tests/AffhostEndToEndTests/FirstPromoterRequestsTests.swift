import AffiliateCore
import Hummingbird
import Testing

/// What every firstpromoter-v1 endpoint shares: the key, routing, the three parameter
/// encodings, body limits, rate limits and tenant isolation (spec §1, §2, §4).
@Suite struct FirstPromoterRequestsTests {
    // MARK: Authentication

    @Test func aMissingEmptyUnknownOrMiscasedKeyIsBadCredentials() async throws {
        try await FirstPromoter.run { host in
            for key in [nil, "", "fpk_unknown", "FPK_DEMO", "fpk_dem"] as [String?] {
                let response = try await host.fp(.get, "/api/v1/payouts/list", key: key)
                #expect(response.status == 401, "key \(String(describing: key))")
                #expect(response.header("Content-Type") == "application/json; charset=utf-8")
                #expect(response.body == #""Bad credentials""#)
                #expect(response.body.utf8.count == 17)
            }
        }
    }

    @Test func theHeaderNameMatchesInAnyCase() async throws {
        try await FirstPromoter.run { host in
            let response = try await host.send(.get, "/api/v1/payouts/list", headers: ["x-api-key": FirstPromoter.key])
            #expect(response.status == 200)
            #expect(response.header("Total") == "1")
        }
    }

    // MARK: Routing

    @Test func unknownPathsOtherMethodsAndUnservedVendorPathsAre404() async throws {
        try await FirstPromoter.run { host in
            let paths: [(HTTPRequest.Method, String)] = [
                (.get, "/api/v1/nothing"), (.get, "/api/v1/payouts/update?id=2709870"), (.post, "/api/v1/payouts/list"),
                (.put, "/api/v1/promoters/show"), (.get, "/api/v1/promoters/delete?id=8262622"),
                (.get, "/api/v1/leads/list"), (.post, "/api/v1/track/signup"), (.get, "/api/v1/reports/campaigns"),
                (.post, "/api/v1/promoters/move_to_campaign"), (.post, "/api/v1/promoters/add_to_campaign"),
                (.post, "/api/v1/promoters/refresh_token"), (.get, "/api/v1/payouts/2709870"),
            ]
            for (method, path) in paths {
                expectFPError(try await host.fp(method, path), 404, "Not found.")
            }
            // Routing comes before body parsing.
            let response = try await host.fp(.post, "/api/v1/nothing", contentType: FirstPromoter.json, body: "{not json")
            expectFPError(response, 404, "Not found.")
        }
    }

    @Test func vendorPathsWithoutAKeyAreAnsweredInTheVendorsStyle() async throws {
        try await FirstPromoter.run { host in
            for path in ["/api/v1/payouts/update", "/api/v1/promoters/show.json", "/api/v1/leads/list", "/api/v1/promoters/refresh_token"] {
                let response = try await host.fp(.put, path, key: nil)
                #expect(response.status == 401)
                #expect(response.body == #""Bad credentials""#)
            }
        }
    }

    @Test func everyServedPathAnswersWithAJSONSuffix() async throws {
        try await FirstPromoter.run { host in
            var response = try await host.fp(.get, "/api/v1/promoters/show.json?id=8262622")
            #expect(response.status == 200)
            #expect(response.fpObject["id"] == .int(8_262_622))
            response = try await host.fp(.put, "/api/v1/payouts/update.json?id=2709870")
            #expect(response.status == 200)
            #expect(response.fpObject["status"] == .string("pending"))
            response = try await host.fp(.get, "/api/v1/rewards/list.json?per_page=1")
            #expect(response.header("Total") == "2")
            #expect(fpLinkPaths(response) == #"</api/v1/rewards/list.json?page=2&per_page=1>; rel="last", </api/v1/rewards/list.json?page=2&per_page=1>; rel="next""#)
        }
    }

    // MARK: Parameters

    @Test func parametersComeFromTheQueryAFormBodyOrAJSONBody() async throws {
        try await FirstPromoter.run { host in
            var response = try await host.fp(.put, "/api/v1/payouts/update?id=2709870&status=processing")
            #expect(response.fpObject["status"] == .string("processing"))
            response = try await host.fpForm(.put, "/api/v1/payouts/update", "id=2709870&status=pending")
            #expect(response.fpObject["status"] == .string("pending"))
            // JSON numbers count as their decimal text.
            response = try await host.fpJSON(.put, "/api/v1/payouts/update", #"{"id": 2709870, "status": "completed"}"#)
            #expect(response.status == 200)
            #expect(response.fpObject["status"] == .string("completed"))
            expectFPRecent(response.fpObject["date_paid"])
            // A body parameter wins over the query's; on a GET too.
            response = try await host.fp(
                .get, "/api/v1/promoters/show?id=1", contentType: FirstPromoter.form, body: "id=8262622"
            )
            #expect(response.fpObject["id"] == .int(8_262_622))
            response = try await host.fp(
                .put, "/api/v1/payouts/update?id=1&status=completed", contentType: FirstPromoter.json,
                body: #"{"id": "2709870", "status": "pending"}"#
            )
            #expect(response.fpObject["status"] == .string("pending"))
            #expect(response.fpObject["date_paid"] == .null)
        }
    }

    @Test func jsonNullsArraysAndObjectsCountAsAbsent() async throws {
        try await FirstPromoter.run { host in
            // A null id leaves the query's; an array status is no status (unchanged).
            let response = try await host.fp(
                .put, "/api/v1/payouts/update?id=2709870", contentType: FirstPromoter.json,
                body: #"{"id": null, "status": ["completed"], "note": {"a": 1}}"#
            )
            #expect(response.status == 200)
            #expect(response.fpObject["status"] == .string("pending"))
            let missing = try await host.fpJSON(.put, "/api/v1/payouts/update", #"{"id": null}"#)
            expectFPError(missing, 422, "You need to find the payout by id.")
        }
    }

    @Test func mediaTypesCompareCaseInsensitivelyAndOtherBodiesAreIgnored() async throws {
        try await FirstPromoter.run { host in
            var response = try await host.fp(
                .put, "/api/v1/payouts/update", contentType: "Application/JSON; charset=UTF-8", body: #"{"id": 2709870}"#
            )
            #expect(response.status == 200)
            response = try await host.fp(
                .put, "/api/v1/payouts/update", contentType: "APPLICATION/X-WWW-FORM-URLENCODED;charset=utf-8",
                body: "id=2709870"
            )
            #expect(response.status == 200)
            response = try await host.fp(.put, "/api/v1/payouts/update", contentType: "text/plain", body: "id=2709870")
            expectFPError(response, 422, "You need to find the payout by id.")
            response = try await host.fp(.put, "/api/v1/payouts/update", body: "id=2709870")
            expectFPError(response, 422, "You need to find the payout by id.")
        }
    }

    @Test func aJSONBodyThatDoesNotParseOrIsNotAnObjectIs400() async throws {
        try await FirstPromoter.run { host in
            for body in ["{\"id\": ", "[1, 2]", "\"text\"", "", "{\"id\": 1} trailing"] {
                let response = try await host.fpJSON(.put, "/api/v1/payouts/update?id=2709870", body)
                expectFPError(response, 400, "Invalid JSON body.")
            }
        }
    }

    @Test func formBodiesDecodePlusAndPercentEscapes() async throws {
        try await FirstPromoter.run { host in
            let response = try await host.fpForm(
                .put, "/api/v1/promoters/update", "id=8262622&note=Podcast+partner+%26+friend&first%5Fname=Ave%C3%AFry&website=100%"
            )
            #expect(response.status == 200)
            #expect(response.fpObject["note"] == .string("Podcast partner & friend"))
            #expect(response.fpObject["profile"]?["first_name"] == .string("Aveïry"))
            #expect(response.fpObject["profile"]?["website"] == .string("100%"))
        }
    }

    @Test func booleansAreTrueOnlyForTrueInAnyCase() async throws {
        try await FirstPromoter.run { host in
            var response = try await host.fpJSON(.put, "/api/v1/promoters/update", """
                {"id": 8262622, "landing_url": "https://avery.example/shop", "url_tracking": true}
                """)
            #expect(response.fpObject["promotions"]?.arrayValue?.first?["referral_link"] == .string("https://avery.example/shop"))
            response = try await host.fpForm(.put, "/api/v1/promoters/update", "id=8262622&url_tracking=yes")
            #expect(response.fpObject["promotions"]?.arrayValue?.first?["referral_link"] == .string("https://avery.example/shop?fpr=avery"))
            response = try await host.fpForm(.put, "/api/v1/promoters/update", "id=8262622&url_tracking=TRUE")
            #expect(response.fpObject["promotions"]?.arrayValue?.first?["referral_link"] == .string("https://avery.example/shop"))
        }
    }

    // MARK: Limits

    @Test func aBodyOverTheLimitIs413() async throws {
        try await FirstPromoter.run(maxBodyBytes: 64) { host in
            let note = String(repeating: "n", count: 200)
            var response = try await host.fpForm(.put, "/api/v1/promoters/update", "id=8262622&note=\(note)")
            expectFPError(response, 413, "Request body too large.")
            // Before authentication.
            response = try await host.fp(.put, "/api/v1/promoters/update", key: nil, contentType: FirstPromoter.form, body: "note=\(note)")
            expectFPError(response, 413, "Request body too large.")
            response = try await host.fpForm(.put, "/api/v1/promoters/update", "id=8262622&note=short")
            #expect(response.status == 200)
        }
    }

    @Test func requestsOverTheRateLimitAre429WithRetryAfter() async throws {
        try await FirstPromoter.run(acme: "rate_limit: 2/min") { host in
            let first = try await host.fp(.get, "/api/v1/payouts/list")
            #expect(first.status == 200)
            #expect(first.header("X-RateLimit-Limit") == "2")
            #expect(first.header("X-RateLimit-Remaining") != nil)
            _ = try await host.fp(.get, "/api/v1/payouts/list")
            let limited = try await host.fp(.get, "/api/v1/payouts/list")
            expectFPError(limited, 429, "Rate limit exceeded.")
            #expect((Int(limited.header("Retry-After") ?? "") ?? 0) >= 1)
            #expect(limited.header("X-RateLimit-Limit") == "2")
            #expect(limited.header("X-RateLimit-Remaining") == "0")
            let reset = try #require(Int64(limited.header("X-RateLimit-Reset") ?? ""))
            #expect(reset > Timestamp.now().secondsSinceEpoch - 1)
            // Another tenant's key has its own count.
            #expect(try await host.fp(.get, "/api/v1/payouts/list", key: FirstPromoter.rivalKey).status == 200)
        }
    }

    // MARK: Tenant isolation

    @Test func anotherTenantsKeyCannotSeeOrChangeTheRecords() async throws {
        try await FirstPromoter.run { host in
            let rival = FirstPromoter.rivalKey
            expectFPError(try await host.fp(.put, "/api/v1/payouts/update?id=2709870&status=completed", key: rival), 404, "Payment not found")
            expectFPError(try await host.fp(.put, "/api/v1/payouts/update?id=2709870", key: rival), 404, "Payment not found")
            var response = try await host.fp(.get, "/api/v1/payouts/list?promoter_id=8262622", key: rival)
            expectFP(response, 200, "[]")
            #expect(response.header("Total") == "0")
            expectFPError(try await host.fpForm(.post, "/api/v1/payouts/create", "promoter_id=8262622", key: rival), 404, "Promoter not found.")
            for query in ["id=8262622", "ref_id=avery", "promoter_email=avery.lee@example.com", "auth_token=Qm7vT2xLp9_RkW4cZy8NbH3dJf6sGa1E"] {
                expectFPError(try await host.fp(.get, "/api/v1/promoters/show?\(query)", key: rival), 404, "Promoter not found.")
            }
            expectFPError(try await host.fpForm(.put, "/api/v1/promoters/update", "id=8262622&note=mine", key: rival), 404, "Promoter not found.")
            expectFPError(try await host.fp(.delete, "/api/v1/promoters/delete?id=8262622", key: rival), 404, "Promoter not found.")
            response = try await host.fp(.get, "/api/v1/promoters/list", key: rival)
            expectFP(response, 200, "[]")
            expectFPError(try await host.fpForm(.put, "/api/v1/rewards/update", "id=5101001&status=denied", key: rival), 422, "Reward not found.")
            expectFPError(try await host.fpForm(.put, "/api/v1/rewards/update", "event_id=in_1PqR5tAbCdEf", key: rival), 422, "Reward not found.")
            expectFPError(
                try await host.fpForm(.post, "/api/v1/rewards/create", "ref_id=avery&reward_type=cash&amount=1", key: rival), 422,
                "Promotion not found."
            )
            expectFPError(try await host.fp(.get, "/api/v1/rewards/list?promoter_id=8262622", key: rival), 422, "Promoter not found.")
            expectFPError(try await host.fp(.get, "/api/v1/rewards/list?promotion_id=9441115", key: rival), 422, "Promotion not found.")

            // Unique values are per tenant: the rival may use the same email and ref id.
            response = try await host.fpForm(
                .post, "/api/v1/promoters/create", "email=avery.lee@example.com&ref_id=avery", key: rival
            )
            #expect(response.status == 200)
            #expect(response.fpObject["promotions"]?.arrayValue?.first?["campaign_name"] == .string("Rival campaign"))

            // Nothing of acme changed.
            response = try await host.fp(.put, "/api/v1/payouts/update?id=2709870")
            #expect(response.fpObject["status"] == .string("pending"))
            #expect(try await host.store.auditTrail(tenant: "acme", resource: "payouts", recordID: "2709870").isEmpty)
            #expect(try await host.store.auditTrail(tenant: "acme", resource: "rewards", recordID: "5101001").isEmpty)
            response = try await host.fp(.get, "/api/v1/promoters/show?ref_id=avery")
            #expect(response.fpObject["id"] == .int(8_262_622))
            #expect(response.fpObject["note"] == .null)
        }
    }
}
