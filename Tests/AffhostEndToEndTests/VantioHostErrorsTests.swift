import AffiliateCore
import Hummingbird
import Testing

/// What happens before and around the routes: keys, body limits, rate limits, unknown routes,
/// request bodies, and the wall between tenants.
@Suite struct VantioHostErrorsTests {
    @Test func missingMalformedAndUnknownKeysAre401() async throws {
        try await Vantio.run { host in
            let attempts: [[String: String]] = [
                [:],
                ["Authorization": "Basic c2tfZGVtbzo="],
                ["Authorization": "Bearer"],
                ["Authorization": "Bearer   "],
                ["Authorization": "Bearer sk_wrong"],
                ["Authorization": "Bearer sk_demo_4f9a_"],
                ["Authorization": "Token sk_demo_4f9a"],
            ]
            for headers in attempts {
                let response = try await host.send(.get, "/api/v1/earnings", headers: headers)
                expectError(response, 401, "Unauthorized", "Invalid or missing API key")
                #expect(response.header("WWW-Authenticate") == "Bearer")
            }
            for scheme in ["bearer", "BEARER", "Bearer"] {
                let response = try await host.send(
                    .get, "/api/v1/earnings/earn_123abc", headers: ["Authorization": "\(scheme) \(Vantio.key)"]
                )
                #expect(response.status == 200)
            }
        }
    }

    @Test func anOversizedBodyIs413() async throws {
        try await Vantio.run(maxBodyBytes: 256) { host in
            let metadata = String(repeating: "x", count: 400)
            let response = try await host.vantio(
                .put, "/api/v1/earnings/earn_123abc", json: #"{"metadata": {"note": "\#(metadata)"}}"#
            )
            expectError(response, 413, "Payload Too Large", "Request body exceeds 256 bytes")
            #expect(try await host.vantio(.get, "/api/v1/earnings/earn_123abc").object["metadata"]?["note"] == nil)
        }
    }

    @Test func overTheRateLimitIs429WithItsHeaders() async throws {
        try await Vantio.run(campus: "rate_limit: 3/min") { host in
            for _ in 0..<3 {
                let response = try await host.vantio(.get, "/api/v1/users")
                #expect(response.status == 200)
                #expect(response.header("X-RateLimit-Limit") == "3")
            }
            let response = try await host.vantio(.get, "/api/v1/users")
            expectError(response, 429, "Too Many Requests", "Rate limit exceeded")
            #expect(response.header("X-RateLimit-Limit") == "3")
            #expect(response.header("X-RateLimit-Remaining") == "0")
            let retryAfter = Int(response.header("Retry-After") ?? "") ?? 0
            #expect((1...60).contains(retryAfter))
            let reset = Int64(response.header("X-RateLimit-Reset") ?? "") ?? 0
            let now = Timestamp.now().secondsSinceEpoch
            #expect(reset > now && reset <= now + 61)
            // The limit is per key: the other tenant's key is not affected.
            #expect(try await host.vantio(.get, "/api/v1/users", key: Vantio.rivalKey).status == 200)
        }
    }

    @Test func unknownRoutesAre404AndOtherMethods405WithAllow() async throws {
        try await Vantio.run { host in
            for path in ["/api/v1/programs", "/api/v1/earnings/earn_123abc/history", "/api/v2/earnings", "/api/v1/payouts"] {
                expectError(try await host.vantio(.get, path), 404, "Not Found", "Route not found")
            }
            let cases: [(HTTPRequest.Method, String, String)] = [
                (.delete, "/api/v1/earnings/earn_123abc", "GET, PUT"),
                (.patch, "/api/v1/earnings/earn_123abc", "GET, PUT"),
                (.post, "/api/v1/earnings/earn_123abc", "GET, PUT"),
                (.delete, "/api/v1/earnings", "GET, POST"),
                (.put, "/api/v1/referrals", "GET, POST"),
                (.delete, "/api/v1/referrals/ref_123abc", "GET, PUT"),
            ]
            for (method, path, allow) in cases {
                let response = try await host.vantio(method, path, json: "{}")
                expectError(response, 405, "Method Not Allowed", "Method not allowed")
                #expect(response.header("Allow") == allow)
            }
        }
    }

