import AffiliateCore
import Foundation
import Testing

/// The `affhost` executable as operators use it: check, keys, serve, reload and SIGHUP.
@Suite struct CommandLineTests {
    static func tenantFile(key: String, listen: String, extra: String = "") -> String {
        """
        server: { listen: "\(listen)" }
        admin: { listen: "unix:data/admin.sock" }
        storage: { url: "sqlite:data/affhost.sqlite" }
        tenants:
          acme:
            name: Acme
            dialect: firstpromoter-v1
            api_keys: [ { id: acme-main, sha256: \(KeyDigest.sha256Hex(key)) } ]
            campaigns: [ { id: 15161, name: Test new campaign, landing_url: "http://example.com/" } ]
        \(extra)
        """
    }

    @Test func checkAcceptsTheDemoConfiguration() throws {
        let result = try AffhostProcess.run(["check", "config/affhost.yaml"], in: TestHost.repositoryRoot)
        #expect(result.status == 0)
        #expect(result.standardOutput == "config/affhost.yaml: ok (2 tenants, 2 keys; dialects: firstpromoter-v1, vantio-v1)\n")
    }

    @Test func checkReportsEveryProblemWithItsPositionAndExits1() throws {
        let directory = try TestHost.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let yaml = """
            tenants:
              acme:
                name: Acme
                dialect: firstpromoter-v9
                api_keys: [ { id: k1, key: fp_plaintext_secret } ]
            """
        try yaml.write(toFile: directory + "/bad.yaml", atomically: true, encoding: .utf8)
        let result = try AffhostProcess.run(["check", "bad.yaml"], in: directory)
        #expect(result.status == 1)
        let lines = result.standardError.split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        #expect(lines.first?.hasPrefix("bad.yaml:4:14 tenants.acme.dialect: unknown dialect \"firstpromoter-v9\"") == true)
        #expect(lines.dropFirst().first?.hasPrefix("bad.yaml:5:") == true)
        #expect(lines.last == "bad.yaml: 2 problems")
        #expect(!result.standardError.contains("fp_plaintext_secret"))
    }

    @Test func keysGenerateMakesAKeyWhoseHashLineMatchesKeysHash() throws {
        let generated = try AffhostProcess.run(["keys", "generate", "--prefix", "fp_", "--id", "acme-ci"], in: TestHost.repositoryRoot)
        #expect(generated.status == 0)
        let lines = generated.standardOutput.split(separator: "\n").map(String.init)
        let key = try #require(lines.first?.replacingOccurrences(of: "key:    ", with: ""))
        #expect(key.hasPrefix("fp_") && key.count == 43)
        #expect(lines.contains("  - id: acme-ci"))
        #expect(lines.contains("    sha256: \(KeyDigest.sha256Hex(key))"))

        let hashed = try AffhostProcess.run(["keys", "hash"], in: TestHost.repositoryRoot, input: key + "\n")
        #expect(hashed.status == 0)
        #expect(hashed.standardOutput == "sha256: \(KeyDigest.sha256Hex(key))\n")
    }

