import AffiliateConfig
import AffiliateCore
import AffiliateServer
import ArgumentParser
import Foundation

/// Where the running server's admin API is, for the verbs that talk to it.
struct AdminOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "The configuration file whose admin.listen names the server.")
    var config = "config/affhost.yaml"

    @Option(
        name: .customLong("admin"),
        help: "Admin address (unix:PATH or HOST:PORT); repeat it to address several instances. Default: admin.listen of --config."
    )
    var addresses: [String] = []

    @Option(help: "File holding the admin token (needed when the admin API listens on TCP). Also AFFHOST_ADMIN_TOKEN.")
    var tokenFile: String?

    func clients() throws -> [AdminClient] {
        let token = try readToken()
        if addresses.isEmpty {
            return [AdminClient(address: AdminClient.address(fromConfigFile: config), token: token)]
        }
        return try addresses.map { text in
            guard let address = AdminClient.Address(text) else {
                throw ValidationError("--admin \(text): expected unix:PATH or HOST:PORT")
            }
            return AdminClient(address: address, token: token)
        }
    }

    private func readToken() throws -> String? {
        if let tokenFile {
            guard let text = try? String(contentsOfFile: tokenFile, encoding: .utf8) else {
                throw ValidationError("--token-file \(tokenFile): cannot read it")
            }
            return text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return ProcessInfo.processInfo.environment["AFFHOST_ADMIN_TOKEN"]
    }
}

func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

struct ReloadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload",
        abstract: "Make the running server re-read its configuration file and apply it atomically.",
        discussion: """
            Prints what changed (tenants, keys, dialects) and exits 0; or prints every problem and
            exits 1, while the server keeps serving its previous configuration. An unchanged file
            is a no-op. With several --admin addresses, each instance is reloaded and reported.

            Examples:
              affhost reload
              affhost reload --config /etc/affhost/affhost.yaml
              affhost reload --admin 10.0.0.5:3001 --admin 10.0.0.6:3001 --token-file /etc/affhost/admin.token
            """
    )

    @OptionGroup var admin: AdminOptions

    func run() async throws {
        let clients = try admin.clients()
        var failed = false
        for client in clients {
            let prefix = clients.count > 1 ? "\(client.address): " : ""
            do {
                let reply = try await client.post("/reload")
                guard reply.status != 401 else {
                    printError(prefix + "admin token missing or wrong")
                    failed = true
                    continue
                }
                let lines = ReloadCommand.lines(of: reply)
                if reply.status == 200 {
                    lines.forEach { print(prefix + $0) }
                } else {
                    lines.forEach { printError(prefix + $0) }
                    failed = true
                }
            } catch {
                printError(prefix + "cannot reach the admin API at \(client.address): \(error)")
                failed = true
            }
        }
        if failed { throw ExitCode(1) }
    }

    /// Rebuilds the server's summary lines from its JSON answer.
    static func lines(of reply: AdminClient.Reply) -> [String] {
        let body = reply.body
        switch body["result"]?.stringValue {
        case "unchanged":
            return ["configuration unchanged; nothing to do"]
        case "refused":
            let errors = body["errors"]?.arrayValue?.compactMap(\.stringValue) ?? []
            return ["configuration refused; the previous configuration keeps serving"] + errors
        case "applied":
            var lines = ["configuration applied in \(body["milliseconds"]?.doubleValue ?? 0) ms"]
            let changes = body["changes"]
            for (key, label) in [
                ("tenants_added", "tenants added"), ("tenants_removed", "tenants removed"),
                ("tenants_changed", "tenants changed"), ("keys_added", "keys added"), ("keys_revoked", "keys revoked"),
            ] {
                let items = changes?[key]?.arrayValue?.compactMap(\.stringValue) ?? []
                if !items.isEmpty { lines.append("  \(label): \(items.joined(separator: ", "))") }
            }
            let moves = changes?["dialect_changes"]?.arrayValue ?? []
            if !moves.isEmpty {
                let text = moves.map { "\($0["tenant"]?.stringValue ?? "?") \($0["from"]?.stringValue ?? "?") -> \($0["to"]?.stringValue ?? "?")" }
                lines.append("  dialects changed: \(text.joined(separator: ", "))")
            }
            return lines
        default:
            return [reply.problem]
        }
    }
}

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the running server's configuration digest, tenants, store and last reload.",
        discussion: """
            Examples:
              affhost status
              affhost status --admin 127.0.0.1:3001 --token-file admin.token
            """
    )

    @OptionGroup var admin: AdminOptions

    func run() async throws {
        var failed = false
        for client in try admin.clients() {
            do {
                let reply = try await client.get("/status")
                guard reply.status == 200 else {
                    printError("\(client.address): \(reply.problem)")
                    failed = true
                    continue
                }
                let body = reply.body
                print("server:      \(client.address)")
                print("config:      \(body["config"]?.stringValue ?? "?") (sha256 \(body["digest"]?.stringValue ?? "?"))")
                print("loaded at:   \(body["loaded_at"]?.stringValue ?? "?")")
                print("uptime:      \(body["uptime_seconds"]?.integerValue ?? 0) s")
                print("listen:      \(body["listen"]?.stringValue ?? "?")")
                print("store:       \(body["store"]?.stringValue ?? "?")")
                let tenants = body["tenants"]?.arrayValue ?? []
                print("tenants:     \(tenants.count)")
                for tenant in tenants { print("  " + TenantsCommand.line(tenant)) }
                if let last = body["last_reload"], !last.isNull {
                    print("last reload: \(last["result"]?.stringValue ?? "?") at \(last["at"]?.stringValue ?? "?")")
                } else {
                    print("last reload: none since start")
                }
            } catch {
                printError("cannot reach the admin API at \(client.address): \(error)")
                failed = true
            }
        }
        if failed { throw ExitCode(1) }
    }
}