    @Test func bodiesMustBeJSONObjects() async throws {
        try await Vantio.run { host in
            let path = "/api/v1/earnings/earn_123abc"
            let bearer = "Bearer \(Vantio.key)"
            let cases: [([String: String], String?, String)] = [
                (["Authorization": bearer], #"{"status": "paid"}"#, "Content-Type must be application/json"),
                (["Authorization": bearer, "Content-Type": "text/plain"], #"{"status": "paid"}"#,
                 "Content-Type must be application/json"),
                (["Authorization": bearer, "Content-Type": "application/x-www-form-urlencoded"], "status=paid",
                 "Content-Type must be application/json"),
                (["Authorization": bearer, "Content-Type": "application/json"], "{\"status\": ", "Malformed JSON body"),
                (["Authorization": bearer, "Content-Type": "application/json"], "{'status': 'paid'}", "Malformed JSON body"),
                (["Authorization": bearer, "Content-Type": "application/json"], "{} {}", "Malformed JSON body"),
                (["Authorization": bearer, "Content-Type": "application/json"], nil, "Request body must be a JSON object"),
                (["Authorization": bearer, "Content-Type": "application/json"], "  \n", "Request body must be a JSON object"),
                (["Authorization": bearer, "Content-Type": "application/json"], "[]", "Request body must be a JSON object"),
                (["Authorization": bearer, "Content-Type": "application/json"], "\"paid\"", "Request body must be a JSON object"),
                (["Authorization": bearer, "Content-Type": "application/json"], "null", "Request body must be a JSON object"),
            ]
            for (headers, body, message) in cases {
                expectBadRequest(try await host.send(.put, path, headers: headers, body: body), message)
            }
            for contentType in ["Application/JSON", "application/json; charset=utf-8", "application/json;charset=UTF-8"] {
                let response = try await host.send(
                    .put, path, headers: ["Authorization": bearer, "Content-Type": contentType], body: "{}"
                )
                #expect(response.status == 200, "\(contentType)")
            }
            // GET bodies are ignored.
            let response = try await host.send(.get, path, headers: ["Authorization": bearer], body: "garbage")
            #expect(response.status == 200)
        }
    }

    @Test func anotherTenantsRecordsAnswerLikeMissingOnes() async throws {
        try await Vantio.run { host in
            let rival = Vantio.rivalKey
            for path in [
                "/api/v1/earnings/earn_123abc", "/api/v1/referrals/ref_123abc", "/api/v1/users/user_123abc",
                "/api/v1/posters/poster_123abc", "/api/v1/impressions/imp_456def",
            ] {
                let foreign = try await host.vantio(.get, path, key: rival)
                let missing = try await host.vantio(.get, path + "_missing", key: rival)
                #expect(foreign.status == 404)
                #expect(foreign.body == missing.body)
            }
            expectError(
                try await host.vantio(.put, "/api/v1/earnings/earn_123abc", key: rival, json: #"{"status": "paid"}"#),
                404, "Not Found", "Earning not found"
            )
            expectError(
                try await host.vantio(.put, "/api/v1/referrals/ref_123abc", key: rival, json: "{}"),
                404, "Not Found", "Referral not found"
            )
            for resource in ["earnings", "referrals", "users", "posters", "impressions"] {
                #expect(try await host.vantio(.get, "/api/v1/\(resource)", key: rival).body == #"{"\#(resource)":[]}"#)
            }
            expectBadRequest(
                try await host.vantio(.post, "/api/v1/earnings", key: rival, json: #"{"referral_id": "ref_123abc", "amount": 1}"#),
                "Referral not found"
            )
            expectBadRequest(
                try await host.vantio(.post, "/api/v1/referrals", key: rival, json: #"""
                    {"impression_id": "imp_456def", "first_name": "A", "last_name": "B", "email": "a@b.co"}
                    """#),
                "Impression not found"
            )
            // The rival's PUT changed nothing of campus.
            let earning = try await host.vantio(.get, "/api/v1/earnings/earn_123abc")
            #expect(earning.object["status"] == .string("pending"))
        }
    }
}