    @Test func reloadAndSighupApplyAnEditedFileToARunningServer() async throws {
        let directory = try TestHost.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let port = try AffhostProcess.freePort()
        let listen = "127.0.0.1:\(port)"
        let config = directory + "/affhost.yaml"
        try Self.tenantFile(key: "fp_first", listen: listen).write(toFile: config, atomically: true, encoding: .utf8)
        let server = try AffhostProcess.Server(config: "affhost.yaml", in: directory, port: port)
        defer { server.stop() }
        try await server.waitUntilServing()
        let list = "/api/v1/payouts/list"
        #expect(try await TestHost.send(port: port, .get, list, headers: ["X-API-KEY": "fp_first"]).status == 200)

        // affhost reload: what changed, exit 0.
        try Self.tenantFile(key: "fp_second", listen: listen).write(toFile: config, atomically: true, encoding: .utf8)
        let applied = try AffhostProcess.run(["reload", "--config", "affhost.yaml"], in: directory)
        #expect(applied.status == 0)
        #expect(applied.standardOutput.hasPrefix("configuration applied in "))
        #expect(applied.standardOutput.contains("  keys added: acme/acme-main\n"))
        #expect(applied.standardOutput.contains("  keys revoked: acme/acme-main\n"))
        #expect(try await TestHost.send(port: port, .get, list, headers: ["X-API-KEY": "fp_second"]).status == 200)
        #expect(try await TestHost.send(port: port, .get, list, headers: ["X-API-KEY": "fp_first"]).status == 401)

        // Unchanged: exit 0, nothing to do.
        let unchanged = try AffhostProcess.run(["reload", "--config", "affhost.yaml"], in: directory)
        #expect(unchanged.status == 0)
        #expect(unchanged.standardOutput == "configuration unchanged; nothing to do\n")

        // A broken file: every error, exit 1, old configuration still serving.
        try Self.tenantFile(key: "fp_third", listen: listen, extra: "    dialect_typo: x").write(toFile: config, atomically: true, encoding: .utf8)
        let refused = try AffhostProcess.run(["reload", "--config", "affhost.yaml"], in: directory)
        #expect(refused.status == 1)
        #expect(refused.standardError.contains("configuration refused; the previous configuration keeps serving"))
        #expect(refused.standardError.contains("affhost.yaml:10:5 tenants.acme.dialect_typo: unknown key \"dialect_typo\""))
        #expect(try await TestHost.send(port: port, .get, list, headers: ["X-API-KEY": "fp_second"]).status == 200)

        // SIGHUP does the same as affhost reload.
        try Self.tenantFile(key: "fp_third", listen: listen).write(toFile: config, atomically: true, encoding: .utf8)
        server.signal(SIGHUP)
        let deadline = ContinuousClock.now + .seconds(10)
        var status = 0
        while ContinuousClock.now < deadline {
            status = try await TestHost.send(port: port, .get, list, headers: ["X-API-KEY": "fp_third"]).status
            if status == 200 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(status == 200)
        #expect(server.log.contains("SIGHUP"))

        let tenants = try AffhostProcess.run(["tenants", "--config", "affhost.yaml"], in: directory)
        #expect(tenants.standardOutput == "acme  firstpromoter-v1  \"Acme\"  keys: acme-main\n")
    }

    @Test func reloadWithoutARunningServerSaysSoAndExits1() throws {
        let directory = try TestHost.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try AffhostProcess.run(["reload", "--admin", "unix:\(directory)/none.sock"], in: directory)
        #expect(result.status == 1)
        #expect(result.standardError.hasPrefix("cannot reach the admin API at unix:\(directory)/none.sock"))
    }

    @Test func reloadWithSeveralAdminAddressesReloadsEachInstance() async throws {
        func file(key: String) -> String {
            "tenants:\n  acme:\n    name: Acme\n    dialect: firstpromoter-v1\n"
                + "    api_keys: [ { id: acme-main, sha256: \(KeyDigest.sha256Hex(key)) } ]\n"
                + "    campaigns: [ { id: 15161, name: C, landing_url: \"http://example.com/\" } ]\n"
        }
        try await TestHost.run(yaml: file(key: "fp_one")) { a in
            try await TestHost.run(yaml: file(key: "fp_one")) { b in
                try a.rewriteConfig(file(key: "fp_two"))
                let result = try AffhostProcess.run(
                    ["reload", "--admin", "unix:\(a.directory)/admin.sock", "--admin", "unix:\(b.directory)/admin.sock"],
                    in: a.directory
                )
                // The first instance applies its edited file; the second's file is unchanged.
                #expect(result.status == 0)
                let lines = result.standardOutput.split(separator: "\n").map(String.init)
                #expect(lines.first?.hasPrefix("unix:\(a.directory)/admin.sock: configuration applied in ") == true)
                #expect(lines.last == "unix:\(b.directory)/admin.sock: configuration unchanged; nothing to do")
                #expect(try await a.send(.get, "/api/v1/payouts/list", headers: ["X-API-KEY": "fp_two"]).status == 200)
                #expect(try await b.send(.get, "/api/v1/payouts/list", headers: ["X-API-KEY": "fp_one"]).status == 200)
            }
        }
    }
}
