import AffiliateConfig
import AffiliateCore
import Testing

@Suite struct AllProblemsTests {
    @Test func tenDifferentProblemsAreAllReportedInFileOrder() {
        let yaml = """
            server: { listen: localhost }
            admin: { listen: 127.0.0.1:3001 }
            storage: { url: "mysql://db/affhost" }
            tenants:
              Acme:
                name: Acme Affiliates
                dialect: firstpromoter-v1
                api_keys:
                  - { id: acme-main, key: fp_live_secret }
                statuses:
                  payouts: [pending, processing, done]
                transitions:
                  rewards: { approved: [paid] }
                campaigns:
                  - { id: 1, name: One, landing_url: "http://x/" }
                  - { id: 1, name: Two, landing_url: "http://y/" }
                payout_due_days: 9999
                rate_limit: lots
            """
        let problems = ConfigTesting.problems(yaml)
        #expect(problems == [
            ConfigTesting.problem(1, 19, "server.listen",
                                  "invalid listen address: \"localhost\" is not HOST:PORT, [IPv6]:PORT or unix:PATH"),
            ConfigTesting.problem(2, 18, "admin.listen",
                                  "an admin API on TCP needs token_sha256, the SHA-256 of its token ('affhost keys hash' prints it)"),
            ConfigTesting.problem(3, 17, "storage.url",
                                  "unsupported storage url scheme \"mysql\" (expected sqlite:PATH or postgres://user@host[:port]/database)"),
            ConfigTesting.problem(5, 3, "tenants.Acme",
                                  "invalid tenant id \"Acme\": use only lower-case letters, digits, \"-\" and \"_\""),
            ConfigTesting.problem(9, 26, "tenants.Acme.api_keys[0].key",
                                  "plaintext keys are not accepted; store its SHA-256 instead: run 'affhost keys hash' and paste the sha256 line"),
            ConfigTesting.problem(11, 38, "tenants.Acme.statuses.payouts[2]",
                                  "unknown status word \"done\" (no phase given; known words: pending, processing, completed, failed, cancelled)"),
            ConfigTesting.problem(13, 29, "tenants.Acme.transitions.rewards.approved[0]",
                                  "unknown status word \"paid\" for rewards (words: approved, pending, denied)"),
            ConfigTesting.problem(16, 15, "tenants.Acme.campaigns[1].id", "duplicate campaign id 1 (first at line 15)"),
            ConfigTesting.problem(17, 22, "tenants.Acme.payout_due_days", "must be from 0 to 3650"),
            ConfigTesting.problem(18, 17, "tenants.Acme.rate_limit",
                                  "invalid rate limit \"lots\": expected N/s, N/min or N/h with N at least 1 (600/min)"),
        ])
        #expect(!ConfigErrors(problems: problems).description.contains("fp_live_secret"))
    }

    @Test func problemsOfEveryTenantAreReportedNotJustTheFirstTenants() {
        let yaml = """
            tenants:
              acme:
                name: Acme Affiliates
                dialect: firstpromoter-v1
                api_keys: [ { id: acme-main, sha256: \(ConfigTesting.hashA) } ]
                currency: usd
              campus:
                name: Campus Ambassadors
                dialect: vantio-v1
                api_keys: [ { id: campus-main, sha256: \(ConfigTesting.hashB) } ]
                metadata_update: sometimes
            """
        #expect(ConfigTesting.problems(yaml).map(\.path) == ["tenants.acme.currency", "tenants.campus.metadata_update"])
    }
}
