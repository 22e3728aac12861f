import AffiliateCore
import Foundation
import Hummingbird
import PostgresTestSupport
import Testing

/// The repository's demo (`config/affhost.yaml`, tenant `campus`) with the Vantio docs' own
/// requests, byte for byte, and the docs' JavaScript helpers run by Node against it.
@Suite struct VantioDemoTests {
    static let docsKey = "sk_your_secret_key_here"

    @Test func theDocsUpdateEarningExamplesRunVerbatim() async throws {
        try await TestHost.runDemo { host in
            let headers = ["Authorization": "Bearer \(Self.docsKey)", "Content-Type": "application/json"]
            var response = try await host.send(.put, "/api/v1/earnings/earn_123abc", headers: headers, body: """
                {
                    "status": "processing"
                  }
                """)
            #expect(response.status == 200)
            #expect(response.object["status"] == .string("processing"))
            #expect(response.object["paid_at"] == .null)

            response = try await host.send(.put, "/api/v1/earnings/earn_123abc", headers: headers, body: """
                {
                    "status": "paid",
                    "reference_id": "payout_456def",
                    "metadata": {
                      "payout_id": "payout_456def",
                      "processed_at": "2024-01-20T14:20:00Z"
                    }
                  }
                """)
            #expect(response.status == 200)
            let earning = expectObject(response.object, matches: #"""
                {"id": "earn_123abc", "referral_id": "ref_123abc", "amount": 1000, "currency": "USD",
                 "type": "purchase", "description": "Commission from customer purchase - Order #12345",
                 "status": "paid", "reference_id": "payout_456def", "created_at": "2024-01-15T10:30:00Z",
                 "paid_at": "2024-01-20T14:20:00Z", "updated_at": "2024-01-20T14:20:00Z",
                 "metadata": {"order_id": "order_12345", "commission_rate": "10%", "payout_id": "payout_456def",
                              "processed_at": "2024-01-20T14:20:00Z"}}
                """#, except: ["paid_at", "updated_at"])
            expectRecent(earning["paid_at"])
            #expect(earning["updated_at"] == earning["paid_at"])

            let read = ["Authorization": "Bearer \(Self.docsKey)"]
            response = try await host.send(.get, "/api/v1/earnings/earn_123abc", headers: read)
            #expect(response.object == earning)
            response = try await host.send(.get, "/api/v1/earnings?program_id=prog_123abc&status=paid&limit=100", headers: read)
            #expect(VantioEarningsTests.ids(response, "earnings") == ["earn_456def", "earn_123abc"])
            response = try await host.send(.get, "/api/v1/earnings?referral_id=ref_123abc", headers: read)
            #expect(VantioEarningsTests.ids(response, "earnings") == ["earn_123abc"])
            response = try await host.send(.get, "/api/v1/earnings", headers: read)
            #expect(VantioEarningsTests.ids(response, "earnings") == ["earn_456def", "earn_123abc"])
        }
    }

    /// The helpers block of docs/vantio.md, unchanged except for the base URL, called from a
    /// Node script: mark processing, mark paid, mark failed, correct the amount, and a 404.
    @Test func theDocsJavaScriptHelpersWorkWithNodesFetch() async throws {
        let docs = try String(contentsOfFile: TestHost.repositoryRoot + "/docs/vantio.md", encoding: .utf8)
        let helpers = try #require(Self.codeBlock(in: docs, language: "js"))
        try await TestHost.runDemo { host in
            let script = helpers.replacingOccurrences(
                of: "http://localhost:3000", with: "http://127.0.0.1:\(host.port)"
            ) + """

                const processing = await markEarningAsProcessing('earn_123abc', 'payout_456def');
                const paid = await markEarningAsPaid('earn_123abc', 'payout_456def');
                const failed = await markEarningAsFailed('earn_456def', 'Bank account closed');
                const corrected = await correctEarningAmount('earn_456def', 1500, 'Partial refund of order 12290');
                let missing = null;
                try { await markEarningAsPaid('earn_missing', 'payout_1'); } catch (error) { missing = error.message; }
                console.log(JSON.stringify({ processing, paid, failed, corrected, missing }));
                """
            let output = try await Self.runNode(script, in: host.directory)
            let results = try JSONValue(parsing: output).objectValue ?? [:]

            let processing = results["processing"]?.objectValue ?? [:]
            #expect(processing["status"] == .string("processing"))
            #expect(processing["reference_id"] == .string("payout_456def"))
            #expect(processing["paid_at"] == .null)

            let paid = results["paid"]?.objectValue ?? [:]
            #expect(paid["status"] == .string("paid"))
            expectRecent(paid["paid_at"])
            #expect(paid["metadata"]?.objectValue?.keys == [
                "order_id", "commission_rate", "payout_initiated_at", "payout_id", "processed_at",
            ])

            let failed = results["failed"]?.objectValue ?? [:]
            #expect(failed["status"] == .string("failed"))
            #expect(failed["paid_at"] == .null)
            #expect(failed["metadata"]?["failure_reason"] == .string("Bank account closed"))

            let corrected = results["corrected"]?.objectValue ?? [:]
            #expect(corrected["amount"] == .number("1500"))
            #expect(corrected["status"] == .string("failed"))
            #expect(corrected["metadata"]?["amount_corrected"] == .bool(true))

            #expect(results["missing"] == .string("Failed to update earning: Earning not found"))

            let stored = try await host.send(
                .get, "/api/v1/earnings/earn_456def", headers: ["Authorization": "Bearer \(Self.docsKey)"]
            )
            #expect(stored.object == corrected)
        }
    }

    static func codeBlock(in markdown: String, language: String) -> String? {
        guard let start = markdown.range(of: "```\(language)\n"),
              let end = markdown.range(of: "\n```", range: start.upperBound..<markdown.endIndex)
        else { return nil }
        return String(markdown[start.upperBound..<end.lowerBound])
    }

    /// Runs an ES module with `node` and returns its standard output. Awaited without blocking
    /// a thread: the server answering the script runs in this same process.
    static func runNode(_ script: String, in directory: String) async throws -> String {
        let scriptPath = directory + "/vantio-helpers.mjs"
        let outputPath = directory + "/vantio-helpers.out"
        try script.write(toFile: scriptPath, atomically: true, encoding: .utf8)
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["node", scriptPath]
        process.standardOutput = output
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try ProcessLaunch.run(process) } catch { continuation.resume(throwing: error) }
        }
        try output.close()
        #expect(status == 0, "node (20 or later) must be installed and the script must succeed")
        return try String(contentsOfFile: outputPath, encoding: .utf8)
    }
}
