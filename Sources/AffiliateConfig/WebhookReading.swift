import AffiliateCore

/// `webhooks:`: a tenant's endpoints (webhooks.md §2). Every problem of every endpoint is
/// reported; the tenant is refused when any endpoint is wrong.
extension ConfigReader {
    static let webhookKeys = ["id", "url", "events", "secrets", "timeout", "enabled", "dialect"]

    func readWebhooks(_ field: Field, dialect: DialectCatalog.Dialect?) -> [WebhookEndpoint] {
        guard let nodes = list(field, expected: "a list of webhook endpoints") else { return [] }
        let maximum = WebhookEndpoint.maximumPerTenant
        if nodes.count > maximum {
            problem("at most \(maximum) webhook endpoints per tenant, found \(nodes.count)", at: field.value, path: field.path)
        }
        var endpoints: [WebhookEndpoint] = []
        var idLines: [String: Int] = [:]
        for (index, node) in nodes.enumerated() {
            guard let fields = mapping(node, at: ConfigPath.index(field.path, index), known: Self.webhookKeys) else {
                continue
            }
            if let endpoint = readWebhook(fields, dialect: dialect, idLines: &idLines) { endpoints.append(endpoint) }
        }
        return endpoints
    }

    private func readWebhook(
        _ fields: Fields, dialect: DialectCatalog.Dialect?, idLines: inout [String: Int]
    ) -> WebhookEndpoint? {
        var complete = true
        if let dialectField = fields["dialect"] {
            // webhooks.md §2 gives endpoints a dialect only for tenants served in several
            // dialects over one ledger; affhost serves each tenant in one dialect so far.
            let served = dialect.map { " (\($0.provider.dialect))" } ?? ""
            problem("an endpoint's dialect is only for tenants served in several dialects, and this tenant has one\(served): remove it",
                    at: dialectField.keyNode, path: dialectField.path)
            complete = false
        }
        let id = readWebhookID(fields, idLines: &idLines)
        let url = readWebhookURL(fields)
        let events = readWebhookEvents(fields, dialect: dialect)
        let secrets = readWebhookSecrets(fields)
        var timeout = WebhookEndpoint.defaultTimeout
        if let field = fields.given("timeout") {
            let range = WebhookEndpoint.timeoutRange
            if let read = duration(field, minimum: (range.lowerBound, "1s"), maximum: (range.upperBound, "60s")) {
                timeout = read
            } else {
                complete = false
            }
        }
        var enabled = true
        if let field = fields.given("enabled") {
            if let read = bool(field) { enabled = read } else { complete = false }
        }
        guard complete, let id, let url, let events, let secrets else { return nil }
        return WebhookEndpoint(id: id, url: url, events: events, secrets: secrets, timeout: timeout, enabled: enabled)
    }

    /// `[a-z0-9_-]{1,64}`, unique in the tenant: deliveries are queued under it.
    private func readWebhookID(_ fields: Fields, idLines: inout [String: Int]) -> String? {
        guard let id = requiredText("id", in: fields), let field = fields["id"] else { return nil }
        guard Self.isTenantID(id), id.utf8.count <= WebhookEndpoint.maximumIDLength else {
            problem("invalid webhook id \"\(id)\": use 1 to \(WebhookEndpoint.maximumIDLength) lower-case letters, digits, \"-\" and \"_\"",
                    at: field.value, path: field.path)
            return nil
        }
        if let first = idLines[id] {
            problem("duplicate webhook id \"\(id)\" (first at line \(first))", at: field.value, path: field.path)
            return nil
        }
        idLines[id] = field.valuePosition.line
        return id
    }

    private func readWebhookURL(_ fields: Fields) -> String? {
        guard let url = requiredText("url", in: fields), let field = fields["url"] else { return nil }
        if let message = WebhookURLValidation.problem(in: url) {
            problem(message, at: field.value, path: field.path)
            return nil
        }
        return url
    }

    /// Names from the dialect's catalogue, or `["*"]` alone for everything it emits. Without a
    /// known dialect the shape is still checked; the names cannot be.
    private func readWebhookEvents(_ fields: Fields, dialect: DialectCatalog.Dialect?) -> WebhookEventSelection? {
        guard let field = fields["events"] else {
            missing("events", in: fields)
            return nil
        }
        guard let nodes = list(field, expected: "a list of event names (or [\"*\"] for all)") else { return nil }
        guard !nodes.isEmpty else {
            problem("must list at least one event, or \"*\" for all", at: field.value, path: field.path)
            return nil
        }
        var names: [String] = []
        var complete = true
        for (index, node) in nodes.enumerated() {
            let path = ConfigPath.index(field.path, index)
            guard let name = node.wordText, !name.isBlank else {
                typeProblem(expected: "an event name", node, path: path)
                complete = false
                continue
            }
            if name == "*" {
                if nodes.count > 1 {
                    problem("\"*\" already means every event: list it alone", at: node, path: path)
                    complete = false
                }
                continue
            }
            guard !names.contains(name) else {
                problem("duplicate event \"\(name)\"", at: node, path: path)
                complete = false
                continue
            }
            if let dialect, !dialect.webhookEvents.contains(name) {
                problem(Self.unknownEventMessage(name, dialect: dialect), at: node, path: path)
                complete = false
                continue
            }
            names.append(name)
        }
        guard complete else { return nil }
        return names.isEmpty ? .all : .only(names)
    }

    private static func unknownEventMessage(_ name: String, dialect: DialectCatalog.Dialect) -> String {
        let catalogue = dialect.webhookEvents
        guard !catalogue.isEmpty else {
            return "unknown event \"\(name)\" (dialect \(dialect.provider.dialect) emits no webhook events)"
        }
        let hint = Suggestion.closest(to: name, among: catalogue).map { "did you mean \"\($0)\"? " } ?? ""
        return "unknown event \"\(name)\" (\(hint)events of \(dialect.provider.dialect): \(catalogue.joined(separator: ", ")))"
    }
}
