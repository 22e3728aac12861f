import AffiliateConfig
import AffiliateCore
import Foundation
import Testing

@Suite struct ValidConfigTests {
    static let fullFile = """
        server: { listen: "[::1]:0", max_body_bytes: 2048 }
        admin: { listen: 127.0.0.1:3001, token_sha256: \(ConfigTesting.hashC.uppercased()) }
        storage: { url: "postgres://affhost:secret@db.internal:5432/affhost?sslmode=require" }
        tenants:
          acme:
            name: Acme Affiliates
            dialect: firstpromoter-v1
            currency: EUR
            api_keys:
              - { id: acme-main, sha256: \(ConfigTesting.hashA.uppercased()), expires_at: 2027-01-01T00:00:00Z }
            statuses:
              payouts: [pending, processing, completed]
            transitions:
              payouts: { pending: [processing, completed], processing: [completed, pending] }
            campaigns:
              - { id: 15161, name: Test new campaign, landing_url: "http://example.com/", color: "#00bcd4",
                  description: null, private: true }
              - id: 15162
                name: Second
                landing_url: https://example.com/2
                description: For students
                default_webhook_url: https://hooks.example.com/
                auto_approve_rewards: false
                auto_approve_promoters: false
            rate_limit: 600/min
            payout_due_days: 29
          campus:
            name: Campus Ambassadors
            dialect: vantio-v1
            api_keys: [ { id: campus-main, sha256: \(ConfigTesting.hashB) } ]
            statuses:
              earnings: { pending: open, processing: in_progress, paid: settled, failed: failed, on_hold: open }
            metadata_update: replace
            idempotency_window: 24h
            webhook_secret_name: 2024
        """

