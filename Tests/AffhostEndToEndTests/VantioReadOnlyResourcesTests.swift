import AffiliateCore
import Hummingbird
import Testing

/// Users, posters and impressions (read-only), and the paging rules every list shares.
@Suite struct VantioReadOnlyResourcesTests {
    @Test func usersListFilterAndGet() async throws {
        try await Vantio.run { host in
            var response = try await host.vantio(.get, "/api/v1/users")
            #expect(VantioEarningsTests.ids(response, "users") == ["user_123abc", "user_456def", "user_789ghi"])
            response = try await host.vantio(.get, "/api/v1/users?programId=prog_456def")
            #expect(VantioEarningsTests.ids(response, "users") == ["user_789ghi"])
            // Every documented key is present in list items too, null where unset.
            #expect(response.body == Vantio.compact(#"""
                {"users": [{"id": "user_789ghi", "first_name": "Sofia", "last_name": "Alvarez",
                  "email": "sofia.alvarez@example.edu", "program_id": "prog_456def", "profile_picture": null,
                  "created_at": "2024-01-04T15:45:00Z", "updated_at": "2024-01-04T15:45:00Z",
                  "metadata": {"student_number": "S-3307", "major": "Biology"}}]}
                """#))
            response = try await host.vantio(.get, "/api/v1/users?program_id=prog_456def")
            #expect(VantioEarningsTests.ids(response, "users").count == 3)
            expectError(try await host.vantio(.get, "/api/v1/users/user_nope"), 404, "Not Found", "User not found")
        }
    }

    @Test func postersListFilterAndGet() async throws {
        try await Vantio.run { host in
            var response = try await host.vantio(.get, "/api/v1/posters?programId=prog_123abc")
            #expect(VantioEarningsTests.ids(response, "posters") == ["poster_123abc", "poster_456def"])
            response = try await host.vantio(.get, "/api/v1/posters?programId=prog_123abc&studentId=user_456def")
            #expect(VantioEarningsTests.ids(response, "posters") == ["poster_456def"])
            response = try await host.vantio(.get, "/api/v1/posters/poster_789ghi")
            #expect(response.object["location"] == .null)
            #expect(response.object["metadata"] == .object([:]))
            #expect(response.object["program_id"] == .string("prog_456def"), "copied from the user")
            expectError(try await host.vantio(.get, "/api/v1/posters/nope"), 404, "Not Found", "Poster not found")
        }
    }

    @Test func impressionsAreOrderedByScanTime() async throws {
        try await Vantio.run { host in
            var response = try await host.vantio(.get, "/api/v1/impressions")
            #expect(VantioEarningsTests.ids(response, "impressions") == ["imp_123jkl", "imp_456jkl", "imp_456def", "imp_789ghi"])
            response = try await host.vantio(.get, "/api/v1/impressions?programId=prog_456def")
            #expect(VantioEarningsTests.ids(response, "impressions") == ["imp_456jkl"])
            response = try await host.vantio(.get, "/api/v1/impressions?posterId=poster_456def&programId=prog_456def")
            #expect(response.body == #"{"impressions":[]}"#, "filters AND-combine")
            expectError(
                try await host.vantio(.get, "/api/v1/impressions/imp_nope"), 404, "Not Found", "Impression not found"
            )
        }
    }

    @Test func pagingDefaultsClampsAndRefusesBadValues() async throws {
        let users = (0..<105).map { index in
            """
              - { id: user_p\(index), first_name: P, last_name: "\(index)", email: p\(index)@example.edu,
                  program_id: prog_paging, created_at: "2024-02-01T00:00:00Z" }
            """
        }.joined(separator: "\n")
        try await Vantio.run(files: ["campus.yaml": "users:\n" + users]) { host in
            var response = try await host.vantio(.get, "/api/v1/users")
            var ids = VantioEarningsTests.ids(response, "users")
            #expect(ids.count == 50)
            // Equal instants order by id, byte order.
            #expect(ids == (0..<105).map { "user_p\($0)" }.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }).prefix(50).map { $0 })
            response = try await host.vantio(.get, "/api/v1/users?limit=1000")
            #expect(VantioEarningsTests.ids(response, "users").count == 100)
            response = try await host.vantio(.get, "/api/v1/users?limit=99999999999999999999999")
            #expect(VantioEarningsTests.ids(response, "users").count == 100)
            response = try await host.vantio(.get, "/api/v1/users?limit=100&offset=100")
            ids = VantioEarningsTests.ids(response, "users")
            #expect(ids.count == 5)
            response = try await host.vantio(.get, "/api/v1/users?limit=2&offset=1")
            #expect(VantioEarningsTests.ids(response, "users") == ["user_p1", "user_p10"])
            response = try await host.vantio(.get, "/api/v1/users?offset=500")
            #expect(response.body == #"{"users":[]}"#)
            response = try await host.vantio(.get, "/api/v1/users?offset=99999999999999999999999")
            #expect(response.body == #"{"users":[]}"#)

            for limit in ["0", "-1", "abc", "1.5", "", "+3"] {
                expectBadRequest(
                    try await host.vantio(.get, "/api/v1/users?limit=\(limit)"), "limit must be a positive integer"
                )
            }
            for offset in ["-1", "x", "2.0", ""] {
                expectBadRequest(
                    try await host.vantio(.get, "/api/v1/users?offset=\(offset)"),
                    "offset must be a non-negative integer"
                )
            }
            expectBadRequest(
                try await host.vantio(.get, "/api/v1/earnings?limit=0&status=nope"),
                "Invalid status value. Must be one of: pending, processing, paid, failed"
            )
        }
    }

    @Test func readOnlyResourcesRefuseWritesWith405() async throws {
        try await Vantio.run { host in
            for path in ["/api/v1/users", "/api/v1/posters", "/api/v1/impressions"] {
                let response = try await host.vantio(.post, path, json: "{}")
                expectError(response, 405, "Method Not Allowed", "Method not allowed")
                #expect(response.header("Allow") == "GET")
            }
            let response = try await host.vantio(.put, "/api/v1/users/user_123abc", json: "{}")
            expectError(response, 405, "Method Not Allowed", "Method not allowed")
            #expect(response.header("Allow") == "GET")
        }
    }
}
