import AffiliateConfig
import ArgumentParser
import Foundation

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate a configuration file without serving it (like `nginx -t`).",
        discussion: """
            Exits 0 with a one-line summary, or exits 1 listing every problem as
            file:line:col path: message.

            Examples:
              affhost check
              affhost check config/affhost.yaml
            """
    )

    @Argument(help: "The configuration file.")
    var file = "config/affhost.yaml"

    func run() throws {
        do {
            let config = try ConfigLoader(registry: affhostProviders).load(path: file)
            let keys = config.tenants.reduce(0) { $0 + $1.apiKeys.count }
            let dialects = Set(config.tenants.map(\.dialect)).sorted().joined(separator: ", ")
            print("\(file): ok (\(config.tenants.count) tenants, \(keys) keys; dialects: \(dialects.isEmpty ? "none" : dialects))")
        } catch {
            FileHandle.standardError.write(Data((error.description + "\n").utf8))
            let count = error.problems.count
            FileHandle.standardError.write(Data("\(file): \(count) problem\(count == 1 ? "" : "s")\n".utf8))
            throw ExitCode(1)
        }
    }
}
