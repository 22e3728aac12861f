import AffiliateCore
import ProviderVantio
import Testing

/// Fixture validation of the vantio-v1 dialect: every problem of a document is reported, each
/// with the path the config module turns into file:line:col.
@Suite struct VantioFixturesTests {
    static let tenant: TenantConfig = {
        let provider = VantioProvider()
        var policies: [String: StatusPolicy] = [:]
        for resource in provider.resources { policies[resource.name] = StatusPolicy(vocabulary: resource.defaultVocabulary) }
        return TenantConfig(
            id: "campus", name: "Campus", dialect: "vantio-v1", currency: "CAD", apiKeys: [], statusPolicies: policies
        )
    }()

    static func problems(_ json: String) -> [String] {
        do {
            _ = try VantioProvider().seedData(from: JSONValue(parsing: json), tenant: tenant)
            return []
        } catch let error as SeedProblems {
            return error.problems.map { "\($0.pathText): \($0.message)" }
        } catch {
            return ["\(error)"]
        }
    }

    @Test func aValidDocumentBecomesRecordsWithCopiedReferences() throws {
        let seed = try VantioProvider().seedData(from: JSONValue(parsing: #"""
            {"users": [{"id": "user_1", "first_name": "A", "last_name": "B", "email": "a@b.co", "program_id": "prog_1",
                        "created_at": "2024-01-02T09:00:00+01:00", "metadata": {"k": 1}}],
             "posters": [{"id": "poster_1", "student_id": "user_1", "qr_code_url": "https://q/1.png",
                          "created_at": "2024-01-03T00:00:00Z"}],
             "impressions": [{"id": "imp_1", "poster_id": "poster_1", "scanned_at": "2024-01-04T00:00:00Z"}],
             "referrals": [{"id": "ref_1", "impression_id": "imp_1", "first_name": "C", "last_name": "D",
                            "email": "c@d.co", "created_at": "2024-01-05T00:00:00Z"}],
             "earnings": [{"id": "earn_1", "referral_id": "ref_1", "amount": 1000, "created_at": "2024-01-06T00:00:00Z"}]}
            """#), tenant: Self.tenant)
        #expect(seed.records.map(\.id) == ["user_1", "poster_1", "imp_1", "ref_1", "earn_1"])
        #expect(seed.records.allSatisfy { $0.tenant == "campus" })
        let user = seed.records[0]
        #expect(JSONValue.object(user.data).serialized == #"""
            {"id":"user_1","first_name":"A","last_name":"B","email":"a@b.co","program_id":"prog_1","profile_picture":null,\#
            "created_at":"2024-01-02T08:00:00Z","updated_at":"2024-01-02T08:00:00Z","metadata":{"k":1}}
            """#)
        let impression = seed.records[2]
        #expect(impression.data["program_id"] == .string("prog_1"))
        #expect(impression.data["student_id"] == .string("user_1"))
        let referral = seed.records[3]
        #expect(referral.status == "pending")
        #expect(referral.data["student_id"] == .string("user_1"))
        let earning = seed.records[4]
        #expect(earning.status == "pending")
        #expect(earning.data["currency"] == .string("CAD"), "the tenant's currency by default")
        #expect(earning.tags.contains(Tag("program_id", "prog_1")))
    }

    @Test func everyProblemIsReportedWithItsPath() {
        let problems = Self.problems(#"""
            {"payouts": [],
             "users": [
               {"id": "u_1", "first_name": "", "last_name": "X", "email": "bad", "program_id": "prog_1",
                "created_at": "yesterday", "nickname": "x"},
               {"id": "user_1", "first_name": "A", "last_name": "B", "email": "a@b.co", "program_id": "prog_1",
                "created_at": "2024-01-02T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z"},
               {"id": "user_2", "first_name": "A", "last_name": "B", "email": "a@b.co", "program_id": "prog_1",
                "created_at": "2024-01-02T00:00:00Z", "metadata": []},
               {"id": "user_2", "first_name": "A", "last_name": "B", "email": "a@b.co", "program_id": "prog_1",
                "created_at": "2024-01-02T00:00:00Z"},
               "user_3"],
             "posters": [
               {"id": "poster_1", "student_id": "user_9", "qr_code_url": "q", "created_at": "2024-01-03T00:00:00Z"},
               {"id": "poster_2", "student_id": "user_2", "program_id": "prog_9", "qr_code_url": "q",
                "created_at": "2024-01-03T00:00:00Z"}],
             "impressions": {"id": "imp_1"},
             "referrals": [
               {"id": "ref_1", "impression_id": "imp_1", "first_name": "C", "last_name": "D", "email": "c@d.co",
                "status": "verified", "created_at": "2024-01-05T00:00:00Z"}],
             "earnings": [
               {"id": "earn_1", "referral_id": "ref_1", "amount": "10", "currency": "usd", "status": "done",
                "created_at": "2024-01-06T00:00:00Z"},
               {"id": "earn_2", "referral_id": "ref_1", "amount": 10, "status": "paid", "created_at": "2024-01-06T00:00:00Z"},
               {"id": "earn_3", "referral_id": "ref_1", "amount": 10, "status": "pending",
                "paid_at": "2024-01-07T00:00:00Z", "created_at": "2024-01-06T00:00:00Z"}]}
            """#)
        #expect(problems == [
            "payouts: is not a vantio-v1 resource (expected users, posters, impressions, referrals, earnings)",
            "users[0].nickname: is not a field of this record (expected one of: id, first_name, last_name, email, "
                + "program_id, profile_picture, created_at, updated_at, metadata)",
            "users[0].id: must start with user_ followed by at least one character",
            "users[0].first_name: must be a non-empty string",
            "users[0].email: must be a valid email address",
            "users[0].created_at: must be an ISO 8601 timestamp such as 2024-01-15T10:30:00Z",
            "users[1].updated_at: must not be before created_at",
            "users[2].metadata: must be a mapping",
            "users[4]: must be a mapping",
            "posters[0].student_id: user user_9 does not exist",
            "posters[1].program_id: must be prog_1, the program_id of user user_2 (or be left out)",
            "impressions: must be a list",
            "referrals[0].impression_id: impression imp_1 does not exist",
            "referrals[0].verified_at: is required when status is verified",
            "earnings[0].referral_id: referral ref_1 does not exist",
            "earnings[0].amount: must be a positive integer (cents)",
            "earnings[0].currency: must be a 3-letter uppercase ISO 4217 code",
            "earnings[0].status: must be one of: pending, processing, paid, failed",
            "earnings[1].referral_id: referral ref_1 does not exist",
            "earnings[1].paid_at: is required when status is paid",
            "earnings[2].referral_id: referral ref_1 does not exist",
            "earnings[2].paid_at: must be null while status is pending (it is set when an earning is paid)",
        ])
    }

    @Test func duplicateIdsAreReportedAtTheSecondDefinition() {
        let user = #"{"id": "user_1", "first_name": "A", "last_name": "B", "email": "a@b.co", "program_id": "p", "created_at": "2024-01-01"}"#
        #expect(Self.problems(#"{"users": [\#(user), \#(user)]}"#) == ["users[1].id: duplicates the id of users[0]"])
    }

    @Test func aDocumentThatIsNotAMappingIsRefused() {
        #expect(Self.problems("[1]") == [
            ": must be a mapping with users, posters, impressions, referrals, earnings lists",
        ])
        #expect(Self.problems("null") == [])
    }
}
