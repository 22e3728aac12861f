import AffiliateConfig
import AffiliateServer
import ArgumentParser
import Foundation
import Logging

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve every tenant of the configuration file.",
        discussion: """
            Validates the file, opens the store (creating data/affhost.sqlite on first start),
            loads fixtures that are not stored yet, then serves until SIGTERM or Ctrl-C.

            Every request is logged on one line (method, route template, status, duration, bytes,
            tenant, dialect, key id, request id; never a key or a body) and counted in the
            Prometheus metrics that `affhost metrics` prints. --access-log off and --metrics off
            turn either off, for benchmarks.

            Examples:
              affhost serve
              affhost serve --config /etc/affhost/affhost.yaml --log-level warning
              affhost serve --log-format json
              affhost serve --access-log off --metrics off
            """
    )

    @Option(name: .shortAndLong, help: "The configuration file.")
    var config = "config/affhost.yaml"

    @OptionGroup var log: LogOptions

    @Option(help: "One log line per request: on or off.")
    var accessLog: Switch = .on

    @Option(help: "Prometheus metrics on the admin listener (GET /metrics, `affhost metrics`): on or off.")
    var metrics: Switch = .on

    func run() async throws {
        let logger = log.bootstrap(label: "affhost")
        let runtime: HostRuntime
        do {
            runtime = try await HostRuntime.start(
                configPath: config, registry: affhostProviders, documents: try affhostDocuments(), logger: logger,
                accessLog: accessLog == .on ? log.accessLog() : nil,
                metrics: metrics == .on ? HostMetrics() : nil
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
