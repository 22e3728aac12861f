import AffiliateConfig
import AffiliateCore
import Foundation
import Testing

@Suite struct DocumentProblemTests {
    @Test func aMissingFileIsOneProblem() {
        let path = "/nonexistent/affhost.yaml"
        do {
            _ = try ConfigTesting.loader.load(path: path)
            Issue.record("a missing file loaded")
        } catch {
            #expect(error.problems == [ConfigProblem(file: path, line: 1, column: 1, path: "", message: "file not found")])
            #expect(error.description == "/nonexistent/affhost.yaml:1:1: file not found")
        }
    }

    @Test func aDirectoryIsOneProblem() throws {
        let directory = try ConfigTesting.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        do {
            _ = try ConfigTesting.loader.load(path: directory.path)
            Issue.record("a directory loaded")
        } catch {
            #expect(error.problems == [ConfigProblem(
                file: directory.path, line: 1, column: 1, path: "", message: "is a directory, not a file")])
        }
    }

    @Test func bytesThatAreNotUTF8AreOneProblem() throws {
        let directory = try ConfigTesting.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("affhost.yaml")
        try Data([0x74, 0x65, 0xFF, 0xFE, 0x0A]).write(to: file)
        do {
            _ = try ConfigTesting.loader.load(path: file.path)
            Issue.record("invalid UTF-8 loaded")
        } catch {
            #expect(error.problems == [ConfigProblem(
                file: file.path, line: 1, column: 1, path: "", message: "the file is not valid UTF-8 text")])
        }
    }

    @Test(arguments: ["", "\n\n", "# everything commented out\n# tenants:\n", "---\n"])
    func anEmptyFileIsOneProblem(text: String) {
        #expect(ConfigTesting.problems(text) == [ConfigTesting.problem(
            1, 1, "", "the file is empty: expected a mapping with server, admin, storage and tenants")])
    }

    @Test func aSyntaxErrorGivesItsLineAndColumn() {
        let yaml = """
            tenants:
              acme:
                name: "Acme
                dialect: firstpromoter-v1
            """
        #expect(ConfigTesting.problems(yaml) == [ConfigTesting.problem(
            4, 30, "", "not valid YAML: found unexpected end of stream (while scanning a quoted scalar at 3:11)")])
    }

    @Test func badIndentationIsASyntaxError() {
        let yaml = """
            tenants:
              acme:
                name: Acme
               dialect: firstpromoter-v1
            """
        #expect(ConfigTesting.problems(yaml) == [ConfigTesting.problem(
            4, 4, "", "not valid YAML: did not find expected key (while parsing a block mapping at 2:3)")])
    }

    @Test func aDuplicatedKeyIsReportedAtItsSecondOccurrenceAndTheRestIsStillChecked() {
        let yaml = ConfigTesting.acme("    name: Acme again\n    currency: usd\n")
        #expect(ConfigTesting.problems(yaml) == [
            ConfigTesting.problem(7, 5, "", "key \"name\" appears more than once in this mapping (first at line 3); the first is used"),
            ConfigTesting.problem(8, 15, "tenants.acme.currency",
                                  "invalid currency \"usd\": expected three upper-case letters (ISO 4217, such as USD)"),
        ])
    }

    @Test func duplicatedKeysAreFoundInLargeMappingsToo() {
        let tenants = (0..<20).map { "  t\($0): {}\n" }.joined()
        let problems = ConfigTesting.problems("tenants:\n" + tenants + "  t7: {}\n")
        #expect(problems.filter(\.path.isEmpty) == [ConfigTesting.problem(
            22, 3, "", "key \"t7\" appears more than once in this mapping (first at line 9); the first is used")])
    }

    @Test func anUndefinedAliasIsOneProblem() {
        #expect(ConfigTesting.problems("tenants: *everyone\n") == [ConfigTesting.problem(
            1, 10, "", "not valid YAML: found undefined alias \"everyone\"")])
    }

    @Test func absurdNestingIsRefusedWithoutCrashing() {
        func nested(_ depth: Int) -> String {
            "tenants: " + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "\n"
        }
        #expect(ConfigTesting.problems(nested(600)) == [ConfigTesting.problem(1, 521, "", "nested deeper than 512 levels")])
        let problems = ConfigTesting.problems(nested(100_000))
        #expect(problems.count == 1)
        #expect(problems.first?.message.hasPrefix("not valid YAML: Maximum nesting level reached") == true)
    }

    @Test func aControlCharacterIsASyntaxErrorAtItsPosition() {
        #expect(ConfigTesting.problems("tenants:\n  acme:\n    name: A\u{7}\n") == [ConfigTesting.problem(
            3, 12, "", "not valid YAML: control characters are not allowed")])
    }

    @Test func twoDocumentsInOneFileAreRefused() {
        #expect(ConfigTesting.problems(ConfigTesting.acme() + "---\ntenants: {}\n") == [ConfigTesting.problem(
            7, 1, "", "the file holds more than one YAML document")])
    }

    @Test func mergeKeysAreRefusedClearly() {
        let yaml = """
            defaults: &defaults
              dialect: firstpromoter-v1
            tenants:
              acme:
                <<: *defaults
                name: Acme Affiliates
                api_keys: [ { id: acme-main, sha256: \(ConfigTesting.hashA) } ]
            """
        #expect(ConfigTesting.problems(yaml) == [
            ConfigTesting.problem(1, 1, "defaults", "unknown key \"defaults\""),
            ConfigTesting.problem(5, 5, "tenants.acme", "missing required key \"dialect\""),
            ConfigTesting.problem(5, 5, "tenants.acme.<<", "merge keys (<<) are not supported: write the keys out in each mapping"),
        ])
    }

    @Test func aDocumentThatIsNotAMappingIsOneProblem() {
        #expect(ConfigTesting.problems("- server\n- tenants\n") == [ConfigTesting.problem(
            1, 1, "", "expected a mapping with server, admin, storage and tenants, found a list")])
        #expect(ConfigTesting.problems("just words\n") == [ConfigTesting.problem(
            1, 1, "", "expected a mapping with server, admin, storage and tenants, found a string")])
    }

    @Test func theTenantsKeyIsRequired() {
        #expect(ConfigTesting.problems("server: { listen: 127.0.0.1:3000 }\n") == [ConfigTesting.problem(
            1, 1, "", "missing required key \"tenants\"")])
    }

    @Test func aMisspeltTopLevelKeyIsUnknownWithAHint() {
        let yaml = """
            server: { listen: 127.0.0.1:3000 }
            tenant:
              acme: {}
            """
        #expect(ConfigTesting.problems(yaml) == [
            ConfigTesting.problem(1, 1, "", "missing required key \"tenants\""),
            ConfigTesting.problem(2, 1, "tenant", "unknown key \"tenant\" (did you mean \"tenants\"?)"),
        ])
    }

    @Test func aKeyFarFromEveryKnownKeyHasNoHint() {
        #expect(ConfigTesting.problems(ConfigTesting.acme() + "logging: verbose\n") == [
            ConfigTesting.problem(7, 1, "logging", "unknown key \"logging\""),
        ])
    }

    @Test func problemDescriptionsAreFileLineColumnPathMessage() {
        let problem = ConfigTesting.problem(14, 9, "tenants.acme.statuses.payouts[3]", "unknown status word \"done\"")
        #expect(problem.description == "affhost.yaml:14:9 tenants.acme.statuses.payouts[3]: unknown status word \"done\"")
        let errors = ConfigErrors(problems: [problem, ConfigTesting.problem(1, 1, "", "file not found")])
        #expect(errors.description == """
            affhost.yaml:14:9 tenants.acme.statuses.payouts[3]: unknown status word "done"
            affhost.yaml:1:1: file not found
            """)
    }
}
