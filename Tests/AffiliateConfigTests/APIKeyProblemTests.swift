import AffiliateConfig
import AffiliateCore
import Testing

@Suite struct APIKeyProblemTests {
    /// A firstpromoter-v1 tenant whose key list is `keys` (lines from 5 on, indented 6 spaces).
    static func tenant(keys: String) -> String {
        """
        tenants:
          acme:
            name: Acme Affiliates
            dialect: firstpromoter-v1
            api_keys:

        """ + keys
    }

    @Test func aPlaintextKeyIsRefusedWithoutEchoingIt() {
        let problems = ConfigTesting.problems(Self.tenant(keys: "      - { id: acme-main, key: fp_live_0123456789 }\n"))
        #expect(problems == [
            ConfigTesting.problem(6, 26, "tenants.acme.api_keys[0].key",
                                  "plaintext keys are not accepted; store its SHA-256 instead: run 'affhost keys hash' and paste the sha256 line"),
        ])
        #expect(!ConfigErrors(problems: problems).description.contains("fp_live_0123456789"))
    }

    @Test func aPlaintextKeyNextToItsHashIsStillRefused() {
        let keys = "      - id: acme-main\n        sha256: \(ConfigTesting.hashA)\n        key: fp_test_key_acme\n"
        #expect(ConfigTesting.problems(Self.tenant(keys: keys)) == [
            ConfigTesting.problem(8, 9, "tenants.acme.api_keys[0].key",
                                  "plaintext keys are not accepted; store its SHA-256 instead: run 'affhost keys hash' and paste the sha256 line"),
        ])
    }

    @Test func theHashMustBe64HexCharacters() {
        #expect(ConfigTesting.problems(Self.tenant(keys: "      - { id: acme-main, sha256: 2c26b46b68ffc68f }\n")) == [
            ConfigTesting.problem(6, 34, "tenants.acme.api_keys[0].sha256",
                                  "expected 64 hexadecimal characters (a SHA-256), found 16"),
        ])
        let notHex = String(repeating: "g", count: 64)
        #expect(ConfigTesting.problems(Self.tenant(keys: "      - { id: acme-main, sha256: \(notHex) }\n")) == [
            ConfigTesting.problem(6, 34, "tenants.acme.api_keys[0].sha256",
                                  "expected 64 hexadecimal characters (a SHA-256), found characters other than 0-9 and a-f"),
        ])
    }

    @Test func upperCaseHashesAreStoredLowerCase() throws {
        let yaml = Self.tenant(keys: "      - { id: acme-main, sha256: \(ConfigTesting.hashA.uppercased()) }\n")
        let config = try ConfigTesting.loader.load(yaml: yaml, path: ConfigTesting.file)
        #expect(config.tenants.first?.apiKeys == [APIKey(id: "acme-main", sha256: ConfigTesting.hashA)])
    }

    @Test func aHashOfOnlyDigitsIsStillText() throws {
        let digits = String(repeating: "1234567890", count: 6) + "1234"
        let config = try ConfigTesting.loader.load(yaml: Self.tenant(keys: "      - { id: k, sha256: \(digits) }\n"),
                                                   path: ConfigTesting.file)
        #expect(config.tenants.first?.apiKeys.first?.sha256 == digits)
    }

    @Test func keyIDsAreUniqueWithinATenant() {
        let keys = """
                  - { id: acme-main, sha256: \(ConfigTesting.hashA) }
                  - { id: acme-main, sha256: \(ConfigTesting.hashB) }

            """
        #expect(ConfigTesting.problems(Self.tenant(keys: keys)) == [
            ConfigTesting.problem(7, 15, "tenants.acme.api_keys[1].id", "duplicate key id \"acme-main\" (first at line 6)"),
        ])
    }

    @Test func theSameHashTwiceInOneTenantIsRefusedAtTheSecond() {
        let keys = """
                  - { id: acme-main, sha256: \(ConfigTesting.hashA) }
                  - { id: acme-ci, sha256: \(ConfigTesting.hashA) }

            """
        #expect(ConfigTesting.problems(Self.tenant(keys: keys)) == [
            ConfigTesting.problem(7, 32, "tenants.acme.api_keys[1].sha256",
                                  "duplicate key: this sha256 is already used by key \"acme-main\" of tenant \"acme\" (line 6)"),
        ])
    }

    @Test func theSameHashInTwoTenantsIsRefusedAtTheSecondNamingTheFirstTenant() {
        let yaml = """
            tenants:
              acme:
                name: Acme Affiliates
                dialect: firstpromoter-v1
                api_keys: [ { id: acme-main, sha256: \(ConfigTesting.hashA) } ]
              campus:
                name: Campus Ambassadors
                dialect: vantio-v1
                api_keys:
                  - id: campus-main
                    sha256: \(ConfigTesting.hashA.uppercased())
            """
        #expect(ConfigTesting.problems(yaml) == [
            ConfigTesting.problem(11, 17, "tenants.campus.api_keys[0].sha256",
                                  "duplicate key: this sha256 is already used by key \"acme-main\" of tenant \"acme\" (line 5)"),
        ])
    }

    @Test func keyEntriesHaveAnIDAHashAndNothingElse() {
        let keys = "      - { sha256: \(ConfigTesting.hashA), expires: 2027-01-01 }\n      - { id: ci }\n      - acme-main\n"
        #expect(ConfigTesting.problems(Self.tenant(keys: keys)) == [
            ConfigTesting.problem(6, 9, "tenants.acme.api_keys[0]", "missing required key \"id\""),
            ConfigTesting.problem(6, 85, "tenants.acme.api_keys[0].expires",
                                  "unknown key \"expires\" (did you mean \"expires_at\"?)"),
            ConfigTesting.problem(7, 9, "tenants.acme.api_keys[1]", "missing required key \"sha256\""),
            ConfigTesting.problem(8, 9, "tenants.acme.api_keys[2]", "expected a mapping, found a string"),
        ])
    }

    @Test func theKeyListIsANonEmptyList() {
        #expect(ConfigTesting.problems(Self.tenant(keys: "").replacingOccurrences(of: "api_keys:", with: "api_keys: []")) == [
            ConfigTesting.problem(5, 15, "tenants.acme.api_keys", "must list at least one key"),
        ])
        #expect(ConfigTesting.problems(Self.tenant(keys: "").replacingOccurrences(of: "api_keys:", with: "api_keys: acme-main")) == [
            ConfigTesting.problem(5, 15, "tenants.acme.api_keys", "expected a list of keys, found a string"),
        ])
    }

    @Test func expiryIsAnISO8601DateTime() {
        let keys = "      - { id: acme-main, sha256: \(ConfigTesting.hashA), expires_at: next year }\n"
        #expect(ConfigTesting.problems(Self.tenant(keys: keys)) == [
            ConfigTesting.problem(6, 112, "tenants.acme.api_keys[0].expires_at",
                                  "invalid expires_at \"next year\": expected an ISO 8601 date-time such as 2027-01-01T00:00:00Z"),
        ])
    }
}
