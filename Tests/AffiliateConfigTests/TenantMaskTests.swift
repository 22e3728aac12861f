@testable import AffiliateConfig
import AffiliateCore
import Testing

/// Tenants found by offset are never read by libyaml; whenever the guess is wrong, the outcome
/// is still exactly a fresh load's (``TenantReuseTests/load(_:reusing:)`` compares every load).
@Suite struct TenantMaskTests {
    typealias Reuse = TenantReuseTests
    static let hashD = KeyDigest.sha256Hex("fourth key")

    static func threeTenants(betaName: String? = nil) -> String {
        Reuse.file(
            Reuse.tenant("alpha", hash: ConfigTesting.hashA), Reuse.tenant("beta", name: betaName, hash: ConfigTesting.hashB),
            Reuse.tenant("gamma", hash: ConfigTesting.hashC))
    }

    /// How many tenants composing `yaml` against `previous` took without libyaml reading them.
    static func cutOut(_ yaml: String, reusing previous: ConfigSource) -> Int {
        Array(yaml.utf8).withUnsafeBufferPointer { YAMLDocument.configuration($0, reusing: previous).tenants.cutOut }
    }

    @Test func tenantsBeforeAndAfterTheChangedOneAreNeverRead() throws {
        let first = try Reuse.load(Self.threeTenants(), reusing: nil)
        let renamed = Self.threeTenants(betaName: "Beta Renamed, with a longer name")
        #expect(Self.cutOut(renamed, reusing: first.source) == 2)
        let second = try Reuse.load(renamed, reusing: first.source)
        #expect(second.reusedTenants == ["alpha", "gamma"])
        #expect(second.config.tenantsByID["beta"]?.name == "Beta Renamed, with a longer name")
    }

    @Test func aKeyRenamedOverTheSameTextIsReadAgain() throws {
        func file(lastID: String) -> String {
            Reuse.file(Reuse.tenant("alpha", hash: ConfigTesting.hashA), Reuse.tenant("beta", hash: ConfigTesting.hashB))
                + "  \(lastID):\n    name: Last\n    dialect: firstpromoter-v1\n"
                + "    api_keys:\n      - { id: main, sha256: \(ConfigTesting.hashC) }\n"
        }
        let first = try Reuse.load(file(lastID: "gamma"), reusing: nil)
        let renamed = file(lastID: "delta")
        // alpha is cut out; gamma's text is found at the end, under another key, so the guess
        // fails and the file is composed again without cuts.
        let guessed = Array(renamed.utf8).withUnsafeBufferPointer { TenantMask($0, previous: first.source)?.tenants.count }
        #expect(guessed == 2)
        #expect(Self.cutOut(renamed, reusing: first.source) == 0)
        let second = try Reuse.load(renamed, reusing: first.source)
        #expect(second.config.tenants.map(\.id) == ["alpha", "beta", "delta"])
        #expect(second.config.tenantsByID["delta"]?.apiKeys.first?.sha256 == ConfigTesting.hashC)
        #expect(second.config.tenantsByID["delta"]?.name == "Last")
    }

    /// An unclosed quote would swallow the text after it differently from the real text: the
    /// problems reported are the real file's.
    @Test func anUnclosedQuoteBeforeBlankedTenantsReportsTheRealFilesError() throws {
        let first = try Reuse.load(Self.threeTenants(), reusing: nil)
        _ = Reuse.problems(Self.threeTenants(betaName: "\"Beta"), reusing: first.source)
        _ = Reuse.problems(Self.threeTenants(betaName: "[Beta"), reusing: first.source)
    }

