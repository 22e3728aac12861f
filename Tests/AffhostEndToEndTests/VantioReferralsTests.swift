import AffiliateCore
import Hummingbird
import Testing

/// `/api/v1/referrals`: signups, created from an impression and verified later.
@Suite struct VantioReferralsTests {
    @Test func listsFilterByCamelCaseParametersAndStatus() async throws {
        try await Vantio.run { host in
            var response = try await host.vantio(.get, "/api/v1/referrals")
            #expect(response.status == 200)
            #expect(VantioEarningsTests.ids(response, "referrals") == ["ref_456def", "ref_789ghi", "ref_123abc"])
            response = try await host.vantio(.get, "/api/v1/referrals?programId=prog_123abc&status=verified")
            #expect(VantioEarningsTests.ids(response, "referrals") == ["ref_456def"])
            response = try await host.vantio(.get, "/api/v1/referrals?studentId=user_789ghi")
            #expect(VantioEarningsTests.ids(response, "referrals") == ["ref_789ghi"])
            response = try await host.vantio(.get, "/api/v1/referrals?student_id=user_789ghi")
            #expect(VantioEarningsTests.ids(response, "referrals").count == 3, "snake_case is not this resource's filter")
            expectBadRequest(
                try await host.vantio(.get, "/api/v1/referrals?status=paid"),
                "Invalid status value. Must be one of: pending, converted, verified, rejected"
            )
            expectError(try await host.vantio(.get, "/api/v1/referrals/ref_nope"), 404, "Not Found", "Referral not found")
        }
    }

