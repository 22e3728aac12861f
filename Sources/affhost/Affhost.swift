import ArgumentParser

@main
struct Affhost: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "affhost",
        abstract: "Hosts many affiliate programs, each speaking its vendor's REST dialect.",
        discussion: """
            Tenants, keys, dialects and vocabularies live in one YAML file (default
            config/affhost.yaml). `serve` runs it; `check` validates it like `nginx -t`.

            Examples:
              affhost serve
              affhost check config/affhost.yaml
              affhost keys generate --prefix sk_
            """,
        subcommands: [
            ServeCommand.self, CheckCommand.self, ReloadCommand.self, StatusCommand.self, TenantsCommand.self,
            AuditCommand.self, MetricsCommand.self, KeysCommand.self, ImportCommand.self, OpenAPICommand.self,
            WebhooksCommand.self,
        ]
    )
}
