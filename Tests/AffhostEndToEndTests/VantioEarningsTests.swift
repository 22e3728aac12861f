import AffiliateCore
import Hummingbird
import Testing

/// `/api/v1/earnings`: listing, creating and the PUT rules (fields, status, paid_at, metadata).
@Suite struct VantioEarningsTests {
    @Test func listsFilterBySnakeCaseParametersAndStatus() async throws {
        try await Vantio.run { host in
            var response = try await host.vantio(.get, "/api/v1/earnings")
            #expect(response.status == 200)
            #expect(Self.ids(response, "earnings") == ["earn_456def", "earn_123abc"])

            response = try await host.vantio(.get, "/api/v1/earnings?program_id=prog_123abc&status=paid&limit=100")
            #expect(Self.ids(response, "earnings") == ["earn_456def"])
            response = try await host.vantio(.get, "/api/v1/earnings?referral_id=ref_123abc")
            #expect(Self.ids(response, "earnings") == ["earn_123abc"])
            response = try await host.vantio(.get, "/api/v1/earnings?status=pending")
            #expect(Self.ids(response, "earnings") == ["earn_123abc"])
            response = try await host.vantio(.get, "/api/v1/earnings?program_id=prog_456def")
            #expect(response.body == #"{"earnings":[]}"#)
            response = try await host.vantio(.get, "/api/v1/earnings?referral_id=ref_nobody")
            #expect(response.body == #"{"earnings":[]}"#)
            // The camelCase spelling is another resource's: ignored, so it does not filter.
            response = try await host.vantio(.get, "/api/v1/earnings?referralId=ref_nobody&programId=x")
            #expect(Self.ids(response, "earnings") == ["earn_456def", "earn_123abc"])

            response = try await host.vantio(.get, "/api/v1/earnings?status=done")
            expectBadRequest(response, "Invalid status value. Must be one of: pending, processing, paid, failed")
        }
    }

