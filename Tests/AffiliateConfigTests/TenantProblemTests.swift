import AffiliateConfig
import AffiliateCore
import Testing

@Suite struct TenantProblemTests {
    /// A vantio-v1 tenant; `extra` lines start at line 6.
    static func campus(_ extra: String) -> String {
        """
        tenants:
          campus:
            name: Campus Ambassadors
            dialect: vantio-v1
            api_keys: [ { id: campus-main, sha256: \(ConfigTesting.hashB) } ]

        """ + extra
    }

    @Test func tenantIDsAreLowerCaseWordsDigitsDashesAndUnderscores() {
        let yaml = """
            tenants:
              Acme.Corp:
                name: Acme Affiliates
                dialect: firstpromoter-v1
                api_keys: [ { id: acme-main, sha256: \(ConfigTesting.hashA) } ]
              acme_2-b: { name: B, dialect: vantio-v1, api_keys: [ { id: b, sha256: \(ConfigTesting.hashB) } ] }
            """
        #expect(ConfigTesting.problems(yaml) == [
            ConfigTesting.problem(2, 3, "tenants.Acme.Corp",
                                  "invalid tenant id \"Acme.Corp\": use only lower-case letters, digits, \"-\" and \"_\""),
        ])
    }

    @Test func tenantsMustBeAMappingOfMappings() {
        #expect(ConfigTesting.problems("tenants: [acme, campus]\n") == [
            ConfigTesting.problem(1, 10, "tenants", "expected a mapping of tenant ids to tenants, found a list"),
        ])
        #expect(ConfigTesting.problems("tenants:\n") == [
            ConfigTesting.problem(1, 9, "tenants", "expected a mapping of tenant ids to tenants, found null"),
        ])
        #expect(ConfigTesting.problems("tenants:\n  acme: firstpromoter-v1\n") == [
            ConfigTesting.problem(2, 9, "tenants.acme", "expected a mapping, found a string"),
        ])
    }

    @Test func nameDialectAndKeysAreRequired() {
        #expect(ConfigTesting.problems("tenants:\n  acme:\n    currency: USD\n") == [
            ConfigTesting.problem(3, 5, "tenants.acme", "missing required key \"dialect\""),
            ConfigTesting.problem(3, 5, "tenants.acme", "missing required key \"name\""),
            ConfigTesting.problem(3, 5, "tenants.acme", "missing required key \"api_keys\""),
        ])
    }

    @Test func theNameIsANonEmptyString() {
        let yaml = ConfigTesting.acme().replacingOccurrences(of: "name: Acme Affiliates", with: "name: \"  \"")
        #expect(ConfigTesting.problems(yaml) == [ConfigTesting.problem(3, 11, "tenants.acme.name", "must not be empty")])
        let list = ConfigTesting.acme().replacingOccurrences(of: "name: Acme Affiliates", with: "name: [Acme]")
        #expect(ConfigTesting.problems(list) == [
            ConfigTesting.problem(3, 11, "tenants.acme.name", "expected a string, found a list"),
        ])
    }

    @Test func anUnknownDialectListsTheRegistry() {
        let close = ConfigTesting.acme().replacingOccurrences(of: "dialect: firstpromoter-v1", with: "dialect: firstpromoter-v2")
        #expect(ConfigTesting.problems(close) == [
            ConfigTesting.problem(4, 14, "tenants.acme.dialect",
                                  "unknown dialect \"firstpromoter-v2\" (did you mean \"firstpromoter-v1\"? known dialects: firstpromoter-v1, vantio-v1, echo-v1)"),
        ])
        let far = ConfigTesting.acme().replacingOccurrences(of: "dialect: firstpromoter-v1", with: "dialect: tapfiliate")
        #expect(ConfigTesting.problems(far) == [
            ConfigTesting.problem(4, 14, "tenants.acme.dialect",
                                  "unknown dialect \"tapfiliate\" (known dialects: firstpromoter-v1, vantio-v1, echo-v1)"),
        ])
    }

    @Test func withAnUnknownDialectOnlyKeysNoDialectDeclaresAreReported() {
        let yaml = ConfigTesting.acme("    idempotency_window: 24h\n    payout_due_days: 29\n    colour: red\n")
            .replacingOccurrences(of: "dialect: firstpromoter-v1", with: "dialect: tapfiliate")
        #expect(ConfigTesting.problems(yaml) == [
            ConfigTesting.problem(4, 14, "tenants.acme.dialect",
                                  "unknown dialect \"tapfiliate\" (known dialects: firstpromoter-v1, vantio-v1, echo-v1)"),
            ConfigTesting.problem(9, 5, "tenants.acme.colour", "unknown key \"colour\""),
        ])
    }

    @Test func aMisspeltTenantKeyIsUnknownWithAHint() {
        #expect(ConfigTesting.problems(ConfigTesting.acme("    curency: USD\n")) == [
            ConfigTesting.problem(7, 5, "tenants.acme.curency", "unknown key \"curency\" (did you mean \"currency\"?)"),
        ])
    }

    @Test func aSettingOfAnotherDialectNamesThatDialect() {
        #expect(ConfigTesting.problems(ConfigTesting.acme("    idempotency_window: 24h\n")) == [
            ConfigTesting.problem(7, 5, "tenants.acme.idempotency_window",
                                  "unknown key \"idempotency_window\": it is a setting of vantio-v1, not of firstpromoter-v1"),
        ])
    }

    @Test func aMisspeltSettingIsUnknownWithAHint() {
        #expect(ConfigTesting.problems(ConfigTesting.acme("    payout_due_dayz: 29\n")) == [
            ConfigTesting.problem(7, 5, "tenants.acme.payout_due_dayz",
                                  "unknown key \"payout_due_dayz\" (did you mean \"payout_due_days\"?)"),
        ])
    }

    @Test func integerSettingsAreWholeNumbersInTheirRange() {
        #expect(ConfigTesting.problems(ConfigTesting.acme("    payout_due_days: 5000\n")) == [
            ConfigTesting.problem(7, 22, "tenants.acme.payout_due_days", "must be from 0 to 3650"),
        ])
        #expect(ConfigTesting.problems(ConfigTesting.acme("    payout_due_days: soon\n")) == [
            ConfigTesting.problem(7, 22, "tenants.acme.payout_due_days", "expected a whole number, found a string"),
        ])
    }

    @Test func durationAndChoiceSettings() {
        #expect(ConfigTesting.problems(Self.campus("    idempotency_window: 24 hours\n    metadata_update: merged\n")) == [
            ConfigTesting.problem(6, 25, "tenants.campus.idempotency_window",
                                  "invalid duration \"24 hours\": expected a whole number followed by s, m, h or d (90s, 15m, 24h, 7d)"),
            ConfigTesting.problem(7, 22, "tenants.campus.metadata_update",
                                  "unknown value \"merged\" (did you mean \"merge\"? choices: merge, replace)"),
        ])
        #expect(ConfigTesting.problems(Self.campus("    metadata_update: [merge]\n")) == [
            ConfigTesting.problem(6, 22, "tenants.campus.metadata_update", "expected one of: merge, replace, found a list"),
        ])
    }

    @Test(arguments: [("90s", Int64(90)), ("15m", 900), ("24h", 86_400), ("7d", 604_800), ("0s", 0)])
    func durationsAreStoredInSeconds(text: String, seconds: Int64) throws {
        let config = try ConfigTesting.loader.load(yaml: Self.campus("    idempotency_window: \(text)\n"),
                                                   path: ConfigTesting.file)
        #expect(config.tenants.first?.settings["idempotency_window"] == .seconds(seconds))
    }

    @Test func theCurrencyIsThreeUpperCaseLetters() {
        #expect(ConfigTesting.problems(ConfigTesting.acme("    currency: usd\n")) == [
            ConfigTesting.problem(7, 15, "tenants.acme.currency",
                                  "invalid currency \"usd\": expected three upper-case letters (ISO 4217, such as USD)"),
        ])
    }

    @Test func theRateLimitIsRequestsPerSecondMinuteOrHour() {
        #expect(ConfigTesting.problems(ConfigTesting.acme("    rate_limit: 600/minute\n")) == [
            ConfigTesting.problem(7, 17, "tenants.acme.rate_limit",
                                  "invalid rate limit \"600/minute\": expected N/s, N/min or N/h with N at least 1 (600/min)"),
        ])
    }

    @Test(arguments: [("600/min", RateLimit(requests: 600, windowSeconds: 60)),
                      ("10/s", RateLimit(requests: 10, windowSeconds: 1)),
                      ("3600/h", RateLimit(requests: 3600, windowSeconds: 3600))])
    func rateLimitsParse(text: String, limit: RateLimit) {
        #expect(RateLimit(parsing: text) == limit)
        #expect(limit.description == text)
    }

    @Test(arguments: ["0/s", "/s", "10", "10/m", "-1/s", "1.5/s", "10/min ", "ten/s", "10/S"])
    func malformedRateLimitsDoNotParse(text: String) {
        #expect(RateLimit(parsing: text) == nil)
    }
}
