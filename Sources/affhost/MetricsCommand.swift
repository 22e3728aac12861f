import AffiliateServer
import ArgumentParser

struct MetricsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics",
        abstract: "Print the running server's Prometheus metrics (what GET /metrics on the admin listener answers).",
        discussion: """
            Requests by tenant, dialect, route and status class, latency histograms, store commits
            and checkpoints, reloads, rate-limit rejections, memory and open files, in the
            Prometheus text format. With several --admin addresses, each instance's text follows
            a "# affhost instance ADDRESS" line.

            Examples:
              affhost metrics
              affhost metrics | grep affhost_http_requests_total
              affhost metrics --admin 10.0.0.5:3001 --token-file /etc/affhost/admin.token
            """
    )

    @OptionGroup var admin: AdminOptions

    func run() async throws {
        let clients = try admin.clients()
        var failed = false
        for client in clients {
            do {
                let reply = try await client.get("/metrics")
                guard reply.status == 200, case .string(let text) = reply.body else {
                    printError("\(client.address): \(reply.problem)")
                    failed = true
                    continue
                }
                if clients.count > 1 { print("# affhost instance \(client.address)") }
                print(text, terminator: text.hasSuffix("\n") ? "" : "\n")
            } catch {
                printError("cannot reach the admin API at \(client.address): \(error)")
                failed = true
            }
        }
        if failed { throw ExitCode(1) }
    }
}