    @Test func createTakesTheFirstWordTheTenantCurrencyAndTheReferralsProgram() async throws {
        try await Vantio.run { host in
            var response = try await host.vantio(.post, "/api/v1/earnings", json: #"""
                {"referral_id": "ref_789ghi", "amount": 5.5e2, "metadata": {"order_id": "order_9"}}
                """#)
            #expect(response.status == 201)
            let created = response.object
            #expect(created.keys == [
                "id", "referral_id", "amount", "currency", "type", "description", "status", "reference_id",
                "created_at", "paid_at", "updated_at", "metadata",
            ])
            #expect(created["amount"] == .number("550"))
            #expect(created["currency"] == .string("USD"))
            #expect(created["type"] == .null)
            #expect(created["description"] == .null)
            #expect(created["status"] == .string("pending"))
            #expect(created["metadata"] == .object(["order_id": .string("order_9")]))
            let id = created["id"]!.stringValue!

            response = try await host.vantio(.get, "/api/v1/earnings/\(id)")
            #expect(response.object == created)
            // ref_789ghi belongs to prog_456def: the earning is found under that program.
            response = try await host.vantio(.get, "/api/v1/earnings?program_id=prog_456def")
            #expect(Self.ids(response, "earnings") == [id])

            response = try await host.vantio(.post, "/api/v1/earnings", json: #"""
                {"referral_id": "ref_789ghi", "amount": 100, "currency": "GBP", "type": null, "description": "Fix"}
                """#)
            #expect(response.status == 201)
            #expect(response.object["currency"] == .string("GBP"))
            #expect(response.object["description"] == .string("Fix"))
        }
    }

    @Test func createRefusesBadFieldsWithTheSpecMessages() async throws {
        try await Vantio.run { host in
            let cases: [(String, String)] = [
                (#"{"amount": 100}"#, "referral_id is required"),
                (#"{"referral_id": null, "amount": 100}"#, "referral_id is required"),
                (#"{"referral_id": "", "amount": 100}"#, "referral_id must be a non-empty string"),
                (#"{"referral_id": 7, "amount": 100}"#, "referral_id must be a non-empty string"),
                (#"{"referral_id": "ref_123abc"}"#, "amount is required"),
                (#"{"referral_id": "ref_123abc", "amount": "1000"}"#, "amount must be a positive integer"),
                (#"{"referral_id": "ref_123abc", "amount": 10.5}"#, "amount must be a positive integer"),
                (#"{"referral_id": "ref_123abc", "amount": 0}"#, "amount must be a positive integer"),
                (#"{"referral_id": "ref_123abc", "amount": -100}"#, "amount must be a positive integer"),
                (#"{"referral_id": "ref_123abc", "amount": 9007199254740992}"#, "amount must be a positive integer"),
                (#"{"referral_id": "ref_123abc", "amount": 1e400}"#, "amount must be a positive integer"),
                (#"{"referral_id": "ref_123abc", "amount": 1, "currency": "usd"}"#,
                 "currency must be a 3-letter uppercase ISO 4217 code"),
                (#"{"referral_id": "ref_123abc", "amount": 1, "currency": "USDT"}"#,
                 "currency must be a 3-letter uppercase ISO 4217 code"),
                (#"{"referral_id": "ref_123abc", "amount": 1, "type": 3}"#, "type must be a string or null"),
                (#"{"referral_id": "ref_123abc", "amount": 1, "description": []}"#,
                 "description must be a string or null"),
                (#"{"referral_id": "ref_123abc", "amount": 1, "metadata": "x"}"#, "metadata must be an object"),
                (#"{"referral_id": "ref_123abc", "amount": 1, "metadata": null}"#, "metadata must be an object"),
                (#"{"referral_id": "ref_nope", "amount": 1}"#, "Referral not found"),
                // Field rules come before the referenced record.
                (#"{"referral_id": "ref_nope", "amount": 0}"#, "amount must be a positive integer"),
                (#"{"referral_id": "ref_123abc", "amount": 1, "status": "paid", "zeta": 1}"#, "Unknown field: status"),
                (#"{"referral_id": "ref_123abc", "amount": 1, "idempotency_key": ""}"#,
                 "idempotency_key must be a non-empty string of at most 255 characters"),
                (#"{"referral_id": "ref_123abc", "amount": 1, "idempotency_key": "\#(String(repeating: "k", count: 256))"}"#,
                 "idempotency_key must be a non-empty string of at most 255 characters"),
                // Idempotency is checked before the field rules.
                (#"{"amount": "x", "idempotency_key": 5}"#,
                 "idempotency_key must be a non-empty string of at most 255 characters"),
            ]
            for (body, message) in cases {
                let response = try await host.vantio(.post, "/api/v1/earnings", json: body)
                expectBadRequest(response, message)
            }
            let response = try await host.vantio(.get, "/api/v1/earnings")
            #expect(Self.ids(response, "earnings") == ["earn_456def", "earn_123abc"])
        }
    }

    @Test func updateAppliesEveryFieldAndAlwaysRefreshesUpdatedAt() async throws {
        try await Vantio.run { host in
            var response = try await host.vantio(.put, "/api/v1/earnings/earn_123abc", json: "{}")
            #expect(response.status == 200)
            expectRecent(response.object["updated_at"])
            #expect(response.object["status"] == .string("pending"))
            #expect(response.object["paid_at"] == .null)

            response = try await host.vantio(.put, "/api/v1/earnings/earn_123abc", json: #"""
                {"amount": 1500, "currency": "EUR", "type": "recurring", "description": null,
                 "reference_id": "txn_42"}
                """#)
            #expect(response.status == 200)
            let updated = response.object
            #expect(updated["amount"] == .number("1500"))
            #expect(updated["currency"] == .string("EUR"))
            #expect(updated["type"] == .string("recurring"))
            #expect(updated["description"] == .null)
            #expect(updated["reference_id"] == .string("txn_42"))
            #expect(updated["created_at"] == .string("2024-01-15T10:30:00Z"))

            response = try await host.vantio(.put, "/api/v1/earnings/earn_123abc", json: #"{"reference_id": null}"#)
            #expect(response.object["reference_id"] == .null)
            response = try await host.vantio(.get, "/api/v1/earnings/earn_123abc")
            #expect(response.object["amount"] == .number("1500"))
            #expect(response.object["reference_id"] == .null)
        }
    }

    @Test func updateRefusesBadInputWithoutChangingTheEarning() async throws {
        try await Vantio.run { host in
            let before = try await host.vantio(.get, "/api/v1/earnings/earn_123abc").body
            let cases: [(String, String)] = [
                (#"{"idempotency_key": "k"}"#, "Unknown field: idempotency_key"),
                (#"{"zebra": 1, "alpha": 2, "status": "paid"}"#, "Unknown field: alpha"),
                (#"{"amount": "1500"}"#, "amount must be a positive integer"),
                (#"{"amount": null}"#, "amount must be a positive integer"),
                (#"{"currency": null}"#, "currency must be a 3-letter uppercase ISO 4217 code"),
                (#"{"type": false}"#, "type must be a string or null"),
                (#"{"reference_id": 12}"#, "reference_id must be a string or null"),
                (#"{"metadata": [1]}"#, "metadata must be an object"),
                (#"{"status": "done"}"#, "Invalid status value. Must be one of: pending, processing, paid, failed"),
                (#"{"status": null}"#, "Invalid status value. Must be one of: pending, processing, paid, failed"),
                // Field rules before the status vocabulary.
                (#"{"status": "done", "metadata": 1}"#, "metadata must be an object"),
                (#"{"status": "paid", "amount": 0}"#, "amount must be a positive integer"),
            ]
            for (body, message) in cases {
                expectBadRequest(try await host.vantio(.put, "/api/v1/earnings/earn_123abc", json: body), message)
            }
            #expect(try await host.vantio(.get, "/api/v1/earnings/earn_123abc").body == before)
        }
    }

    @Test func theRecordInThePathIsCheckedBeforeTheBody() async throws {
        try await Vantio.run { host in
            var response = try await host.vantio(.put, "/api/v1/earnings/earn_missing", json: "not json")
            expectError(response, 404, "Not Found", "Earning not found")
            response = try await host.vantio(.get, "/api/v1/earnings/earn_missing")
            expectError(response, 404, "Not Found", "Earning not found")
            response = try await host.vantio(.put, "/api/v1/earnings/earn_123abc", json: "not json")
            expectBadRequest(response, "Malformed JSON body")
        }
    }

    @Test func paidAtIsSetOnEnteringTheSettledPhaseKeptInsideItAndClearedOnLeaving() async throws {
        let vocabulary = """
            statuses:
              earnings: { pending: open, processing: in_progress, paid: settled, reconciled: settled, failed: failed }
            """
        try await Vantio.run(campus: vocabulary) { host in
            let path = "/api/v1/earnings/earn_123abc"
            var response = try await host.vantio(.put, path, json: #"{"status": "processing"}"#)
            #expect(response.object["paid_at"] == .null)

            response = try await host.vantio(.put, path, json: #"{"status": "paid"}"#)
            let paidAt = response.object["paid_at"]
            expectRecent(paidAt)

            try await Task.sleep(for: .milliseconds(1100))
            response = try await host.vantio(.put, path, json: #"{"status": "paid"}"#)
            #expect(response.object["paid_at"] == paidAt, "the same status again changes nothing")
            #expect(response.object["updated_at"] != paidAt, "but updated_at moves")
            response = try await host.vantio(.put, path, json: #"{"status": "reconciled"}"#)
            #expect(response.object["status"] == .string("reconciled"))
            #expect(response.object["paid_at"] == paidAt, "settled to settled keeps the paid date")

            response = try await host.vantio(.put, path, json: #"{"status": "failed"}"#)
            #expect(response.object["paid_at"] == .null)
            response = try await host.vantio(.put, path, json: #"{"status": "paid"}"#)
            expectRecent(response.object["paid_at"])
            #expect(response.object["paid_at"] != paidAt)

            // Every move is in the audit trail, with the key id and the request id.
            let trail = try await host.store.auditTrail(tenant: "campus", resource: "earnings", recordID: "earn_123abc")
            #expect(trail.map(\.to) == ["processing", "paid", "reconciled", "failed", "paid"])
            #expect(trail.map(\.from) == ["pending", "processing", "paid", "reconciled", "failed"])
            #expect(trail.allSatisfy { $0.keyID == "campus-main" })
            #expect(trail.last?.requestID == response.header("X-Request-Id"))
        }
    }

    @Test func declaredTransitionsRefuseUnlistedMoves() async throws {
        let transitions = """
            transitions:
              earnings: { pending: [processing], processing: [paid, failed], failed: [pending] }
            """
        try await Vantio.run(campus: transitions) { host in
            let path = "/api/v1/earnings/earn_123abc"
            expectBadRequest(
                try await host.vantio(.put, path, json: #"{"status": "paid"}"#),
                "Cannot change earning status from pending to paid"
            )
            #expect(try await host.vantio(.put, path, json: #"{"status": "pending"}"#).status == 200)
            #expect(try await host.vantio(.put, path, json: #"{"status": "processing"}"#).status == 200)
            #expect(try await host.vantio(.put, path, json: #"{"status": "paid"}"#).status == 200)
            expectBadRequest(
                try await host.vantio(.put, "/api/v1/earnings/earn_456def", json: #"{"status": "pending"}"#),
                "Cannot change earning status from paid to pending"
            )
            // The vocabulary is checked before the transition.
            expectBadRequest(
                try await host.vantio(.put, path, json: #"{"status": "gone"}"#),
                "Invalid status value. Must be one of: pending, processing, paid, failed"
            )
        }
    }

    @Test func aCustomWordMappedToOpenIsAcceptedListedAndClearsPaidAt() async throws {
        let vocabulary = """
            statuses:
              earnings: { pending: open, processing: in_progress, paid: settled, failed: failed, on_hold: open }
            """
        try await Vantio.run(campus: vocabulary) { host in
            var response = try await host.vantio(.put, "/api/v1/earnings/earn_456def", json: #"{"status": "on_hold"}"#)
            #expect(response.status == 200)
            #expect(response.object["status"] == .string("on_hold"))
            #expect(response.object["paid_at"] == .null, "on_hold is an open word: the earning is no longer paid")

            response = try await host.vantio(.get, "/api/v1/earnings?status=on_hold")
            #expect(Self.ids(response, "earnings") == ["earn_456def"])
            expectBadRequest(
                try await host.vantio(.put, "/api/v1/earnings/earn_456def", json: #"{"status": "held"}"#),
                "Invalid status value. Must be one of: pending, processing, paid, failed, on_hold"
            )
            expectBadRequest(
                try await host.vantio(.get, "/api/v1/earnings?status=held"),
                "Invalid status value. Must be one of: pending, processing, paid, failed, on_hold"
            )
        }
    }

    @Test func metadataMergesByDefault() async throws {
        try await Vantio.run { host in
            let response = try await host.vantio(.put, "/api/v1/earnings/earn_123abc", json: #"""
                {"metadata": {"commission_rate": "12%", "order_id": null, "payout_id": "payout_1", "note": {"a": null}}}
                """#)
            #expect(response.status == 200)
            #expect(response.object["metadata"]?.serialized
                == #"{"commission_rate":"12%","payout_id":"payout_1","note":{"a":null}}"#)
        }
    }

    @Test func metadataIsReplacedWhenTheTenantSaysSo() async throws {
        try await Vantio.run(campus: "metadata_update: replace") { host in
            var response = try await host.vantio(.put, "/api/v1/earnings/earn_123abc", json: #"""
                {"metadata": {"payout_id": "payout_1", "order_id": null}}
                """#)
            #expect(response.status == 200)
            #expect(response.object["metadata"]?.serialized == #"{"payout_id":"payout_1","order_id":null}"#)
            response = try await host.vantio(.put, "/api/v1/earnings/earn_123abc", json: #"{"metadata": {}}"#)
            #expect(response.object["metadata"]?.serialized == "{}")
        }
    }

    static func ids(_ response: TestResponse, _ key: String) -> [String] {
        (response.object[key]?.arrayValue ?? []).compactMap { $0["id"]?.stringValue }
    }
}
