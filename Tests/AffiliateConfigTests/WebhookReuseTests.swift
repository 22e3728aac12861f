import AffiliateConfig
import AffiliateCore
import Foundation
import Testing

/// A reload reuses unchanged tenants; a tenant whose webhook secret lives in a file is never
/// reused, because rotating a secret means rewriting that file while the YAML stays the same.
@Suite struct WebhookReuseTests {
    static func load(_ yaml: String, reusing previous: ConfigSource?) throws -> LoadedConfig {
        let bytes = Array(yaml.utf8)
        let loaded = try WebhookTesting.loader.load(
            bytes: bytes, digest: KeyDigest.sha256Hex(bytes: bytes), path: ConfigTesting.file, reusing: previous)
        #expect(loaded.config.tenants == (try WebhookTesting.load(yaml)).tenants)
        return loaded
    }

    static func endpoint(secret: String) -> String {
        "    webhooks:\n      - { id: crm, url: \"https://crm.example.com/\", events: [\"*\"], secrets: [ \(secret) ] }\n"
    }

    @Test func aTenantWithASecretFileIsReadAgainAndSeesTheRotatedFile() throws {
        let directory = try ConfigTesting.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("alpha.whsec")
        try Data((WebhookTesting.current + "\n").utf8).write(to: file)
        let yaml = TenantReuseTests.file(
            TenantReuseTests.tenant("alpha", hash: ConfigTesting.hashA, extra: Self.endpoint(secret: "{ file: \(file.path) }")),
            TenantReuseTests.tenant("beta", hash: ConfigTesting.hashB, extra: Self.endpoint(secret: "{ env: AFFHOST_WHSEC_ACME_CRM }")))
        let first = try Self.load(yaml, reusing: nil)
        #expect(first.source.reusableTenantCount == 1)
        #expect(first.config.tenantsByID["alpha"]?.webhooks.first?.secrets.first?.key == Array(0...31))

        try Data(WebhookTesting.previous.utf8).write(to: file)
        let second = try Self.load(yaml, reusing: first.source)
        #expect(second.reusedTenants == ["beta"])
        #expect(second.config.tenantsByID["alpha"]?.webhooks.first?.secrets.first?.key == Array(32...63))
        #expect(second.config.tenantsByID["beta"]?.webhooks.first?.secrets.first?.key == Array(0...31))

        try Data(WebhookTesting.tooShort.utf8).write(to: file)
        let bytes = Array(yaml.utf8)
        #expect(throws: ConfigErrors.self) {
            try WebhookTesting.loader.load(
                bytes: bytes, digest: KeyDigest.sha256Hex(bytes: bytes), path: ConfigTesting.file, reusing: second.source)
        }
        #expect(WebhookTesting.problems(yaml) == [
            ConfigTesting.problem(8, 79, "tenants.alpha.webhooks[0].secrets[0]",
                                  "the secret in file \"\(file.path)\" decodes to 5 bytes" + WebhookProblemTests.secretMessageTail),
        ])
    }
}
