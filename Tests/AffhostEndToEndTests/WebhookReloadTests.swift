import AffiliateCore
import Foundation
import Testing

/// Secrets are resolved at start and at every reload; a secret file rewritten under an unchanged
/// YAML file is seen by the next reload (webhooks.md §2).
@Suite struct WebhookReloadTests {
    static let current = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
    static let previous = "whsec_ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="

    static let yaml = """
        tenants:
          acme:
            name: Acme
            dialect: firstpromoter-v1
            api_keys: [ { id: acme-main, sha256: \(KeyDigest.sha256Hex("fp_webhook_reload")) } ]
            webhooks:
              - id: crm
                url: https://crm.acme.example/hooks
                events: ["*"]
                secrets: [ { file: $DIR/acme-crm.whsec } ]
          campus:
            name: Campus
            dialect: vantio-v1
            api_keys: [ { id: campus-main, sha256: \(KeyDigest.sha256Hex("sk_webhook_reload")) } ]
        """

    @Test func aRotatedSecretFileIsReadByTheNextReload() async throws {
        try await TestHost.run(yaml: Self.yaml, files: ["acme-crm.whsec": Self.current + "\n"]) { host in
            func key() -> [UInt8]? { host.runtime.config.tenantsByID["acme"]?.webhooks.first?.secrets.first?.key }
            #expect(key() == Array(0...31))

            let unchanged = try await host.adminClient().post("/reload")
            #expect(unchanged.body["result"] == .string("unchanged"))

            let file = host.directory + "/acme-crm.whsec"
            try (Self.previous + "\n").write(toFile: file, atomically: true, encoding: .utf8)
            let applied = try await host.adminClient().post("/reload")
            #expect(applied.body["result"] == .string("applied"))
            #expect(applied.body["changes"]?["tenants_changed"] == .array([.string("acme")]))
            #expect(key() == Array(32...63))

            let badValue = "whsec_" + Data("too short".utf8).base64EncodedString()
            try badValue.write(toFile: file, atomically: true, encoding: .utf8)
            let refused = try await host.adminClient().post("/reload")
            #expect(refused.status == 422)
            let errors = refused.body["errors"]?.arrayValue?.compactMap(\.stringValue) ?? []
            #expect(errors.count == 1)
            #expect(errors.first?.contains("tenants.acme.webhooks[0].secrets[0]: the secret in file \"\(file)\" decodes to 9 bytes") == true)
            #expect(errors.allSatisfy { !$0.contains(badValue.dropFirst(6)) })
            #expect(key() == Array(32...63))
        }
    }
}
