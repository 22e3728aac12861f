import AffiliateCore
import Hummingbird
import Testing

/// `idempotency_key` on POST /earnings and POST /referrals (spec §6).
@Suite struct VantioIdempotencyTests {
    static let earning = #"{"referral_id": "ref_123abc", "amount": 550, "type": "bonus", "idempotency_key": "bonus-1"}"#

    @Test func aReplayReturnsTheCurrentRecordAndTheKeyIsNotStored() async throws {
        try await Vantio.run { host in
            let created = try await host.vantio(.post, "/api/v1/earnings", json: Self.earning)
            #expect(created.status == 201)
            #expect(created.header("Idempotent-Replayed") == nil)
            #expect(created.object["idempotency_key"] == nil)
            let id = created.object["id"]!.stringValue!

            let updated = try await host.vantio(.put, "/api/v1/earnings/\(id)", json: #"{"status": "processing"}"#)
            #expect(updated.status == 200)

            // Same value, other spelling: key order, whitespace and number form do not matter.
            let replay = try await host.vantio(.post, "/api/v1/earnings", json: #"""
                { "idempotency_key" : "bonus-1", "type":"bonus", "amount": 5.50e2, "referral_id": "ref_123abc" }
                """#)
            #expect(replay.status == 200)
            #expect(replay.header("Idempotent-Replayed") == "true")
            #expect(replay.body == updated.body)

            let list = try await host.vantio(.get, "/api/v1/earnings?referral_id=ref_123abc")
            #expect(VantioEarningsTests.ids(list, "earnings") == ["earn_123abc", id])
        }
    }

    @Test func theSameKeyWithAnotherPayloadIs409() async throws {
        try await Vantio.run { host in
            #expect(try await host.vantio(.post, "/api/v1/earnings", json: Self.earning).status == 201)
            for body in [
                #"{"referral_id": "ref_123abc", "amount": 551, "type": "bonus", "idempotency_key": "bonus-1"}"#,
                #"{"referral_id": "ref_123abc", "amount": 550, "idempotency_key": "bonus-1"}"#,
                #"{"referral_id": "ref_123abc", "amount": 550, "type": "bonus", "metadata": {}, "idempotency_key": "bonus-1"}"#,
                // Invalid as a create, but the key's conflict is decided first.
                #"{"referral_id": "ref_123abc", "amount": "550", "type": "bonus", "idempotency_key": "bonus-1"}"#,
            ] {
                expectError(
                    try await host.vantio(.post, "/api/v1/earnings", json: body), 409, "Conflict",
                    "idempotency_key was already used with a different request"
                )
            }
            let list = try await host.vantio(.get, "/api/v1/earnings?referral_id=ref_123abc")
            #expect(VantioEarningsTests.ids(list, "earnings").count == 2)
        }
    }

    @Test func aFailedCreateDoesNotRememberItsKey() async throws {
        try await Vantio.run { host in
            let failing = #"{"referral_id": "ref_gone", "amount": 550, "idempotency_key": "retry-me"}"#
            expectBadRequest(try await host.vantio(.post, "/api/v1/earnings", json: failing), "Referral not found")
            let fixed = #"{"referral_id": "ref_123abc", "amount": 550, "idempotency_key": "retry-me"}"#
            #expect(try await host.vantio(.post, "/api/v1/earnings", json: fixed).status == 201)
        }
    }

    @Test func keysAreScopedByEndpointAndTenant() async throws {
        let rivalFixtures = """
            users: [{ id: user_r1, first_name: R, last_name: One, email: r1@example.edu, program_id: prog_r,
                      created_at: "2024-01-01T00:00:00Z" }]
            posters: [{ id: poster_r1, student_id: user_r1, qr_code_url: "https://cdn.example.com/r1.png",
                        created_at: "2024-01-01T00:00:00Z" }]
            impressions: [{ id: imp_r1, poster_id: poster_r1, scanned_at: "2024-01-02T00:00:00Z" }]
            """
        try await Vantio.run(rival: "fixtures: $DIR/rival.yaml", files: ["rival.yaml": rivalFixtures]) { host in
            let referral = #"""
                {"impression_id": "imp_456def", "first_name": "A", "last_name": "B", "email": "a@b.co",
                 "idempotency_key": "bonus-1"}
                """#
            #expect(try await host.vantio(.post, "/api/v1/earnings", json: Self.earning).status == 201)
            #expect(try await host.vantio(.post, "/api/v1/referrals", json: referral).status == 201)

            let rivalReferral = #"""
                {"impression_id": "imp_r1", "first_name": "A", "last_name": "B", "email": "a@b.co", "idempotency_key": "bonus-1"}
                """#
            let rival = try await host.vantio(.post, "/api/v1/referrals", key: Vantio.rivalKey, json: rivalReferral)
            #expect(rival.status == 201)
            #expect(rival.object["program_id"] == .string("prog_r"))
        }
    }

    @Test func aKeyIsForgottenAfterTheTenantsWindow() async throws {
        try await Vantio.run(campus: "idempotency_window: 1s") { host in
            let first = try await host.vantio(.post, "/api/v1/earnings", json: Self.earning)
            #expect(first.status == 201)
            try await Task.sleep(for: .milliseconds(1500))
            let second = try await host.vantio(.post, "/api/v1/earnings", json: Self.earning)
            #expect(second.status == 201)
            #expect(second.object["id"] != first.object["id"])
        }
    }

    @Test func twentyConcurrentIdenticalCreatesMakeOneRecord() async throws {
        try await Vantio.run { host in
            let body = #"{"referral_id": "ref_789ghi", "amount": 1234, "idempotency_key": "burst-1"}"#
            let responses = try await withThrowingTaskGroup(of: TestResponse.self) { group in
                for _ in 0..<20 {
                    group.addTask { try await host.vantio(.post, "/api/v1/earnings", json: body) }
                }
                var all: [TestResponse] = []
                for try await response in group { all.append(response) }
                return all
            }
            #expect(responses.filter { $0.status == 201 }.count == 1)
            let replays = responses.filter { $0.status == 200 }
            #expect(replays.count == 19)
            #expect(replays.allSatisfy { $0.header("Idempotent-Replayed") == "true" })
            #expect(Set(responses.map { $0.object["id"] }).count == 1)
            let list = try await host.vantio(.get, "/api/v1/earnings?referral_id=ref_789ghi")
            #expect(VantioEarningsTests.ids(list, "earnings").count == 1)
        }
    }

    @Test func concurrentReferralCreatesAreIdempotentToo() async throws {
        try await Vantio.run { host in
            let body = #"""
                {"impression_id": "imp_789ghi", "first_name": "Ben", "last_name": "Okafor",
                 "email": "ben.okafor@example.com", "idempotency_key": "ref_20240116_8812"}
                """#
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<8 {
                    group.addTask { try await host.vantio(.post, "/api/v1/referrals", json: body).status }
                }
                var all: [Int] = []
                for try await status in group { all.append(status) }
                return all.sorted()
            }
            #expect(statuses == [200, 200, 200, 200, 200, 200, 200, 201])
            let list = try await host.vantio(.get, "/api/v1/referrals?studentId=user_123abc")
            #expect(VantioEarningsTests.ids(list, "referrals").count == 2)
        }
    }
}
