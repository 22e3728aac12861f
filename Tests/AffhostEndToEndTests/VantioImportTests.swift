import AffiliateCore
import Foundation
import Hummingbird
import Testing

@testable import affhost

/// `affhost import` into a running server's storage: all rows or none, every bad row with its
/// line, then the records served over HTTP.
@Suite struct VantioImportTests {
    static func importing(
        _ name: String, _ content: String, into host: TestHost, tenant: String = "campus", resource: String? = nil
    ) async throws -> ImportCommand.Outcome {
        let path = host.directory + "/" + name
        try content.write(toFile: path, atomically: true, encoding: .utf8)
        var arguments = ["--tenant", tenant, "--config", host.runtime.configPath, path]
        if let resource { arguments += ["--resource", resource] }
        return try await ImportCommand.parse(arguments).perform()
    }

    @Test func csvRowsAreImportedAndServed() async throws {
        try await Vantio.run { host in
            let csv = """
                id,first_name,last_name,email,program_id,created_at,metadata
                user_new1,Ada,Lovelace,ada@example.edu,prog_123abc,2024-03-01T09:00:00Z,"{""major"": ""Mathematics""}"
                user_new2,"Grace, Jr.",Hopper,grace@example.edu,prog_123abc,2024-03-02T09:00:00Z,

                """
            let outcome = try await Self.importing("users.csv", csv, into: host)
            #expect(outcome == ImportCommand.Outcome(
                summary: "\(host.directory)/users.csv: 2 records added to tenant campus", problems: []
            ))
            var response = try await host.vantio(.get, "/api/v1/users/user_new1")
            #expect(response.status == 200)
            #expect(response.body == Vantio.compact(#"""
                {"id": "user_new1", "first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.edu",
                 "program_id": "prog_123abc", "profile_picture": null, "created_at": "2024-03-01T09:00:00Z",
                 "updated_at": "2024-03-01T09:00:00Z", "metadata": {"major": "Mathematics"}}
                """#))
            response = try await host.vantio(.get, "/api/v1/users/user_new2")
            #expect(response.object["first_name"] == .string("Grace, Jr."))
            #expect(response.object["metadata"] == .object([:]))

            let again = try await Self.importing("users.csv", csv, into: host)
            #expect(again.summary == "\(host.directory)/users.csv: 0 records added to tenant campus, 2 already present (left as they were)")
        }
    }

    @Test func rowsMayReferenceStoredRecordsAndEachOther() async throws {
        try await Vantio.run { host in
            let json = """
                {
                  "posters": [
                    {"id": "poster_new", "student_id": "user_456def", "qr_code_url": "https://cdn.example.com/qr/new.png",
                     "created_at": "2024-03-01T00:00:00Z"}
                  ],
                  "impressions": [
                    {"id": "imp_new", "poster_id": "poster_new", "scanned_at": "2024-03-02T00:00:00Z"}
                  ]
                }
                """
            let outcome = try await Self.importing("scans.json", json, into: host)
            #expect(outcome.summary == "\(host.directory)/scans.json: 2 records added to tenant campus")
            let response = try await host.vantio(.get, "/api/v1/impressions?posterId=poster_new")
            #expect(VantioEarningsTests.ids(response, "impressions") == ["imp_new"])
            #expect(response.object["impressions"]?.arrayValue?.first?["program_id"] == .string("prog_123abc"))
        }
    }

    @Test func everyBadRowIsReportedWithItsLineAndNothingIsWritten() async throws {
        try await Vantio.run { host in
            let json = """
                [
                  {"id": "imp_ok", "poster_id": "poster_123abc", "scanned_at": "2024-03-02T00:00:00Z"},
                  {"id": "imp_bad1", "poster_id": "poster_gone",
                   "scanned_at": "2024-03-02T00:00:00Z"},
                  {"id": "imp_bad2", "poster_id": "poster_123abc", "scanned_at": "soon", "colour": "red"}
                ]
                """
            let outcome = try await Self.importing("rows.json", json, into: host, resource: "impressions")
            let file = "\(host.directory)/rows.json"
            #expect(outcome == ImportCommand.Outcome(summary: nil, problems: [
                "\(file):3: impressions[1].poster_id: poster poster_gone does not exist",
                "\(file):5: impressions[2].colour: is not a field of this record (expected one of: id, poster_id, "
                    + "program_id, student_id, scanned_at, user_agent, ip_address, metadata)",
                "\(file):5: impressions[2].scanned_at: must be an ISO 8601 timestamp such as 2024-01-15T10:30:00Z",
                "\(file): 3 problems; nothing was imported",
            ]))
            expectError(
                try await host.vantio(.get, "/api/v1/impressions/imp_ok"), 404, "Not Found", "Impression not found"
            )
        }
    }

    @Test func csvProblemsNameTheirLines() async throws {
        try await Vantio.run { host in
            let file = "\(host.directory)/people.csv"
            var outcome = try await Self.importing("people.csv", """
                id,first_name,last_name,email,program_id,created_at
                user_a,A,One,a@example.edu,prog_1,2024-03-01T00:00:00Z
                user_b,B,Two,not-an-email,prog_1,2024-03-01T00:00:00Z
                user_c,C,Three,c@example.edu,prog_1
                user_a,A,Again,a2@example.edu,prog_1,2024-03-01T00:00:00Z
                """, into: host, resource: "users")
            #expect(outcome.problems == [
                "\(file):4: 5 cells, but the header names 6 columns",
                "\(file): 1 problem; nothing was imported",
            ])
            outcome = try await Self.importing("people.csv", """
                id,first_name,last_name,email,program_id,created_at
                user_a,A,One,a@example.edu,prog_1,2024-03-01T00:00:00Z
                user_b,B,Two,not-an-email,prog_1,2024-03-01T00:00:00Z
                user_a,A,Again,a2@example.edu,prog_1,2024-03-01T00:00:00Z
                """, into: host, resource: "users")
            #expect(outcome.problems == [
                "\(file):3: users[1].email: must be a valid email address",
                "\(file):4: users[2].id: duplicates the id of users[0]",
                "\(file): 2 problems; nothing was imported",
            ])
            outcome = try await Self.importing("people.csv", "id,name\nuser_a,A\n", into: host, resource: "users")
            #expect(outcome.problems.first?.hasPrefix("\(file):1: unknown column \"name\": users have id, ") == true)
            outcome = try await Self.importing("people.csv", "id\nuser_a\n", into: host)
            #expect(outcome.problems == [
                "\(file): name the resource of a CSV file with --resource (one of users, posters, impressions, "
                    + "referrals, earnings)",
                "\(file): 1 problem; nothing was imported",
            ])
            expectError(try await host.vantio(.get, "/api/v1/users/user_a"), 404, "Not Found", "User not found")
        }
    }

    @Test func onlyVantioTenantsOfTheFileAreAccepted() async throws {
        try await Vantio.run { host in
            await #expect(throws: (any Error).self) {
                _ = try await Self.importing("users.csv", "id\n", into: host, tenant: "nobody")
            }
            let help = ImportCommand.helpMessage()
            #expect(help.contains("affhost import --tenant campus users.csv"))
        }
    }
}
