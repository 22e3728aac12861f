import AffiliateCore
import AffiliateServer
import ArgumentParser
import Foundation

/// `affhost webhooks ...`: the operator's tools for outgoing webhooks (webhooks.md §6). Every
/// verb but `secret` talks to the running server's admin API, like `reload`; any failure exits 1.
struct WebhooksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhooks",
        abstract: "Tools for the webhooks tenants send to their own systems.",
        subcommands: [List.self, Show.self, Retry.self, Replay.self, Resume.self, Secret.self]
    )

    /// One admin call; a failure to reach the server or an error answer is printed and exits 1.
    static func call(_ admin: AdminOptions, _ method: String, _ path: String, json: JSONValue? = nil) async throws -> JSONValue {
        guard let client = try admin.clients().first else { throw ExitCode(1) }
        let reply: AdminClient.Reply
        do {
            reply = if let json { try await client.post(path, json: json) } else if method == "POST" {
                try await client.post(path)
            } else {
                try await client.get(path)
            }
        } catch {
            printError("cannot reach the admin API at \(client.address): \(error)")
            throw ExitCode(1)
        }
        guard reply.status == 200 else {
            printError(reply.problem)
            throw ExitCode(1)
        }
        return reply.body
    }

    static func query(_ pairs: [(String, String?)]) -> String {
        let given = pairs.compactMap { name, value in
            value.map { "\(name)=\($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0)" }
        }
        return given.isEmpty ? "" : "?" + given.joined(separator: "&")
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "List webhook deliveries, newest first.",
            discussion: """
                Examples:
                  affhost webhooks list
                  affhost webhooks list --tenant acme --state failed
                  affhost webhooks list --since 2024-09-12T00:00:00Z --json
                """
        )

        @OptionGroup var admin: AdminOptions
        @Option(help: "Only this tenant's deliveries.") var tenant: String?
        @Option(help: "Only this endpoint's deliveries (an endpoint id).") var endpoint: String?
        @Option(help: "pending, retrying, delivered, failed or cancelled.") var state: String?
        @Option(help: "Only deliveries queued at or after this time (ISO 8601).") var since: String?
        @Option(help: "At most this many (1-500).") var limit = 50
        @Flag(help: "Print the admin API's JSON answer.") var json = false

        func run() async throws {
            let path = "/webhooks/deliveries" + WebhooksCommand.query([
                ("tenant", tenant), ("endpoint", endpoint), ("state", state), ("since", since), ("limit", String(limit)),
            ])
            let body = try await WebhooksCommand.call(admin, "GET", path)
            if json {
                print(body.serialized)
                return
            }
            let deliveries = body["deliveries"]?.arrayValue ?? []
            let rows = deliveries.map { delivery -> [String] in
                let last = delivery["response_code"]?.integerValue.map(String.init) ?? delivery["last_error"]?.stringValue ?? "-"
                return [
                    delivery["id"]?.integerValue.map(String.init) ?? "?", text(delivery["tenant"]), text(delivery["endpoint"]),
                    text(delivery["event_type"]), text(delivery["event_id"]), text(delivery["state"]),
                    delivery["attempts"]?.integerValue.map(String.init) ?? "0", text(delivery["next_attempt_at"]), last,
                ]
            }
            let header = ["ID", "TENANT", "ENDPOINT", "TYPE", "EVENT ID", "STATE", "ATTEMPTS", "NEXT", "LAST STATUS/ERROR"]
            for line in table([header] + rows) { print(line) }
            if deliveries.isEmpty { print("no deliveries") }
        }

        private func text(_ value: JSONValue?) -> String { value?.stringValue ?? "-" }

        /// Columns padded to their widest cell; the last one is left as it is.
        private func table(_ rows: [[String]]) -> [String] {
            let widths = (0..<rows[0].count).map { column in rows.map { $0[column].count }.max() ?? 0 }
            return rows.map { row in
                row.enumerated().map { index, cell in
                    index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
                }.joined(separator: "  ")
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show",
            abstract: "Show one delivery with its attempts and the body it sends (JSON).",
            discussion: "Example:\n  affhost webhooks show 42"
        )

        @OptionGroup var admin: AdminOptions
        @Argument(help: "The delivery id (from `affhost webhooks list`).") var id: Int64

        func run() async throws {
            print(try await WebhooksCommand.call(admin, "GET", "/webhooks/deliveries/\(id)").serialized)
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "retry",
            abstract: "Send deliveries again now, on a fresh retry schedule.",
            discussion: "Example:\n  affhost webhooks retry 42 43"
        )

        @OptionGroup var admin: AdminOptions
        @Argument(help: "Delivery ids.") var ids: [Int64]

        func validate() throws {
            if ids.isEmpty { throw ValidationError("name at least one delivery id") }
        }

        func run() async throws {
            var failed = false
            for id in ids {
                do {
                    let delivery = try await WebhooksCommand.call(admin, "POST", "/webhooks/deliveries/\(id)/retry")
                    print("delivery \(id): \(delivery["state"]?.stringValue ?? "?"), due now")
                } catch {
                    failed = true
                }
            }
            if failed { throw ExitCode(1) }
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "replay",
            abstract: "Send again the deliveries of events committed in a time window.",
            discussion: """
                Only failed and cancelled deliveries, unless --all.

                Examples:
                  affhost webhooks replay --since 2024-09-12T00:00:00Z
                  affhost webhooks replay --since 2024-09-12T00:00:00Z --until 2024-09-13T00:00:00Z --tenant acme --all
                """
        )

        @OptionGroup var admin: AdminOptions
        @Option(help: "Start of the window (ISO 8601).") var since: String
        @Option(help: "End of the window (ISO 8601, exclusive).") var until: String?
        @Option(help: "Only this tenant's deliveries.") var tenant: String?
        @Option(help: "Only this endpoint's deliveries.") var endpoint: String?
        @Flag(help: "Also delivered and queued ones.") var all = false

        func run() async throws {
            var body: JSONObject = ["since": .string(since), "all": .bool(all)]
            if let until { body["until"] = .string(until) }
            if let tenant { body["tenant"] = .string(tenant) }
            if let endpoint { body["endpoint"] = .string(endpoint) }
            let answer = try await WebhooksCommand.call(admin, "POST", "/webhooks/replay", json: .object(body))
            print("\(answer["replayed"]?.integerValue ?? 0) deliveries due again")
        }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "resume",
            abstract: "Resume an endpoint a receiver paused by answering 410 Gone.",
            discussion: "Example:\n  affhost webhooks resume acme/crm"
        )

        @OptionGroup var admin: AdminOptions
        @Argument(help: "TENANT/ENDPOINT.") var endpoint: String

        func run() async throws {
            let parts = endpoint.split(separator: "/", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw ValidationError("expected TENANT/ENDPOINT, such as acme/crm") }
            let answer = try await WebhooksCommand.call(admin, "POST", "/webhooks/endpoints/\(parts[0])/\(parts[1])/resume")
            print(answer["resumed"] == .bool(true) ? "\(endpoint) resumed" : "\(endpoint) was not paused")
        }
    }

    struct Secret: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "secret",
            abstract: "Print a new webhook signing secret (whsec_ and 32 random bytes in base64).",
            discussion: """
                Store it where an endpoint's secrets reference it, never in the YAML itself:
                in a file named by {file: PATH} or a variable named by {env: NAME}. Give the
                same secret to the receiver, which verifies each request's signature with it.

                Examples:
                  affhost webhooks secret > secrets/acme-crm.whsec
                  export AFFHOST_WHSEC_ACME_CRM="$(affhost webhooks secret)"
                """
        )

        func run() {
            print(WebhookSecret.newText())
        }
    }
}
