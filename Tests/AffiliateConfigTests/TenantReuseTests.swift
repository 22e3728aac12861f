import AffiliateConfig
import AffiliateCore
import Foundation
import Testing

/// A reload takes tenants whose text did not change from the previous load instead of
/// validating them again; whatever it reuses, the outcome must be exactly a fresh load's.
@Suite struct TenantReuseTests {
    static let hashD = KeyDigest.sha256Hex("fourth key")

    /// Loads `yaml` reusing `previous` and checks the result against a load without reuse.
    static func load(_ yaml: String, reusing previous: ConfigSource?) throws -> LoadedConfig {
        let bytes = Array(yaml.utf8)
        let digest = KeyDigest.sha256Hex(bytes: bytes)
        let loaded = try ConfigTesting.loader.load(bytes: bytes, digest: digest, path: ConfigTesting.file, reusing: previous)
        let fresh = try ConfigTesting.loader.load(yaml: yaml, path: ConfigTesting.file)
        #expect(loaded.config.tenants == fresh.tenants)
        #expect(loaded.config.digest == fresh.digest)
        #expect(loaded.source.digest == digest)
        return loaded
    }

    /// The problems of `yaml` loaded reusing `previous`, checked against those of a fresh load.
    static func problems(_ yaml: String, reusing previous: ConfigSource?) -> [ConfigProblem] {
        let bytes = Array(yaml.utf8)
        do {
            _ = try ConfigTesting.loader.load(
                bytes: bytes, digest: KeyDigest.sha256Hex(bytes: bytes), path: ConfigTesting.file, reusing: previous)
            Issue.record("the file loaded")
            return []
        } catch {
            #expect(error.problems == ConfigTesting.problems(yaml))
            return error.problems
        }
    }

    static func tenant(_ id: String, name: String? = nil, hash: String, extra: String = "") -> String {
        """
          \(id):
            name: \(name ?? "Tenant \(id)")
            dialect: firstpromoter-v1
            api_keys:
              - { id: \(id)-main, sha256: \(hash) }
        \(extra)
        """
    }

    static func file(_ tenants: String...) -> String { "tenants:\n" + tenants.joined() }

    @Test func onlyTheChangedTenantIsReadAgain() throws {
        let first = try Self.load(Self.file(
            Self.tenant("alpha", hash: ConfigTesting.hashA), Self.tenant("beta", hash: ConfigTesting.hashB),
            Self.tenant("gamma", hash: ConfigTesting.hashC)), reusing: nil)
        #expect(first.reusedTenants == [])
        #expect(first.source.reusableTenantCount == 3)

        let second = try Self.load(Self.file(
            Self.tenant("alpha", hash: ConfigTesting.hashA), Self.tenant("beta", name: "Beta Renamed", hash: ConfigTesting.hashB),
            Self.tenant("gamma", hash: ConfigTesting.hashC)), reusing: first.source)
        #expect(second.reusedTenants == ["alpha", "gamma"])
        #expect(second.config.tenantsByID["beta"]?.name == "Beta Renamed")
        #expect(second.config.tenants.map(\.id) == ["alpha", "beta", "gamma"])
        #expect(second.config.keys.count == 3)

        // The new source describes the new file: reloading it again reuses every tenant.
        let third = try Self.load(Self.file(
            Self.tenant("alpha", hash: ConfigTesting.hashA), Self.tenant("beta", name: "Beta Renamed", hash: ConfigTesting.hashB),
            Self.tenant("gamma", hash: ConfigTesting.hashC)), reusing: second.source)
        #expect(third.reusedTenants == ["alpha", "beta", "gamma"])
    }

    @Test func tenantsMovedByLinesAddedAboveAreStillReused() throws {
        let first = try Self.load(Self.file(
            Self.tenant("alpha", hash: ConfigTesting.hashA), Self.tenant("beta", hash: ConfigTesting.hashB)), reusing: nil)
        let moved = "server:\n  listen: 127.0.0.1:3100\n# a comment\n" + Self.file(
            Self.tenant("alpha", hash: ConfigTesting.hashA, extra: "    currency: EUR\n    payout_due_days: 30\n"),
            Self.tenant("beta", hash: ConfigTesting.hashB))
        let second = try Self.load(moved, reusing: first.source)
        #expect(second.reusedTenants == ["beta"])
        #expect(second.config.tenantsByID["alpha"]?.currency == "EUR")
    }

