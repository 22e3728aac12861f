import AffiliateConfig
import AffiliateCore
import Foundation
import Testing

/// Every way `webhooks:` and `webhook_delivery:` can be wrong (webhooks.md §2, §8 item 8),
/// each reported at its position and path, and never with a secret's value.
@Suite struct WebhookProblemTests {
    static let secretMessageTail =
        ": expected whsec_ followed by the base64 of 24 to 64 random bytes ('affhost webhooks secret' makes one)"

    @Test func tenDifferentWebhookProblemsAreTenLines() {
        let yaml = ConfigTesting.acme("""
                webhooks:
                  - id: crm
                    url: https://user:pw@crm.acme.example/hooks
                    events: [reward_created, payout_status_change]
                    secrets:
                      - \(WebhookTesting.current)
                      - env: AFFHOST_TEST_UNSET_VARIABLE
                    timeout: 90s
                  - id: crm
                    url: https://crm.acme.example/other
                    dialect: firstpromoter-v1
                    events: ["*"]
                    secrets:
                      - file: /nonexistent/affhost/secret.whsec
                      - env: AFFHOST_TEST_BAD_SECRET
            webhook_delivery:
              retry_schedule: [5s, 50ms]

            """)
        let problems = WebhookTesting.problems(yaml)
        #expect(problems == [
            ConfigTesting.problem(9, 14, "tenants.acme.webhooks[0].url",
                                  "the url must not hold user info (user:password@): receivers authenticate affhost by its signatures"),
            ConfigTesting.problem(10, 34, "tenants.acme.webhooks[0].events[1]",
                                  "unknown event \"payout_status_change\" (did you mean \"payout_status_changed\"? events of firstpromoter-v1: reward_created, promoter_signed_up, reward_status_changed, payout_created, payout_status_changed)"),
            ConfigTesting.problem(12, 13, "tenants.acme.webhooks[0].secrets[0]",
                                  "inline secrets are refused; use {env: NAME} or {file: PATH}"),
            ConfigTesting.problem(13, 13, "tenants.acme.webhooks[0].secrets[1]",
                                  "environment variable AFFHOST_TEST_UNSET_VARIABLE is not set"),
            ConfigTesting.problem(14, 18, "tenants.acme.webhooks[0].timeout", "must be from 1s to 60s"),
            ConfigTesting.problem(15, 13, "tenants.acme.webhooks[1].id", "duplicate webhook id \"crm\" (first at line 8)"),
            ConfigTesting.problem(17, 9, "tenants.acme.webhooks[1].dialect",
                                  "an endpoint's dialect is only for tenants served in several dialects, and this tenant has one (firstpromoter-v1): remove it"),
            ConfigTesting.problem(20, 13, "tenants.acme.webhooks[1].secrets[0]",
                                  "cannot read secret file \"/nonexistent/affhost/secret.whsec\": file not found"),
            ConfigTesting.problem(21, 13, "tenants.acme.webhooks[1].secrets[1]",
                                  "the secret in environment variable AFFHOST_TEST_BAD_SECRET decodes to 5 bytes" + Self.secretMessageTail),
            ConfigTesting.problem(23, 24, "webhook_delivery.retry_schedule[1]", "must be at least 100ms"),
        ])
        let output = ConfigErrors(problems: problems).description
        #expect(output.split(separator: "\n").count == 10)
        #expect(!output.contains(WebhookTesting.current.dropFirst(6)))
        #expect(!output.contains(WebhookTesting.tooShort.dropFirst(6)))
        #expect(!output.contains("user:pw"))
    }

    // MARK: Secrets

    @Test func inlineSecretsAreRefusedWithoutRepeatingThem() {
        let inline = WebhookTesting.current
        let cases: [(String, [ConfigProblem])] = [
            ("        secrets: [\(inline)]\n",
             [ConfigTesting.problem(11, 19, "tenants.acme.webhooks[0].secrets[0]", ConfigReaderMessages.inline)]),
            ("        secrets: \(inline)\n",
             [ConfigTesting.problem(11, 18, "tenants.acme.webhooks[0].secrets", ConfigReaderMessages.inline)]),
            ("        secrets: [ { value: \(inline) } ]\n",
             [ConfigTesting.problem(11, 22, "tenants.acme.webhooks[0].secrets[0].value", ConfigReaderMessages.inline)]),
            ("        secrets:\n          - value: \"\(inline)\"\n",
             [ConfigTesting.problem(12, 13, "tenants.acme.webhooks[0].secrets[0].value", ConfigReaderMessages.inline)]),
        ]
        for (lines, expected) in cases {
            let yaml = WebhookTesting.acmeEndpoint("""
                        url: https://crm.acme.example/hooks
                        events: ["*"]

                """ + lines)
            let problems = WebhookTesting.problems(yaml)
            #expect(problems == expected, "\(lines)")
            #expect(!ConfigErrors(problems: problems).description.contains(inline.dropFirst(6)))
        }
    }

    @Test func unsetEmptyOrMalformedVariablesNameTheVariableNotTheValue() {
        func problems(_ variable: String) -> [ConfigProblem] {
            WebhookTesting.problems(WebhookTesting.acmeEndpoint("""
                        url: https://crm.acme.example/hooks
                        events: ["*"]
                        secrets: [ { env: \(variable) } ]

                """))
        }
        let path = "tenants.acme.webhooks[0].secrets[0]"
        #expect(problems("AFFHOST_NOT_SET_ANYWHERE") == [
            ConfigTesting.problem(11, 20, path, "environment variable AFFHOST_NOT_SET_ANYWHERE is not set"),
        ])
        #expect(problems("AFFHOST_TEST_EMPTY") == [
            ConfigTesting.problem(11, 20, path, "the secret in environment variable AFFHOST_TEST_EMPTY is empty" + Self.secretMessageTail),
        ])
        #expect(problems("AFFHOST_TEST_NOT_WHSEC") == [
            ConfigTesting.problem(11, 20, path,
                                  "the secret in environment variable AFFHOST_TEST_NOT_WHSEC does not start with whsec_" + Self.secretMessageTail),
        ])
        #expect(problems("AFFHOST_TEST_BAD_SECRET") == [
            ConfigTesting.problem(11, 20, path,
                                  "the secret in environment variable AFFHOST_TEST_BAD_SECRET decodes to 5 bytes" + Self.secretMessageTail),
        ])
        #expect(problems("\"1NVALID-NAME\"") == [
            ConfigTesting.problem(11, 27, path + ".env",
                                  "invalid environment variable name \"1NVALID-NAME\": use letters, digits and \"_\", not starting with a digit"),
        ])
    }

    @Test func secretFilesThatCannotBeReadOrHoldABadValueNameThePath() throws {
        let directory = try ConfigTesting.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let bad = directory.appendingPathComponent("bad.whsec")
        try Data("whsec_not base64 at all\n".utf8).write(to: bad)
        let twoNewlines = directory.appendingPathComponent("two-newlines.whsec")
        try Data((WebhookTesting.current + "\n\n").utf8).write(to: twoNewlines)
        func problems(_ path: String) -> [ConfigProblem] {
            WebhookTesting.problems(WebhookTesting.acmeEndpoint("""
                        url: https://crm.acme.example/hooks
                        events: ["*"]
                        secrets:
                          - file: \(path)

                """))
        }
        let at = "tenants.acme.webhooks[0].secrets[0]"
        #expect(problems("secrets/nowhere.whsec") == [
            ConfigTesting.problem(12, 13, at, "cannot read secret file \"secrets/nowhere.whsec\": file not found"),
        ])
        #expect(problems(directory.path) == [
            ConfigTesting.problem(12, 13, at, "cannot read secret file \"\(directory.path)\": is a directory, not a file"),
        ])
        #expect(problems(bad.path) == [
            ConfigTesting.problem(12, 13, at, "the secret in file \"\(bad.path)\" is not base64 after whsec_" + Self.secretMessageTail),
        ])
        // Only one trailing newline is dropped.
        #expect(problems(twoNewlines.path) == [
            ConfigTesting.problem(12, 13, at, "the secret in file \"\(twoNewlines.path)\" is not base64 after whsec_" + Self.secretMessageTail),
        ])
        let output = ConfigErrors(problems: problems(bad.path) + problems(twoNewlines.path)).description
        #expect(!output.contains("not base64 at all") && !output.contains(WebhookTesting.current.dropFirst(6)))
    }

    @Test func secretsAreOneOrTwoReferencesOfExactlyOneKind() {
        func problems(_ secrets: String) -> [ConfigProblem] {
            WebhookTesting.problems(WebhookTesting.acmeEndpoint("""
                        url: https://crm.acme.example/hooks
                        events: ["*"]
                        secrets: \(secrets)

                """))
        }
        let path = "tenants.acme.webhooks[0].secrets"
        #expect(problems("[]") == [
            ConfigTesting.problem(11, 18, path, "must list 1 or 2 secrets (the current one first, then the previous one while rotating), found 0"),
        ])
        let three = "[ { env: AFFHOST_WHSEC_ACME_CRM }, { env: AFFHOST_WHSEC_ACME_CRM }, { env: AFFHOST_WHSEC_ACME_CRM } ]"
        #expect(problems(three) == [
            ConfigTesting.problem(11, 18, path, "must list 1 or 2 secrets (the current one first, then the previous one while rotating), found 3"),
        ])
        #expect(problems("[ { env: AFFHOST_WHSEC_ACME_CRM, file: x.whsec } ]") == [
            ConfigTesting.problem(11, 20, path + "[0]", "expected {env: NAME} or {file: PATH}, not both"),
        ])
        #expect(problems("[ {} ]") == [
            ConfigTesting.problem(11, 20, path + "[0]", "expected {env: NAME} or {file: PATH}, found an empty mapping"),
        ])
        #expect(problems("[ { enb: AFFHOST_WHSEC_ACME_CRM } ]") == [
            ConfigTesting.problem(11, 22, path + "[0].enb", "unknown key \"enb\" (did you mean \"env\"?)"),
        ])
        #expect(problems("[ [AFFHOST_WHSEC_ACME_CRM] ]") == [
            ConfigTesting.problem(11, 20, path + "[0]", "expected {env: NAME} or {file: PATH}, found a list"),
        ])
        #expect(problems("{ env: AFFHOST_WHSEC_ACME_CRM }") == [
            ConfigTesting.problem(11, 18, path, "expected a list of {env: NAME} or {file: PATH}, found a mapping"),
        ])
    }

    // MARK: Endpoints

    @Test func unknownEventsSuggestTheClosestNameOfTheTenantsDialect() {
        func problems(_ events: String, tenant: (String) -> String = ConfigTesting.acme) -> [ConfigProblem] {
            WebhookTesting.problems(tenant("""
                    webhooks:
                      - id: crm
                        url: https://crm.acme.example/hooks
                        events: \(events)
                        secrets: [ { env: AFFHOST_WHSEC_ACME_CRM } ]

                """))
        }
        let fp = "events of firstpromoter-v1: reward_created, promoter_signed_up, reward_status_changed, payout_created, payout_status_changed"
        #expect(problems("[reward_create]") == [
            ConfigTesting.problem(10, 18, "tenants.acme.webhooks[0].events[0]", "unknown event \"reward_create\" (did you mean \"reward_created\"? \(fp))"),
        ])
        #expect(problems("[payout.completed]") == [
            ConfigTesting.problem(10, 18, "tenants.acme.webhooks[0].events[0]", "unknown event \"payout.completed\" (\(fp))"),
        ])
        // A Vantio tenant is checked against Vantio's names (its extra lines start at line 6).
        #expect(problems("[earning.status_change]", tenant: TenantProblemTests.campus) == [
            ConfigTesting.problem(9, 18, "tenants.campus.webhooks[0].events[0]",
                                  "unknown event \"earning.status_change\" (did you mean \"earning.status_changed\"? events of vantio-v1: referral.created, referral.status_changed, earning.created, earning.status_changed)"),
        ])
        #expect(problems("[]") == [
            ConfigTesting.problem(10, 17, "tenants.acme.webhooks[0].events", "must list at least one event, or \"*\" for all"),
        ])
        #expect(problems("[\"*\", reward_created]") == [
            ConfigTesting.problem(10, 18, "tenants.acme.webhooks[0].events[0]", "\"*\" already means every event: list it alone"),
        ])
        #expect(problems("[reward_created, reward_created]") == [
            ConfigTesting.problem(10, 34, "tenants.acme.webhooks[0].events[1]", "duplicate event \"reward_created\""),
        ])
        #expect(problems("\"*\"") == [
            ConfigTesting.problem(10, 17, "tenants.acme.webhooks[0].events", "expected a list of event names (or [\"*\"] for all), found a string"),
        ])
    }

    @Test func urlsAreAbsoluteHTTPWithoutUserInfoOrFragment() {
        func problems(_ url: String) -> [ConfigProblem] {
            WebhookTesting.problems(WebhookTesting.acmeEndpoint("""
                        url: \(url)
                        events: ["*"]
                        secrets: [ { env: AFFHOST_WHSEC_ACME_CRM } ]

                """))
        }
        let path = "tenants.acme.webhooks[0].url"
        #expect(problems("crm.acme.example/hooks") == [
            ConfigTesting.problem(9, 14, path, "expected an absolute http or https URL (https://crm.example.com/hooks)"),
        ])
        #expect(problems("ftp://crm.acme.example/hooks") == [
            ConfigTesting.problem(9, 14, path, "unsupported url scheme \"ftp\": expected http or https (https://crm.example.com/hooks)"),
        ])
        #expect(problems("https://crm.acme.example/hooks#part") == [
            ConfigTesting.problem(9, 14, path, "the url must not have a fragment (#...): it is never sent"),
        ])
        #expect(problems("\"https://token@crm.acme.example/\"") == [
            ConfigTesting.problem(9, 14, path, "the url must not hold user info (user:password@): receivers authenticate affhost by its signatures"),
        ])
        #expect(problems("\"\"") == [ConfigTesting.problem(9, 14, path, "must not be empty")])
        #expect(problems("HTTPS://CRM.ACME.EXAMPLE/hooks") == [])
        #expect(problems("http://127.0.0.1:9000/hooks?tenant=acme") == [])
    }

    @Test func idsAreShortLowerCaseNamesUniqueInTheTenant() {
        func problems(_ id: String) -> [ConfigProblem] {
            WebhookTesting.problems(ConfigTesting.acme("    webhooks:\n      - id: \(id)\n" + WebhookTesting.usualLines))
        }
        let path = "tenants.acme.webhooks[0].id"
        #expect(problems("CRM") == [
            ConfigTesting.problem(8, 13, path, "invalid webhook id \"CRM\": use 1 to 64 lower-case letters, digits, \"-\" and \"_\""),
        ])
        #expect(problems(String(repeating: "a", count: 65)) == [
            ConfigTesting.problem(8, 13, path, "invalid webhook id \"\(String(repeating: "a", count: 65))\": use 1 to 64 lower-case letters, digits, \"-\" and \"_\""),
        ])
        #expect(problems(String(repeating: "a", count: 64)) == [])
        let twice = ConfigTesting.acme("    webhooks:\n      - id: crm\n" + WebhookTesting.usualLines + "      - id: crm\n"
                                       + WebhookTesting.usualLines)
        #expect(WebhookTesting.problems(twice) == [
            ConfigTesting.problem(12, 13, "tenants.acme.webhooks[1].id", "duplicate webhook id \"crm\" (first at line 8)"),
        ])
    }

    @Test func aTenantHasAtMostSixteenEndpoints() {
        func yaml(_ count: Int) -> String {
            ConfigTesting.acme("    webhooks:\n" + (1...count).map { index in
                "      - { id: e\(index), url: \"https://crm.acme.example/\(index)\", events: [\"*\"], secrets: [ { env: AFFHOST_WHSEC_ACME_CRM } ] }\n"
            }.joined())
        }
        #expect(WebhookTesting.problems(yaml(16)) == [])
        #expect(WebhookTesting.problems(yaml(17)) == [
            ConfigTesting.problem(8, 7, "tenants.acme.webhooks", "at most 16 webhook endpoints per tenant, found 17"),
        ])
    }

    @Test func timeoutsAreFromOneToSixtySeconds() {
        func problems(_ timeout: String) -> [ConfigProblem] {
            WebhookTesting.problems(WebhookTesting.acmeEndpoint(WebhookTesting.usualLines + "        timeout: \(timeout)\n"))
        }
        let path = "tenants.acme.webhooks[0].timeout"
        #expect(problems("999ms") == [ConfigTesting.problem(12, 18, path, "must be from 1s to 60s")])
        #expect(problems("61s") == [ConfigTesting.problem(12, 18, path, "must be from 1s to 60s")])
        #expect(problems("1m") == [])
        #expect(problems("1000ms") == [])
        #expect(problems("soon") == [
            ConfigTesting.problem(12, 18, path,
                                  "invalid duration \"soon\": expected a whole number followed by ms, s, m, h or d (100ms, 5s, 5m, 2h, 30d)"),
        ])
        #expect(problems("true") == [
            ConfigTesting.problem(12, 18, path, "expected a duration (100ms, 5s, 5m, 2h, 30d), found a boolean"),
        ])
    }

    @Test func requiredKeysMissingAndUnknownKeysAreReported() {
        let yaml = ConfigTesting.acme("""
                webhooks:
                  - { id: crm, enabled: yes, evnts: [reward_created] }

            """)
        #expect(WebhookTesting.problems(yaml) == [
            ConfigTesting.problem(8, 9, "tenants.acme.webhooks[0]", "missing required key \"url\""),
            ConfigTesting.problem(8, 9, "tenants.acme.webhooks[0]", "missing required key \"events\""),
            ConfigTesting.problem(8, 9, "tenants.acme.webhooks[0]", "missing required key \"secrets\""),
            ConfigTesting.problem(8, 29, "tenants.acme.webhooks[0].enabled", "expected true or false, found a string"),
            ConfigTesting.problem(8, 34, "tenants.acme.webhooks[0].evnts", "unknown key \"evnts\" (did you mean \"events\"?)"),
        ])
        #expect(WebhookTesting.problems(ConfigTesting.acme("    webhooks: { crm: https://crm.acme.example/ }\n")) == [
            ConfigTesting.problem(7, 15, "tenants.acme.webhooks", "expected a list of webhook endpoints, found a mapping"),
        ])
        #expect(WebhookTesting.problems(ConfigTesting.acme("    webhoks: []\n")) == [
            ConfigTesting.problem(7, 5, "tenants.acme.webhoks", "unknown key \"webhoks\" (did you mean \"webhooks\"?)"),
        ])
    }

    // MARK: webhook_delivery

    @Test func deliverySettingsAreCheckedEntryByEntry() {
        func problems(_ lines: String) -> [ConfigProblem] {
            WebhookTesting.problems("webhook_delivery:\n" + lines + ConfigTesting.acme())
        }
        let tooShort = "must be at least 100ms"
        #expect(problems("  retry_schedule: [5s, 99ms, 1x, 2h]\n") == [
            ConfigTesting.problem(2, 24, "webhook_delivery.retry_schedule[1]", tooShort),
            ConfigTesting.problem(2, 30, "webhook_delivery.retry_schedule[2]",
                                  "invalid duration \"1x\": expected a whole number followed by ms, s, m, h or d (100ms, 5s, 5m, 2h, 30d)"),
        ])
        #expect(problems("  retry_schedule: []\n") == [
            ConfigTesting.problem(2, 19, "webhook_delivery.retry_schedule", "must list from 1 to 20 delays, found 0"),
        ])
        let twentyOne = "[" + Array(repeating: "1s", count: 21).joined(separator: ", ") + "]"
        #expect(problems("  retry_schedule: \(twentyOne)\n") == [
            ConfigTesting.problem(2, 19, "webhook_delivery.retry_schedule", "must list from 1 to 20 delays, found 21"),
        ])
        #expect(problems("  retry_schedule: [" + Array(repeating: "100ms", count: 20).joined(separator: ", ") + "]\n") == [])
        #expect(problems("  max_in_flight: 0\n  max_in_flight_per_endpoint: 2.5\n") == [
            ConfigTesting.problem(2, 18, "webhook_delivery.max_in_flight", "must be from 1 to 10000"),
            ConfigTesting.problem(3, 31, "webhook_delivery.max_in_flight_per_endpoint", "expected a whole number, found a fraction"),
        ])
        #expect(problems("  poll_interval: 10ms\n  retention: 30s\n") == [
            ConfigTesting.problem(2, 18, "webhook_delivery.poll_interval", "must be from 100ms to 1h"),
            ConfigTesting.problem(3, 14, "webhook_delivery.retention", "must be at least 1m"),
        ])
        #expect(problems("  retry_schedules: [5s]\n") == [
            ConfigTesting.problem(2, 3, "webhook_delivery.retry_schedules", "unknown key \"retry_schedules\" (did you mean \"retry_schedule\"?)"),
        ])
    }
}

/// Messages the tests compare against, spelt once.
enum ConfigReaderMessages {
    static let inline = "inline secrets are refused; use {env: NAME} or {file: PATH}"
}
