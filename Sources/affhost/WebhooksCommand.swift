import AffiliateCore
import ArgumentParser

/// `affhost webhooks ...`: the operator's tools for outgoing webhooks (webhooks.md §6). Only
/// `secret`, which needs no server, exists so far.
struct WebhooksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhooks",
        abstract: "Tools for the webhooks tenants send to their own systems.",
        subcommands: [Secret.self]
    )

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