    /// beta's key is changed to gamma's; gamma, reused and five lines further down than when
    /// it was read, is where the duplicate is reported, at its line now.
    @Test func aDuplicateKeyInAReusedTenantIsReportedAtTheLineItMovedTo() throws {
        let first = try Self.load(Self.file(
            Self.tenant("alpha", hash: ConfigTesting.hashA), Self.tenant("beta", hash: ConfigTesting.hashB),
            Self.tenant("gamma", hash: ConfigTesting.hashC)), reusing: nil)
        let yaml = Self.file(
            Self.tenant("alpha", hash: ConfigTesting.hashA, extra: "    campaigns:\n      - { id: 1, name: One, landing_url: \"http://x/\" }\n"),
            Self.tenant("beta", hash: ConfigTesting.hashC, extra: "    currency: EUR\n    payout_due_days: 30\n    rate_limit: 10/s\n"),
            Self.tenant("gamma", hash: ConfigTesting.hashC))
        #expect(Self.problems(yaml, reusing: first.source) == [
            ConfigTesting.problem(21, 35, "tenants.gamma.api_keys[0].sha256",
                                  "duplicate key: this sha256 is already used by key \"beta-main\" of tenant \"beta\" (line 13)"),
        ])
    }

    /// The other way round: the first holder of the key is a reused tenant that moved; the
    /// message names the line it stands at now.
    @Test func aDuplicateOfAReusedTenantsKeyNamesTheLineTheReusedKeyMovedTo() throws {
        let first = try Self.load(Self.file(
            Self.tenant("alpha", hash: ConfigTesting.hashA), Self.tenant("beta", hash: ConfigTesting.hashB)), reusing: nil)
        let yaml = "# two lines\n# above\n" + Self.file(
            Self.tenant("alpha", hash: ConfigTesting.hashA), Self.tenant("beta", hash: ConfigTesting.hashB),
            Self.tenant("gamma", hash: ConfigTesting.hashA))
        #expect(Self.problems(yaml, reusing: first.source) == [
            ConfigTesting.problem(18, 35, "tenants.gamma.api_keys[0].sha256",
                                  "duplicate key: this sha256 is already used by key \"alpha-main\" of tenant \"alpha\" (line 8)"),
        ])
    }

    @Test func aTenantRepeatedWordForWordIsStillADuplicateTenant() throws {
        let first = try Self.load(Self.file(
            Self.tenant("alpha", hash: ConfigTesting.hashA), Self.tenant("beta", hash: ConfigTesting.hashB)), reusing: nil)
        let yaml = Self.file(
            Self.tenant("alpha", hash: ConfigTesting.hashA), Self.tenant("beta", hash: ConfigTesting.hashB),
            Self.tenant("beta", hash: ConfigTesting.hashB))
        #expect(Self.problems(yaml, reusing: first.source) == [
            ConfigTesting.problem(12, 3, "", "key \"beta\" appears more than once in this mapping (first at line 7); the first is used"),
        ])
    }

    @Test func aProblemInAChangedTenantBelowReusedOnesKeepsItsPosition() throws {
        let first = try Self.load(Self.file(
            Self.tenant("alpha", hash: ConfigTesting.hashA), Self.tenant("beta", hash: ConfigTesting.hashB)), reusing: nil)
        let yaml = "\n\n" + Self.file(
            Self.tenant("alpha", hash: ConfigTesting.hashA), Self.tenant("beta", hash: ConfigTesting.hashB, extra: "    currency: usd\n"))
        #expect(Self.problems(yaml, reusing: first.source) == [
            ConfigTesting.problem(14, 15, "tenants.beta.currency",
                                  "invalid currency \"usd\": expected three upper-case letters (ISO 4217, such as USD)"),
        ])
    }

    /// The same text under another indentation, or written as a flow mapping, is read again.
    @Test func reindentedOrFlowTenantsAreReadAgain() throws {
        let first = try Self.load(Self.file(
            Self.tenant("alpha", hash: ConfigTesting.hashA), Self.tenant("beta", hash: ConfigTesting.hashB)), reusing: nil)
        let indented = "tenants:\n" + [Self.tenant("alpha", hash: ConfigTesting.hashA), Self.tenant("beta", hash: ConfigTesting.hashB)]
            .joined().split(separator: "\n", omittingEmptySubsequences: false).map { $0.isEmpty ? "" : "  " + $0 }
            .joined(separator: "\n")
        #expect(try Self.load(indented, reusing: first.source).reusedTenants == [])
        let flow = """
            tenants: { alpha: { name: Tenant alpha, dialect: firstpromoter-v1, api_keys: [ { id: alpha-main, sha256: \(ConfigTesting.hashA) } ] },
                       beta: { name: Tenant beta, dialect: firstpromoter-v1, api_keys: [ { id: beta-main, sha256: \(ConfigTesting.hashB) } ] } }
            """
        let fromFlow = try Self.load(flow, reusing: first.source)
        #expect(fromFlow.reusedTenants == [])
        #expect(try Self.load(flow, reusing: fromFlow.source).reusedTenants == [])
    }

    /// Tenants added after the last one leave the tenants above as they were.
    @Test func tenantsAddedAtTheEndLeaveTheOthersReused() throws {
        let first = try Self.load(Self.file(
            Self.tenant("alpha", hash: ConfigTesting.hashA), Self.tenant("beta", hash: ConfigTesting.hashB)), reusing: nil)
        let second = try Self.load(Self.file(
            Self.tenant("alpha", hash: ConfigTesting.hashA), Self.tenant("beta", hash: ConfigTesting.hashB),
            "\n# added\n", Self.tenant("gamma", hash: ConfigTesting.hashC)), reusing: first.source)
        #expect(second.reusedTenants == ["alpha", "beta"])
        #expect(second.config.tenants.map(\.id) == ["alpha", "beta", "gamma"])
    }

    /// beta ended the file; its old text is now followed by one more key of its own. The
    /// composer passes over the old text, meets a node beyond it, and composes the whole file
    /// again.
    @Test func aLastTenantThatGrewIsReadAgain() throws {
        let first = try Self.load(Self.file(
            Self.tenant("alpha", hash: ConfigTesting.hashA), Self.tenant("beta", hash: ConfigTesting.hashB)), reusing: nil)
        let yaml = Self.file(
            Self.tenant("alpha", hash: ConfigTesting.hashA), Self.tenant("beta", hash: ConfigTesting.hashB, extra: "    currency: EUR\n"))
        let second = try Self.load(yaml, reusing: first.source)
        #expect(second.reusedTenants == [])
        #expect(second.config.tenantsByID["beta"]?.currency == "EUR")
    }

    /// The last value of the last tenant goes on on the next line (a plain scalar may span
    /// lines): the old text is all there, but its last node now reaches past it.
    @Test func aLastValueContinuedOnTheNextLineIsReadAgain() throws {
        let due = Self.tenant("beta", hash: ConfigTesting.hashB, extra: "    payout_due_days: 30\n")
        let first = try Self.load(Self.file(Self.tenant("alpha", hash: ConfigTesting.hashA), due), reusing: nil)
        #expect(first.source.reusableTenantCount == 2)
        let yaml = Self.file(Self.tenant("alpha", hash: ConfigTesting.hashA), due, "      0\n")
        #expect(Self.problems(yaml, reusing: first.source) == [
            ConfigTesting.problem(12, 22, "tenants.beta.payout_due_days", "expected a whole number, found a string"),
        ])
    }

    /// Anchors and aliases make a tenant's meaning depend on text elsewhere: such tenants are
    /// never reused, and changing the anchor changes the tenant using it.
    @Test func tenantsWithAnchorsOrAliasesAreReadAgain() throws {
        func yaml(_ words: String) -> String {
            Self.file(
                Self.tenant("alpha", hash: ConfigTesting.hashA, extra: "    statuses:\n      payouts: &words [\(words)]\n"),
                Self.tenant("beta", hash: ConfigTesting.hashB, extra: "    statuses:\n      payouts: *words\n"),
                Self.tenant("gamma", hash: ConfigTesting.hashC))
        }
        let first = try Self.load(yaml("pending, completed"), reusing: nil)
        #expect(first.source.reusableTenantCount == 1)
        let second = try Self.load(yaml("pending, processing, completed"), reusing: first.source)
        #expect(second.reusedTenants == ["gamma"])
        #expect(second.config.tenantsByID["beta"]?.statusPolicies["payouts"]?.vocabulary.words == ["pending", "processing", "completed"])
    }

    /// libyaml counts positions in characters; tenants after non-ASCII text are found at the
    /// right bytes all the same.
    @Test func tenantsAfterNonASCIITextAreReused() throws {
        let first = try Self.load(Self.file(
            Self.tenant("alpha", name: "Ålpha Affiliés", hash: ConfigTesting.hashA), Self.tenant("beta", name: "Bêta 🚀", hash: ConfigTesting.hashB),
            Self.tenant("gamma", hash: ConfigTesting.hashC)), reusing: nil)
        let second = try Self.load("# café\n" + Self.file(
            Self.tenant("alpha", name: "Ålpha Affiliés SA", hash: ConfigTesting.hashA), Self.tenant("beta", name: "Bêta 🚀", hash: ConfigTesting.hashB),
            Self.tenant("gamma", hash: ConfigTesting.hashC)), reusing: first.source)
        #expect(second.reusedTenants == ["beta", "gamma"])
        #expect(second.config.tenantsByID["beta"]?.name == "Bêta 🚀")
    }

    /// A fixture file may change while the YAML naming it does not; tenants naming one are
    /// always read again, with their fixtures.
    @Test func aTenantNamingFixturesIsReadAgainWithItsFixtureFile() throws {
        let directory = try ConfigTesting.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = try FixtureTests.write("payouts:\n  - { id: 7, status: pending }\n", in: directory)
        let yaml = Self.file(
            Self.tenant("alpha", hash: ConfigTesting.hashA, extra: "    fixtures: \(path)\n"),
            Self.tenant("beta", hash: ConfigTesting.hashB))
        let first = try Self.load(yaml, reusing: nil)
        #expect(first.config.tenantsByID["alpha"]?.seed.records.map(\.id) == ["7"])
        #expect(first.source.reusableTenantCount == 1)

        _ = try FixtureTests.write("payouts:\n  - { id: 7, status: pending }\n  - { id: 8, status: completed }\n", in: directory)
        let second = try Self.load(yaml, reusing: first.source)
        #expect(second.reusedTenants == ["beta"])
        #expect(second.config.tenantsByID["alpha"]?.seed.records.map(\.id) == ["7", "8"])

        _ = try FixtureTests.write("payouts:\n  - { id: 7, status: done }\n", in: directory)
        #expect(Self.problems(yaml, reusing: second.source) == [
            ConfigProblem(file: path, line: 2, column: 14, path: "payouts[0].status",
                          message: "status must be one of: pending, processing, completed"),
        ])
    }

    @Test func aSourceReadWithOtherDialectsIsNotReused() throws {
        let yaml = Self.file(Self.tenant("alpha", hash: ConfigTesting.hashA), Self.tenant("beta", hash: Self.hashD))
        let other = ConfigLoader(registry: ProviderRegistry([FakeProvider.firstPromoter]))
        let bytes = Array(yaml.utf8)
        let first = try other.load(bytes: bytes, digest: KeyDigest.sha256Hex(bytes: bytes), path: ConfigTesting.file, reusing: nil)
        #expect(first.source.reusableTenantCount == 2)
        #expect(try Self.load(yaml, reusing: first.source).reusedTenants == [])
    }

    /// A server's first snapshot is loaded from the file, and its first reload reuses that
    /// file's tenants: the source comes with the configuration.
    @Test func loadingAFileGivesItsSource() throws {
        let directory = FileManager.default.temporaryDirectory.path + "/affhost-reuse-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/affhost.yaml"
        let yaml = Self.file(Self.tenant("alpha", hash: ConfigTesting.hashA), Self.tenant("beta", hash: Self.hashD))
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        let loaded = try ConfigTesting.loader.loadFile(path: path)
        #expect(loaded.source.digest == KeyDigest.sha256Hex(yaml))
        #expect(loaded.source.reusableTenantCount == 2)
        #expect(loaded.reusedTenants == [])
        let renamed = yaml.replacingOccurrences(of: "Tenant beta", with: "Beta Renamed")
        #expect(try Self.load(renamed, reusing: loaded.source).reusedTenants == ["alpha"])
    }
}
