import AffiliateCore
import Foundation
import Testing

/// `affhost webhooks secret` and `affhost check` on webhook configuration, as operators run them.
@Suite struct WebhookCommandLineTests {
    @Test func webhooksSecretPrintsOneNewSecretALine() throws {
        let first = try AffhostProcess.run(["webhooks", "secret"], in: TestHost.repositoryRoot)
        let second = try AffhostProcess.run(["webhooks", "secret"], in: TestHost.repositoryRoot)
        #expect(first.status == 0 && second.status == 0)
        #expect(first.standardError.isEmpty)
        for output in [first.standardOutput, second.standardOutput] {
            #expect(output.hasPrefix("whsec_") && output.hasSuffix("=\n"))
            #expect(output.count == 6 + 44 + 1)
            #expect(output.dropLast().allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_+/=".contains($0)) })
            let key = Data(base64Encoded: String(output.dropFirst(6).dropLast()))
            #expect(key?.count == 32)
        }
        #expect(first.standardOutput != second.standardOutput)
    }

    static func tenant(_ webhooks: String) -> String {
        """
        tenants:
          acme:
            name: Acme
            dialect: firstpromoter-v1
            api_keys: [ { id: acme-main, sha256: \(KeyDigest.sha256Hex("fp_key")) } ]
            webhooks:
              - id: crm
                url: https://crm.acme.example/hooks
                events: [payout_status_changed, reward_created]
                secrets:
                  - env: AFFHOST_WHSEC_GOOD
                  - file: secrets/good.whsec

        """ + webhooks
    }

    /// webhooks.md §8 item 8: every secret problem at its position and path, naming the variable
    /// or file, and no secret value anywhere in what `check` prints, good secrets included.
    @Test func checkReportsSecretProblemsAndNeverPrintsASecret() throws {
        let directory = try TestHost.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory + "/secrets", withIntermediateDirectories: true)
        let made = try AffhostProcess.run(["webhooks", "secret"], in: directory)
        let good = String(made.standardOutput.dropLast())
        try made.standardOutput.write(toFile: directory + "/secrets/good.whsec", atomically: true, encoding: .utf8)
        let badFileValue = "whsec_" + Data("eightbyt".utf8).base64EncodedString()
        try badFileValue.write(toFile: directory + "/secrets/bad.whsec", atomically: true, encoding: .utf8)
        let inline = WebhookSecret.newText()
        let badVariableValue = "whsec_this-is-not-base64"
        let environment = ["AFFHOST_WHSEC_GOOD": good, "AFFHOST_WHSEC_BAD": badVariableValue]
        let secrets = [good, inline, badFileValue, badVariableValue].map { String($0.dropFirst(6)) }

        try Self.tenant("").write(toFile: directory + "/good.yaml", atomically: true, encoding: .utf8)
        let accepted = try AffhostProcess.run(["check", "good.yaml"], in: directory, environment: environment)
        #expect(accepted.status == 0)
        #expect(accepted.standardOutput == "good.yaml: ok (1 tenants, 1 keys; dialects: firstpromoter-v1)\n")

        try Self.tenant("""
                  - id: broken
                    url: https://broken.acme.example/hooks
                    events: [payout_completed]
                    secrets:
                      - {value: \(inline)}
                      - env: AFFHOST_WHSEC_BAD
                  - id: broken-too
                    url: https://broken.acme.example/hooks
                    events: ["*"]
                    secrets:
                      - file: secrets/bad.whsec
                      - env: AFFHOST_WHSEC_UNSET_FOR_THIS_TEST

            """).write(toFile: directory + "/bad.yaml", atomically: true, encoding: .utf8)
        let refused = try AffhostProcess.run(["check", "bad.yaml"], in: directory, environment: environment)
        #expect(refused.status == 1)
        let tail = ": expected whsec_ followed by the base64 of 24 to 64 random bytes ('affhost webhooks secret' makes one)"
        #expect(refused.standardError.split(separator: "\n").map(String.init) == [
            "bad.yaml:15:18 tenants.acme.webhooks[1].events[0]: unknown event \"payout_completed\" (events of firstpromoter-v1: reward_created, promoter_signed_up, reward_status_changed, payout_created, payout_status_changed)",
            "bad.yaml:17:14 tenants.acme.webhooks[1].secrets[0].value: inline secrets are refused; use {env: NAME} or {file: PATH}",
            "bad.yaml:18:13 tenants.acme.webhooks[1].secrets[1]: the secret in environment variable AFFHOST_WHSEC_BAD is not base64 after whsec_" + tail,
            "bad.yaml:23:13 tenants.acme.webhooks[2].secrets[0]: the secret in file \"secrets/bad.whsec\" decodes to 8 bytes" + tail,
            "bad.yaml:24:13 tenants.acme.webhooks[2].secrets[1]: environment variable AFFHOST_WHSEC_UNSET_FOR_THIS_TEST is not set",
            "bad.yaml: 5 problems",
        ])
        for output in [accepted.standardOutput, accepted.standardError, refused.standardOutput, refused.standardError] {
            for secret in secrets { #expect(!output.contains(secret)) }
        }
    }
}
