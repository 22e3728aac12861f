import AffiliateConfig
import AffiliateServer
import ArgumentParser
import Foundation

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve every tenant of the configuration file.",
        discussion: """
            Validates the file, opens the store (creating data/affhost.sqlite on first start),
            loads fixtures that are not stored yet, then serves until SIGTERM or Ctrl-C.

            Examples:
              affhost serve
              affhost serve --config /etc/affhost/affhost.yaml --log-level warning
            """
    )

    @Option(name: .shortAndLong, help: "The configuration file.")
    var config = "config/affhost.yaml"

    @OptionGroup var log: LogOptions

    func run() async throws {
        let logger = log.bootstrap(label: "affhost")
        let runtime: HostRuntime
        do {
            runtime = try await HostRuntime.start(
                configPath: config, registry: affhostProviders, documents: try affhostDocuments(), logger: logger
            )
        } catch let errors as ConfigErrors {
            FileHandle.standardError.write(Data((errors.description + "\n").utf8))
            throw ExitCode(1)
        } catch {
            FileHandle.standardError.write(Data("affhost: cannot start: \(error)\n".utf8))
            throw ExitCode(1)
        }
        try await runtime.run()
    }
}
