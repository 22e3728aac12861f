@testable import AffiliateConfig
import AffiliateCore
import Testing

/// Reloads chained over many random edits, each compared with a fresh load of the same text
/// (``TenantReuseTests/load(_:reusing:)`` and ``TenantReuseTests/problems(_:reusing:)``): the
/// tenants cut out or passed over, their positions and the spans the next reload starts from
/// are right whatever the edit, or the outcome would differ from the fresh load's.
@Suite struct TenantReuseChainTests {
    typealias Reuse = TenantReuseTests

    /// A tenant written in one of the shapes a configuration file holds.
    struct Tenant {
        var id: String
        var shape: Int
        var name: String
        var currency = "USD"
        var dueDays: Int?
        var commentAbove = false
        var blankLinesAfter = 0

        func text(hash: String) -> String {
            var lines: [String] = []
            if commentAbove { lines.append("  # \(id): managed by the sales team") }
            switch shape % 3 {
            case 0:
                lines += ["  \(id):", "    name: \(name)", "    dialect: firstpromoter-v1",
                          "    api_keys:", "      - { id: \(id)-main, sha256: \(hash) }", "    currency: \(currency)"]
                if let dueDays { lines.append("    payout_due_days: \(dueDays)") }
            case 1:
                var fields = "name: \"\(name)\", dialect: firstpromoter-v1, currency: \(currency), "
                if let dueDays { fields += "payout_due_days: \(dueDays), " }
                lines.append("  \(id): { \(fields)api_keys: [ { id: \(id)-main, sha256: \(hash) } ] }")
            default:
                lines += ["  \(id):", "    dialect: firstpromoter-v1", "    name: >-", "      \(name)",
                          "    api_keys:", "      - id: \(id)-main", "        sha256: \(hash)", "    currency: \(currency)"]
                if let dueDays { lines.append("    payout_due_days: \(dueDays)") }
            }
            return lines.joined(separator: "\n") + "\n" + String(repeating: "\n", count: blankLinesAfter)
        }
    }

    /// SplitMix64: the same edits on every run and every machine.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static func file(_ tenants: [Tenant], header: String, endsWithLineBreak: Bool) -> String {
        let body = tenants.map { $0.text(hash: KeyDigest.sha256Hex("key of \($0.id)")) }.joined()
        let text = header + "tenants:\n" + body
        return endsWithLineBreak || !text.hasSuffix("\n") ? text : String(text.dropLast())
    }

    @Test(arguments: [1, 2, 3, 4])
    func randomEditsReloadLikeFreshLoads(seed: UInt64) throws {
        var random = Generator(state: seed)
        var tenants = (0..<12).map { index in
            Tenant(id: "t\(index)", shape: Int.random(in: 0..<3, using: &random), name: "Tenant \(index) caf\u{E9}",
                   commentAbove: Bool.random(using: &random), blankLinesAfter: Int.random(in: 0..<2, using: &random))
        }
        var header = "server:\n  listen: 127.0.0.1:3100\n"
        var endsWithLineBreak = true
        var next = tenants.count
        var previous = try Reuse.load(Self.file(tenants, header: header, endsWithLineBreak: true), reusing: nil).source
        var cutOut = 0
        for _ in 0..<60 {
            let index = Int.random(in: 0..<tenants.count, using: &random)
            switch Int.random(in: 0..<9, using: &random) {
            case 0: tenants[index].name += " and partners"
            case 1: tenants[index].dueDays = tenants[index].dueDays == nil ? 30 : nil
            case 2: tenants[index].shape += 1
            case 3: tenants[index].commentAbove.toggle()
            case 4: tenants[index].blankLinesAfter = (tenants[index].blankLinesAfter + 1) % 3
            case 5:
                tenants.insert(Tenant(id: "t\(next)", shape: next, name: "Tenant \(next)"), at: index)
                next += 1
            case 6 where tenants.count > 3: tenants.remove(at: index)
            case 7: header = header.hasPrefix("#") ? "server:\n  listen: 127.0.0.1:3100\n" : "# edited\n" + header
            default: endsWithLineBreak.toggle()
            }
            let yaml = Self.file(tenants, header: header, endsWithLineBreak: endsWithLineBreak)
            if Int.random(in: 0..<5, using: &random) == 0 {
                // A broken tenant among the reused ones: the same problems as a fresh load.
                var broken = tenants
                broken[index].currency = "usd"
                _ = Reuse.problems(Self.file(broken, header: header, endsWithLineBreak: endsWithLineBreak), reusing: previous)
            }
            cutOut += TenantMaskTests.cutOut(yaml, reusing: previous)
            previous = try Reuse.load(yaml, reusing: previous).source
        }
        // Most reloads cut most tenants out: the comparisons above are about that path.
        #expect(cutOut > 60 * 6)
    }
}