    @Test func createCopiesTheImpressionsProgramAndAmbassador() async throws {
        try await Vantio.run { host in
            let response = try await host.vantio(.post, "/api/v1/referrals", json: #"""
                {"impression_id": "imp_456jkl", "first_name": "Lena", "last_name": "Fischer",
                 "email": "lena@uni.example.org", "profile_picture": "https://cdn.example.com/p.png"}
                """#)
            #expect(response.status == 201)
            let referral = response.object
            #expect(referral["program_id"] == .string("prog_456def"))
            #expect(referral["student_id"] == .string("user_789ghi"))
            #expect(referral["profile_picture"] == .string("https://cdn.example.com/p.png"))
            #expect(referral["status"] == .string("pending"))
            #expect(referral["verified_at"] == .null)
            #expect(referral["metadata"] == .object([:]))
            let id = referral["id"]!.stringValue!
            #expect(try await host.vantio(.get, "/api/v1/referrals/\(id)").object == referral)
            // The email is not unique: a second signup with it is another referral.
            let again = try await host.vantio(.post, "/api/v1/referrals", json: #"""
                {"impression_id": "imp_456jkl", "first_name": "Lena", "last_name": "Fischer", "email": "lena@uni.example.org"}
                """#)
            #expect(again.status == 201)
            #expect(again.object["id"] != referral["id"])
        }
    }

    @Test func createRefusesBadFieldsWithTheSpecMessages() async throws {
        try await Vantio.run { host in
            let valid = #""impression_id": "imp_456def", "first_name": "A", "last_name": "B""#
            let cases: [(String, String)] = [
                (#"{"impression_id": 5, "first_name": "A", "last_name": "B", "email": "a@b.co"}"#,
                 "impression_id must be a non-empty string"),
                (#"{"impression_id": "imp_456def", "last_name": "B", "email": "a@b.co"}"#, "first_name is required"),
                (#"{"impression_id": "imp_456def", "first_name": "  ", "last_name": "B", "email": "a@b.co"}"#,
                 "first_name must be a non-empty string"),
                (#"{"impression_id": "imp_456def", "first_name": "A", "email": "a@b.co"}"#, "last_name is required"),
                (#"{\#(valid)}"#, "email is required"),
                (#"{\#(valid), "email": "ab.co"}"#, "email must be a valid email address"),
                (#"{\#(valid), "email": "a@b@c.co"}"#, "email must be a valid email address"),
                (#"{\#(valid), "email": "@b.co"}"#, "email must be a valid email address"),
                (#"{\#(valid), "email": "a@localhost"}"#, "email must be a valid email address"),
                (#"{\#(valid), "email": "a@b..co"}"#, "email must be a valid email address"),
                (#"{\#(valid), "email": "a b@c.co"}"#, "email must be a valid email address"),
                (#"{\#(valid), "email": 42}"#, "email must be a valid email address"),
                (#"{\#(valid), "email": "a@b.co", "profile_picture": 1}"#, "profile_picture must be a string or null"),
                (#"{\#(valid), "email": "a@b.co", "metadata": []}"#, "metadata must be an object"),
                (#"{"impression_id": "imp_none", "first_name": "A", "last_name": "B", "email": "a@b.co"}"#,
                 "Impression not found"),
                (#"{\#(valid), "email": "a@b.co", "status": "verified"}"#, "Unknown field: status"),
            ]
            for (body, message) in cases {
                expectBadRequest(try await host.vantio(.post, "/api/v1/referrals", json: body), message)
            }
        }
    }

    @Test func verifiedAtFollowsTheStatusUnlessSentExplicitly() async throws {
        try await Vantio.run { host in
            let path = "/api/v1/referrals/ref_123abc"
            var response = try await host.vantio(.put, path, json: #"{"status": "verified"}"#)
            #expect(response.status == 200)
            expectRecent(response.object["verified_at"])

            response = try await host.vantio(.put, path, json: #"{"status": "rejected"}"#)
            #expect(response.object["verified_at"] == .null)

            response = try await host.vantio(
                .put, path, json: #"{"status": "verified", "verified_at": "2024-02-01T10:00:00.750+02:00"}"#
            )
            #expect(response.object["verified_at"] == .string("2024-02-01T08:00:00Z"))

            response = try await host.vantio(.put, path, json: #"{"verified_at": null}"#)
            #expect(response.object["status"] == .string("verified"))
            #expect(response.object["verified_at"] == .null)

            response = try await host.vantio(.put, path, json: #"{"status": "pending", "verified_at": "2024-03-01"}"#)
            #expect(response.object["verified_at"] == .string("2024-03-01T00:00:00Z"))

            response = try await host.vantio(.put, path, json: #"""
                {"first_name": "Alicia", "last_name": "Jones", "email": "alicia@example.com", "profile_picture": "p.png"}
                """#)
            #expect(response.status == 200)
            #expect(response.object["first_name"] == .string("Alicia"))
            #expect(response.object["last_name"] == .string("Jones"))
            #expect(response.object["email"] == .string("alicia@example.com"))
            #expect(response.object["profile_picture"] == .string("p.png"))
            #expect(response.object["created_at"] == .string("2024-01-15T10:15:00Z"))
            expectRecent(response.object["updated_at"])
        }
    }

    @Test func updateRefusesBadInput() async throws {
        let transitions = """
            transitions:
              referrals: { pending: [converted, rejected], converted: [verified, rejected] }
            """
        try await Vantio.run(campus: transitions) { host in
            let path = "/api/v1/referrals/ref_123abc"
            let cases: [(String, String)] = [
                (#"{"impression_id": "imp_789ghi"}"#, "Unknown field: impression_id"),
                (#"{"first_name": ""}"#, "first_name must be a non-empty string"),
                (#"{"first_name": null}"#, "first_name must be a non-empty string"),
                (#"{"email": "nope"}"#, "email must be a valid email address"),
                (#"{"email": null}"#, "email must be a valid email address"),
                (#"{"profile_picture": {}}"#, "profile_picture must be a string or null"),
                (#"{"verified_at": "yesterday"}"#, "verified_at must be an ISO 8601 timestamp or null"),
                (#"{"verified_at": "2024-02-30T10:00:00Z"}"#, "verified_at must be an ISO 8601 timestamp or null"),
                (#"{"verified_at": 1705312800}"#, "verified_at must be an ISO 8601 timestamp or null"),
                (#"{"metadata": true}"#, "metadata must be an object"),
                (#"{"status": "paid"}"#, "Invalid status value. Must be one of: pending, converted, verified, rejected"),
                (#"{"status": "pending"}"#, "Cannot change referral status from converted to pending"),
            ]
            for (body, message) in cases {
                expectBadRequest(try await host.vantio(.put, path, json: body), message)
            }
            #expect(try await host.vantio(.put, path, json: #"{"status": "verified"}"#).status == 200)
            expectBadRequest(
                try await host.vantio(.put, path, json: #"{"status": "pending"}"#),
                "Cannot change referral status from verified to pending"
            )
            expectError(
                try await host.vantio(.put, "/api/v1/referrals/ref_nope", json: "{}"), 404, "Not Found",
                "Referral not found"
            )
        }
    }

    @Test func referralMetadataFollowsTheTenantsRule() async throws {
        try await Vantio.run(rival: "metadata_update: replace") { host in
            let response = try await host.vantio(
                .put, "/api/v1/referrals/ref_123abc", json: #"{"metadata": {"campus": "north", "source": null}}"#
            )
            #expect(response.object["metadata"]?.serialized == #"{"location":"campus_center","campus":"north"}"#)
        }
    }
}
