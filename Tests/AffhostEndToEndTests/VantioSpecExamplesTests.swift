import AffiliateCore
import Hummingbird
import Testing

/// The spec's §9 examples, run in its order (9.1-9.4, 9.6, 9.5, 9.7, 9.8, 9.9) against the demo
/// fixtures: every documented body must come back exactly, apart from the ids and instants
/// affhost generates, which are checked for their form.
@Suite struct VantioSpecExamplesTests {
    @Test func theSpecExamplesRunInOrder() async throws {
        try await Vantio.run { host in
            // 9.1
            var response = try await host.vantio(.get, "/api/v1/users?programId=prog_123abc&limit=1")
            #expect(response.status == 200)
            #expect(response.header("Content-Type") == "application/json; charset=utf-8")
            #expect(response.body == Vantio.compact(#"""
                {"users": [{"id": "user_123abc", "first_name": "Maya", "last_name": "Chen",
                  "email": "maya.chen@example.edu", "program_id": "prog_123abc", "profile_picture": null,
                  "created_at": "2024-01-02T09:00:00Z", "updated_at": "2024-01-02T09:00:00Z",
                  "metadata": {"student_number": "S-1042", "major": "Economics"}}]}
                """#))
            response = try await host.vantio(.get, "/api/v1/users/user_123abc")
            #expect(response.status == 200)
            #expect(response.body == Vantio.compact(Self.maya))

            // 9.2
            response = try await host.vantio(.get, "/api/v1/posters?studentId=user_123abc")
            #expect(response.status == 200)
            #expect(response.body == Vantio.compact(#"{"posters": [\#(Self.poster)]}"#))
            response = try await host.vantio(.get, "/api/v1/posters/poster_123abc")
            #expect(response.status == 200)
            #expect(response.body == Vantio.compact(Self.poster))

            // 9.3
            response = try await host.vantio(.get, "/api/v1/impressions?posterId=poster_123abc")
            #expect(response.status == 200)
            #expect(response.body == Vantio.compact(#"""
                {"impressions": [\#(Self.impression456),
                 {"id": "imp_789ghi", "poster_id": "poster_123abc", "program_id": "prog_123abc",
                  "student_id": "user_123abc", "scanned_at": "2024-01-16T07:58:02Z", "user_agent": null,
                  "ip_address": null, "metadata": {}}]}
                """#))
            response = try await host.vantio(.get, "/api/v1/impressions/imp_456def")
            #expect(response.status == 200)
            #expect(response.body == Vantio.compact(Self.impression456))

            // 9.4
            let benRequest = #"""
                {"impression_id": "imp_789ghi", "first_name": "Ben", "last_name": "Okafor",
                 "email": "ben.okafor@example.com", "metadata": {"source": "poster_qr_code"},
                 "idempotency_key": "ref_20240116_8812"}
                """#
            response = try await host.vantio(.post, "/api/v1/referrals", json: benRequest)
            #expect(response.status == 201)
            let ben = expectObject(response.object, matches: Self.ben, except: ["id", "created_at", "updated_at"])
            expectGeneratedID(ben["id"], prefix: "ref_")
            expectRecent(ben["created_at"])
            #expect(ben["updated_at"] == ben["created_at"])
            let benID = ben["id"]!.stringValue!

            response = try await host.vantio(.post, "/api/v1/referrals", json: benRequest)
            #expect(response.status == 200)
            #expect(response.header("Idempotent-Replayed") == "true")
            #expect(response.object == ben)

            response = try await host.vantio(
                .post, "/api/v1/referrals", json: benRequest.replacingOccurrences(of: "\"Ben\"", with: "\"Benjamin\"")
            )
            expectError(response, 409, "Conflict", "idempotency_key was already used with a different request")

            response = try await host.vantio(
                .post, "/api/v1/referrals",
                json: #"{"first_name": "Ben", "last_name": "Okafor", "email": "ben.okafor@example.com"}"#
            )
            expectBadRequest(response, "impression_id is required")

            // 9.6
            response = try await host.vantio(
                .put, "/api/v1/referrals/ref_123abc",
                json: #"{"status": "verified", "metadata": {"campus": "north", "source": null}}"#
            )
            #expect(response.status == 200)
            let alice = expectObject(response.object, matches: Self.alice, except: ["verified_at", "updated_at"])
            expectRecent(alice["verified_at"])
            #expect(alice["updated_at"] == alice["verified_at"])

            // 9.5
            response = try await host.vantio(.get, "/api/v1/referrals?studentId=user_123abc")
            #expect(response.status == 200)
            #expect(response.body == JSONValue.object(["referrals": .array([.object(alice), .object(ben)])]).serialized)
            response = try await host.vantio(.get, "/api/v1/referrals/ref_123abc")
            #expect(response.status == 200)
            #expect(response.object == alice)
            #expect(benID != "ref_123abc")

            // 9.7
            response = try await host.vantio(.post, "/api/v1/earnings", json: #"""
                {"referral_id": "ref_123abc", "amount": 550, "type": "bonus",
                 "description": "Semester kickoff bonus", "idempotency_key": "earn_bonus_ref123abc_20240117"}
                """#)
            #expect(response.status == 201)
            let bonus = expectObject(response.object, matches: Self.bonus, except: ["id", "created_at", "updated_at"])
            expectGeneratedID(bonus["id"], prefix: "earn_")
            expectRecent(bonus["created_at"])
            #expect(bonus["updated_at"] == bonus["created_at"])
            response = try await host.vantio(
                .post, "/api/v1/earnings", json: #"{"referral_id": "ref_missing", "amount": 550}"#
            )
            expectBadRequest(response, "Referral not found")

            // 9.8
            response = try await host.vantio(
                .put, "/api/v1/earnings/earn_123abc", json: #"{"status": "paid", "reference_id": "payout_456def"}"#
            )
            #expect(response.status == 200)
            let paid = expectObject(response.object, matches: Self.paidEarning, except: ["paid_at", "updated_at"])
            expectRecent(paid["paid_at"])
            #expect(paid["updated_at"] == paid["paid_at"])

            // 9.9
            response = try await host.vantio(.get, "/api/v1/earnings?referral_id=ref_123abc")
            #expect(response.status == 200)
            #expect(response.body == JSONValue.object(["earnings": .array([.object(paid), .object(bonus)])]).serialized)
            response = try await host.vantio(.get, "/api/v1/earnings/earn_123abc")
            #expect(response.status == 200)
            #expect(response.object == paid)
        }
    }

    /// The seeded earning before any call, field by field against the spec's earning object:
    /// only what §9.8 changes differs (status, reference_id, paid_at, updated_at).
    @Test func theSeedEarningHasTheShapeOfTheSpecExample() async throws {
        try await Vantio.run { host in
            let response = try await host.vantio(.get, "/api/v1/earnings/earn_123abc")
            #expect(response.status == 200)
            let seed = expectObject(
                response.object, matches: Self.paidEarning, except: ["status", "reference_id", "paid_at", "updated_at"]
            )
            #expect(seed["status"] == .string("pending"))
            #expect(seed["reference_id"] == .null)
            #expect(seed["paid_at"] == .null)
            #expect(seed["updated_at"] == .string("2024-01-15T10:30:00Z"))
            #expect(seed["amount"] == .number("1000"))
            #expect(seed["metadata"] == .object(["order_id": .string("order_12345"), "commission_rate": .string("10%")]))
        }
    }

    static let maya = #"""
        {"id": "user_123abc", "first_name": "Maya", "last_name": "Chen", "email": "maya.chen@example.edu",
         "program_id": "prog_123abc", "profile_picture": null, "created_at": "2024-01-02T09:00:00Z",
         "updated_at": "2024-01-02T09:00:00Z", "metadata": {"student_number": "S-1042", "major": "Economics"}}
        """#

    static let poster = #"""
        {"id": "poster_123abc", "program_id": "prog_123abc", "student_id": "user_123abc",
         "qr_code_url": "https://cdn.example.com/qr/poster_123abc.png", "location": "Library - 2nd floor",
         "created_at": "2024-01-05T12:00:00Z", "updated_at": "2024-01-05T12:00:00Z",
         "metadata": {"poster_type": "standard"}}
        """#

    static let impression456 = #"""
        {"id": "imp_456def", "poster_id": "poster_123abc", "program_id": "prog_123abc",
         "student_id": "user_123abc", "scanned_at": "2024-01-15T10:12:44Z",
         "user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X)", "ip_address": "203.0.113.24",
         "metadata": {"device_type": "mobile"}}
        """#

    static let ben = #"""
        {"id": "ref_Zp4Rt8NwQ2mKx7Va", "impression_id": "imp_789ghi", "first_name": "Ben",
         "last_name": "Okafor", "email": "ben.okafor@example.com", "profile_picture": null,
         "status": "pending", "program_id": "prog_123abc", "student_id": "user_123abc",
         "created_at": "2024-01-16T08:05:00Z", "verified_at": null, "updated_at": "2024-01-16T08:05:00Z",
         "metadata": {"source": "poster_qr_code"}}
        """#

    static let alice = #"""
        {"id": "ref_123abc", "impression_id": "imp_456def", "first_name": "Alice", "last_name": "Johnson",
         "email": "alice.johnson@example.com", "profile_picture": null, "status": "verified",
         "program_id": "prog_123abc", "student_id": "user_123abc", "created_at": "2024-01-15T10:15:00Z",
         "verified_at": "2024-01-16T14:20:00Z", "updated_at": "2024-01-16T14:20:00Z",
         "metadata": {"location": "campus_center", "campus": "north"}}
        """#

    static let bonus = #"""
        {"id": "earn_7Hk2QpX9mT4vLc1R", "referral_id": "ref_123abc", "amount": 550, "currency": "USD",
         "type": "bonus", "description": "Semester kickoff bonus", "status": "pending", "reference_id": null,
         "created_at": "2024-01-17T09:00:00Z", "paid_at": null, "updated_at": "2024-01-17T09:00:00Z",
         "metadata": {}}
        """#

    static let paidEarning = #"""
        {"id": "earn_123abc", "referral_id": "ref_123abc", "amount": 1000, "currency": "USD",
         "type": "purchase", "description": "Commission from customer purchase - Order #12345",
         "status": "paid", "reference_id": "payout_456def", "created_at": "2024-01-15T10:30:00Z",
         "paid_at": "2024-01-20T14:20:00Z", "updated_at": "2024-01-20T14:20:00Z",
         "metadata": {"order_id": "order_12345", "commission_rate": "10%"}}
        """#
}