    @Test func everyFieldIsReadIntoTheHostConfig() throws {
        let config = try ConfigTesting.loader.load(yaml: Self.fullFile, path: "config/affhost.yaml")
        #expect(config.sourcePath == "config/affhost.yaml")
        #expect(config.digest == KeyDigest.sha256Hex(Self.fullFile))
        #expect(config.server == ServerSettings(listen: .tcp(host: "::1", port: 0), maxBodyBytes: 2048))
        #expect(config.admin == AdminSettings(listen: .tcp(host: "127.0.0.1", port: 3001), tokenSHA256: ConfigTesting.hashC))
        #expect(config.storage.url == "postgres://affhost:secret@db.internal:5432/affhost?sslmode=require")
        #expect(config.tenants.map(\.id) == ["acme", "campus"])

        let acme = try #require(config.tenantsByID["acme"])
        #expect(acme.name == "Acme Affiliates")
        #expect(acme.dialect == "firstpromoter-v1")
        #expect(acme.currency == "EUR")
        #expect(acme.apiKeys == [APIKey(id: "acme-main", sha256: ConfigTesting.hashA,
                                        expiresAt: Timestamp(iso8601: "2027-01-01T00:00:00Z"))])
        #expect(acme.statusPolicies == [
            "payouts": StatusPolicy(
                vocabulary: Vocabulary([("pending", .open), ("processing", .inProgress), ("completed", .settled)]),
                transitions: Transitions(["pending": ["processing", "completed"], "processing": ["completed", "pending"]])),
            "rewards": StatusPolicy(vocabulary: Vocabulary([("approved", .inProgress), ("pending", .open), ("denied", .void)])),
        ])
        #expect(acme.settings == ["payout_due_days": .integer(29)])
        #expect(acme.campaigns == [
            Campaign(id: 15161, name: "Test new campaign", landingURL: "http://example.com/", description: nil,
                     isPrivate: true, color: "#00bcd4"),
            Campaign(id: 15162, name: "Second", landingURL: "https://example.com/2", description: "For students",
                     defaultWebhookURL: "https://hooks.example.com/", autoApproveRewards: false, autoApprovePromoters: false),
        ])
        #expect(acme.rateLimit == RateLimit(requests: 600, windowSeconds: 60))
        #expect(acme.seed.isEmpty)

        let campus = try #require(config.tenantsByID["campus"])
        #expect(campus.currency == "USD")
        let earnings = try #require(campus.statusPolicies["earnings"]?.vocabulary)
        #expect(earnings.words == ["pending", "processing", "paid", "failed", "on_hold"])
        #expect(earnings.phase(of: "on_hold") == .open)
        #expect(campus.statusPolicies["referrals"]?.vocabulary.words == ["pending", "converted", "verified", "rejected"])
        #expect(campus.settings == [
            "metadata_update": .word("replace"), "idempotency_window": .seconds(86_400),
            "webhook_secret_name": .text("2024"),
        ])
        #expect(config.keys.count == 2)
        #expect(config.keys.owner(ofKey: "fp_test_key_acme", at: Timestamp(iso8601: "2026-01-01")!)?.tenantID == "acme")
        #expect(config.keys.owner(ofKey: "fp_test_key_acme", at: Timestamp(iso8601: "2027-01-02")!) == nil)
    }

    @Test func omittedSectionsAndKeysTakeTheirDefaults() throws {
        let config = try ConfigTesting.loader.load(yaml: ConfigTesting.acme(), path: ConfigTesting.file)
        #expect(config.server == ServerSettings())
        #expect(config.admin == AdminSettings())
        #expect(config.storage == StorageSettings())
        let acme = try #require(config.tenants.first)
        #expect(acme.currency == "USD")
        #expect(acme.settings.isEmpty)
        #expect(acme.campaigns.isEmpty)
        #expect(acme.rateLimit == nil)
        #expect(acme.statusPolicies == [
            "payouts": StatusPolicy(vocabulary: Vocabulary([("pending", .open), ("processing", .inProgress), ("completed", .settled)])),
            "rewards": StatusPolicy(vocabulary: Vocabulary([("approved", .inProgress), ("pending", .open), ("denied", .void)])),
        ])
    }

    @Test func emptyOptionalSectionsMeanDefaults() throws {
        let yaml = "server:\nadmin:\nstorage:\n" + ConfigTesting.acme("    statuses:\n    payout_due_days:\n")
        let config = try ConfigTesting.loader.load(yaml: yaml, path: ConfigTesting.file)
        #expect(config.server == ServerSettings())
        #expect(config.tenants.first?.settings == [:])
    }

    @Test func transitionsAlsoApplyToTheDefaultVocabulary() throws {
        let yaml = ConfigTesting.acme("    transitions:\n      payouts: { pending: [processing], processing: [completed], completed: [] }\n")
        let config = try ConfigTesting.loader.load(yaml: yaml, path: ConfigTesting.file)
        let payouts = try #require(config.tenants.first?.statusPolicies["payouts"])
        #expect(payouts.vocabulary.words == ["pending", "processing", "completed"])
        #expect(payouts.transitions == Transitions(["pending": ["processing"], "processing": ["completed"], "completed": []]))
    }

    @Test func loadingFromAPathDigestsTheFileBytes() throws {
        let directory = try ConfigTesting.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("affhost.yaml")
        try Data(ConfigTesting.acme().utf8).write(to: file)
        let config = try ConfigTesting.loader.load(path: file.path)
        #expect(config.sourcePath == file.path)
        #expect(config.digest == KeyDigest.sha256Hex(ConfigTesting.acme()))
        #expect(config.tenants.map(\.id) == ["acme"])
    }

    @Test func unquotedWordsThatOtherYAMLVersionsTreatAsBooleansStayWords() throws {
        // YAML 1.1 reads NO as false; the config follows YAML 1.2, where it is a word.
        let yaml = """
            tenants:
              acme:
                name: yes
                dialect: firstpromoter-v1
                currency: NOK
                api_keys: [ { id: on, sha256: \(ConfigTesting.hashA) } ]
            """
        let tenant = try #require(try ConfigTesting.loader.load(yaml: yaml, path: ConfigTesting.file).tenants.first)
        #expect(tenant.name == "yes")
        #expect(tenant.apiKeys.first?.id == "on")
    }
}
