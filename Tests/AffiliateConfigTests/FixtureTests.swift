import AffiliateConfig
import AffiliateCore
import Foundation
import Testing

@Suite struct FixtureTests {
    /// Writes `fixtures` next to nothing else and returns its path; the caller removes `directory`.
    static func write(_ fixtures: String, in directory: URL, name: String = "acme.yaml") throws -> String {
        let file = directory.appendingPathComponent(name)
        try Data(fixtures.utf8).write(to: file)
        return file.path
    }

    @Test func fixturesBecomeTheTenantsSeed() throws {
        let directory = try ConfigTesting.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = try Self.write("""
            payouts:
              - { id: 7, status: pending, amount: 12.50, note: "12" }
              - id: 9
                status: completed
            """, in: directory)
        let config = try ConfigTesting.loader.load(yaml: ConfigTesting.acme("    fixtures: \(path)\n"), path: ConfigTesting.file)
        let seed = try #require(config.tenants.first?.seed)
        #expect(seed.records.map(\.id) == ["7", "9"])
        #expect(seed.records.first?.data == ["id": .number("7"), "status": .string("pending"), "amount": .number("12.50"),
                                             "note": .string("12")])
        #expect(seed.sequenceFloors == ["payouts": 9])
    }

    @Test func dialectProblemsPointIntoTheFixtureFile() throws {
        let directory = try ConfigTesting.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = try Self.write("""
            payouts:
              - id: 7
                status: pending
              - id: eight
                status: pending
              - id: 9
                status: done
            """, in: directory)
        #expect(ConfigTesting.problems(ConfigTesting.acme("    fixtures: \(path)\n")) == [
            ConfigProblem(file: path, line: 4, column: 5, path: "payouts[1].id", message: "id must be an integer"),
            ConfigProblem(file: path, line: 7, column: 5, path: "payouts[2].status",
                          message: "status must be one of: pending, processing, completed"),
        ])
    }

    @Test func aMissingFixtureFileIsReportedAtTheFixturesKey() {
        #expect(ConfigTesting.problems(ConfigTesting.acme("    fixtures: config/fixtures/nowhere.yaml\n")) == [
            ConfigTesting.problem(7, 15, "tenants.acme.fixtures",
                                  "cannot read fixtures file \"config/fixtures/nowhere.yaml\": file not found"),
        ])
    }

    @Test func anEmptyFixtureFileIsReportedAtTheFixturesKey() throws {
        let directory = try ConfigTesting.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = try Self.write("# nothing yet\n", in: directory)
        #expect(ConfigTesting.problems(ConfigTesting.acme("    fixtures: \(path)\n")) == [
            ConfigTesting.problem(7, 15, "tenants.acme.fixtures", "fixtures file \"\(path)\" is empty"),
        ])
    }

    @Test func aFixtureSyntaxErrorIsReportedOnceInItsOwnFileEvenWhenShared() throws {
        let directory = try ConfigTesting.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = try Self.write("payouts:\n  - { id: 7, status: pending\n", in: directory)
        let yaml = """
            tenants:
              a:
                name: A
                dialect: firstpromoter-v1
                api_keys: [ { id: a, sha256: \(ConfigTesting.hashA) } ]
                fixtures: \(path)
              b:
                name: B
                dialect: firstpromoter-v1
                api_keys: [ { id: b, sha256: \(ConfigTesting.hashB) } ]
                fixtures: \(path)
            """
        #expect(ConfigTesting.problems(yaml) == [
            ConfigProblem(file: path, line: 3, column: 1, path: "",
                          message: "not valid YAML: did not find expected ',' or '}' (while parsing a flow mapping at 2:5)"),
        ])
    }

    @Test func fixturesKeepKeyOrderAndTypeScalarsByTheCoreSchema() throws {
        let directory = try ConfigTesting.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = try Self.write("""
            zeta: 1
            alpha: [true, null, ~, "true", 0x1F, -0, +5, .5, 1e3, 007, 2024-01-15T10:30:00Z, 'x', NO]
            nested: { b: 2, a: 1 }
            """, in: directory, name: "echo.json")
        let yaml = """
            tenants:
              echo:
                name: Echo
                dialect: echo-v1
                api_keys: [ { id: e, sha256: \(ConfigTesting.hashA) } ]
                fixtures: \(path)
            """
        let config = try ConfigTesting.loader.load(yaml: yaml, path: ConfigTesting.file)
        let document = try #require(config.tenants.first?.seed.records.first?.data["document"])
        #expect(document == .object([
            "zeta": .number("1"),
            "alpha": .array([
                .bool(true), .null, .null, .string("true"), .number("31"), .number("0"), .number("5"), .number("0.5"),
                .number("1e3"), .number("7"), .string("2024-01-15T10:30:00Z"), .string("x"), .string("NO"),
            ]),
            "nested": .object(["b": .number("2"), "a": .number("1")]),
        ]))
        #expect(document.objectValue?.keys == ["zeta", "alpha", "nested"])
    }

    @Test func numbersJSONCannotCarryAreRefused() throws {
        let directory = try ConfigTesting.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = try Self.write("payouts:\n  - { id: 7, status: pending, amount: .inf }\n", in: directory)
        #expect(ConfigTesting.problems(ConfigTesting.acme("    fixtures: \(path)\n")) == [
            ConfigProblem(file: path, line: 2, column: 39, path: "payouts[0].amount",
                          message: "infinite and NaN numbers cannot be stored as JSON"),
        ])
    }

    @Test func fixturesOfATenantWithOtherProblemsAreStillParsed() throws {
        let directory = try ConfigTesting.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = try Self.write("payouts: [\n", in: directory)
        let problems = ConfigTesting.problems(ConfigTesting.acme("    currency: usd\n    fixtures: \(path)\n"))
        #expect(problems.map(\.file) == [ConfigTesting.file, path])
        #expect(problems.map(\.line) == [7, 2])
    }
}