    /// A key left empty where a cut-out tenant's text was is the real file's problem, not a
    /// reused tenant.
    @Test func aTenantKeyWithoutItsTextIsReadAsWritten() throws {
        let first = try Reuse.load(Self.threeTenants(), reusing: nil)
        let gammaEmptied = Reuse.file(
            Reuse.tenant("alpha", hash: ConfigTesting.hashA), Reuse.tenant("beta", hash: ConfigTesting.hashB)) + "  gamma:\n"
        #expect(Self.cutOut(gammaEmptied, reusing: first.source) == 2)
        #expect(Reuse.problems(gammaEmptied, reusing: first.source).map(\.path) == ["tenants.gamma"])
    }

    /// libyaml counts a carriage return, NEL, LINE and PARAGRAPH SEPARATOR as line breaks too:
    /// with one anywhere in the file, nothing is found by offset.
    @Test func otherLineBreaksTurnCuttingOff() throws {
        let first = try Reuse.load(Self.threeTenants(), reusing: nil)
        for lineBreak in ["\r\n", "\u{85}", "\u{2028}", "\u{2029}"] {
            let renamed = "# written on another system" + lineBreak + Self.threeTenants(betaName: "Beta Renamed")
            #expect(Self.cutOut(renamed, reusing: first.source) == 0)
            #expect(try Reuse.load(renamed, reusing: first.source).config.tenantsByID["beta"]?.name == "Beta Renamed")
        }
        let nonBreaking = "# caf\u{E9} \u{2026} \u{A0}\n" + Self.threeTenants(betaName: "Beta Renamed")
        let second = try Reuse.load("# caf\u{E9} \u{2026} \u{A0}\n" + Self.threeTenants(), reusing: nil)
        #expect(Self.cutOut(nonBreaking, reusing: second.source) == 2)
    }

    /// Comments and blank lines between tenants, a one-line flow tenant and a last tenant
    /// without a final line break are all cut out; a problem in the changed tenant between them
    /// is reported where it is in the file, and the next reload reuses what this one cut out.
    @Test func cutOutTenantsKeepEveryOtherPositionAndSpan() throws {
        func file(betaCurrency: String) -> String {
            "# programs\ntenants:\n" + Reuse.tenant("alpha", hash: ConfigTesting.hashA) + "\n  # beta is new\n\n"
                + "  flow: { name: Flow, dialect: firstpromoter-v1, api_keys: [ { id: flow-main, sha256: \(Self.hashD) } ] }\n"
                + Reuse.tenant("beta", hash: ConfigTesting.hashB, extra: "    currency: \(betaCurrency)\n")
                + "\n\n  # last\n" + Reuse.tenant("gamma", hash: ConfigTesting.hashC).dropLast()
        }
        let first = try Reuse.load(file(betaCurrency: "USD"), reusing: nil)
        let broken = file(betaCurrency: "usd\n    payout_due_days: 30")
        #expect(Self.cutOut(broken, reusing: first.source) == 3)
        let problems = Reuse.problems(broken, reusing: first.source)
        #expect(problems.map(\.path) == ["tenants.beta.currency"])
        #expect(problems.map { [$0.line, $0.column] } == [[17, 15]])
        let second = try Reuse.load(file(betaCurrency: "EUR\n    payout_due_days: 30"), reusing: first.source)
        #expect(second.reusedTenants == ["alpha", "flow", "gamma"])
        let third = try Reuse.load(file(betaCurrency: "GBP"), reusing: second.source)
        #expect(Self.cutOut(file(betaCurrency: "GBP"), reusing: second.source) == 3)
        #expect(third.config.tenantsByID["beta"]?.settings["payout_due_days"] == nil)
        #expect(third.reusedTenants == ["alpha", "flow", "gamma"])
        #expect(third.config.tenantsByID["beta"]?.currency == "GBP")
    }

    @Test func aTenantWhoseTextGrewAtTheEndOfTheFileIsReadAgain() throws {
        let first = try Reuse.load(Self.threeTenants(), reusing: nil)
        let grown = Self.threeTenants() + "    currency: EUR\n"
        let second = try Reuse.load(grown, reusing: first.source)
        #expect(second.config.tenantsByID["gamma"]?.currency == "EUR")
    }
}