struct TenantsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenants",
        abstract: "List tenants with their dialects and key ids: from the running server, or from a file with --file.",
        discussion: """
            Examples:
              affhost tenants
              affhost tenants --file config/affhost.yaml
            """
    )

    @OptionGroup var admin: AdminOptions

    @Option(help: "Read this configuration file instead of asking the running server.")
    var file: String?

    func run() async throws {
        if let file {
            do {
                let config = try ConfigLoader(registry: affhostProviders).load(path: file)
                for tenant in config.tenants {
                    print(TenantsCommand.line(.object([
                        "id": .string(tenant.id), "name": .string(tenant.name), "dialect": .string(tenant.dialect),
                        "keys": .array(tenant.apiKeys.map { .string($0.id) }),
                    ])))
                }
            } catch {
                printError(error.description)
                throw ExitCode(1)
            }
            return
        }
        guard let client = try admin.clients().first else { return }
        do {
            let reply = try await client.get("/tenants")
            guard reply.status == 200 else {
                printError(reply.problem)
                throw ExitCode(1)
            }
            for tenant in reply.body["tenants"]?.arrayValue ?? [] { print(TenantsCommand.line(tenant)) }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            printError("cannot reach the admin API at \(client.address): \(error)")
            throw ExitCode(1)
        }
    }

    static func line(_ tenant: JSONValue) -> String {
        let keys = tenant["keys"]?.arrayValue?.compactMap(\.stringValue).joined(separator: ", ") ?? ""
        return "\(tenant["id"]?.stringValue ?? "?")  \(tenant["dialect"]?.stringValue ?? "?")  \"\(tenant["name"]?.stringValue ?? "")\"  keys: \(keys)"
    }
}

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Show who changed a record's status, when, from which key and request.",
        discussion: """
            Examples:
              affhost audit --tenant acme --resource payouts --id 2710287
              affhost audit --tenant campus --resource earnings --id earn_123abc
            """
    )

    @OptionGroup var admin: AdminOptions
    @Option(help: "Tenant id.") var tenant: String
    @Option(help: "Resource (payouts, rewards, earnings, referrals, ...).") var resource: String
    @Option(help: "Record id.") var id: String

    func run() async throws {
        guard let client = try admin.clients().first else { return }
        let query = [("tenant", tenant), ("resource", resource), ("id", id)]
            .map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0.1)" }
            .joined(separator: "&")
        let reply: AdminClient.Reply
        do {
            reply = try await client.get("/audit?" + query)
        } catch {
            printError("cannot reach the admin API at \(client.address): \(error)")
            throw ExitCode(1)
        }
        guard reply.status == 200 else {
            printError(reply.problem)
            throw ExitCode(1)
        }
        let events = reply.body["events"]?.arrayValue ?? []
        if events.isEmpty { print("no status changes recorded for \(tenant) \(resource) \(id)") }
        for event in events {
            let from = event["from"]?.stringValue ?? "(created)"
            print("\(event["at"]?.stringValue ?? "?")  \(from) -> \(event["to"]?.stringValue ?? "?")  key \(event["key_id"]?.stringValue ?? "?")  request \(event["request_id"]?.stringValue ?? "?")")
        }
    }
}
