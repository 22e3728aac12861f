import AffiliateCore

/// One tenant: its identity, dialect, keys, vocabularies, campaigns, settings, fixtures and
/// webhook endpoints.
extension ConfigReader {
    static let tenantKeys = [
        "name", "dialect", "currency", "api_keys", "statuses", "transitions", "campaigns", "rate_limit", "fixtures",
        "webhooks",
    ]

    func readTenants(_ field: Field?, in root: Fields) -> [TenantConfig] {
        guard let field else {
            missing("tenants", in: root)
            return []
        }
        guard let fields = mapping(field.value, at: field.path, expected: "a mapping of tenant ids to tenants") else {
            return []
        }
        var tenants: [TenantConfig] = []
        tenants.reserveCapacity(fields.count)
        keyOwners.reserveCapacity(fields.count * 2)
        tenantSources.reserveCapacity(fields.count)
        for tenant in fields.all {
            if let reused = layout.reused[tenant.key], reused.node === tenant.value {
                tenants.append(reuse(reused.source, as: tenant))
            } else if let config = readTenant(tenant) {
                tenants.append(config)
                rememberSource(of: config, readFrom: tenant)
            }
        }
        return tenants
    }

    /// A tenant whose text is the previous load's: its configuration is the one read then; its
    /// keys still take part in the duplicate check, at the lines they stand at now.
    private func reuse(_ source: TenantSource, as field: Field) -> TenantConfig {
        for (index, (key, position)) in zip(source.config.apiKeys, source.keyHashPositions).enumerated() {
            claimKey(key.sha256, keyID: key.id, tenant: field.key, at: position,
                     path: ConfigPath.child(ConfigPath.index(ConfigPath.child(field.path, "api_keys"), index), "sha256"))
        }
        tenantSources[field.key] = source
        return source.config
    }

    /// Keeps what the next load needs to reuse a tenant just read, when its text depends on
    /// nothing else in the file and it names no fixture file and no webhook secret file: those
    /// files may change while the YAML does not (a secret rotated by rewriting its file), and a
    /// reload must see them anew. `{env: NAME}` secrets do not stop reuse: a reload sees the
    /// environment the server started with, so reading them again would give the same keys.
    private func rememberSource(of config: TenantConfig, readFrom field: Field) {
        guard let span = layout.spans[field.key], keyHashPositions.count == config.apiKeys.count,
              case .mapping(let pairs) = field.value.content,
              !pairs.contains(where: { $0.key.scalarText == "fixtures" }),
              !config.readsWebhookSecretFiles
        else { return }
        tenantSources[field.key] = TenantSource(
            bytes: span.bytes, position: span.position, idColumn: span.idColumn, following: span.following,
            config: config, keyHashPositions: keyHashPositions)
    }

    /// The tenant, or `nil` when anything about it is wrong (every problem is recorded).
    func readTenant(_ field: Field) -> TenantConfig? {
        let problemsBefore = log.count
        keyHashPositions.removeAll(keepingCapacity: true)
        let id = field.key
        if !Self.isTenantID(id) {
            problem("invalid tenant id \"\(id)\": use only lower-case letters, digits, \"-\" and \"_\"",
                    at: field.keyNode, path: field.path)
        }
        guard let fields = mapping(field.value, at: field.path) else { return nil }

        let dialect = readDialect(fields)
        let settings = readSettings(fields, dialect: dialect)
        let name = requiredText("name", in: fields)
        let currency = readCurrency(fields.given("currency"))
        let apiKeys = readAPIKeys(fields, tenant: id)
        let policies = readStatusPolicies(
            statuses: fields.given("statuses"), transitions: fields.given("transitions"), dialect: dialect,
            tenant: fields)
        let campaigns = fields.given("campaigns").map(readCampaigns) ?? []
        let rateLimit = fields.given("rate_limit").flatMap(readRateLimit)
        let fixtures = fields.given("fixtures").flatMap { fixturesField in
            nonEmptyText(fixturesField).map { (field: fixturesField, path: $0) }
        }
        let document = fixtures.flatMap { fixtureDocument(path: $0.path, namedBy: $0.field) }
        let webhooks = fields.given("webhooks").map { readWebhooks($0, dialect: dialect) } ?? []

        guard log.count == problemsBefore, let provider = dialect?.provider, let name, let currency,
              let apiKeys, let policies
        else { return nil }
        let tenant = TenantConfig(
            id: id, name: name, dialect: provider.dialect, currency: currency, apiKeys: apiKeys,
            statusPolicies: policies, settings: settings, campaigns: campaigns, rateLimit: rateLimit,
            webhooks: webhooks)
        guard let fixtures else { return tenant }
        guard let document else { return nil }
        guard let seed = seedData(for: tenant, provider: provider, from: document, file: fixtures.path,
                                 namedBy: fixtures.field) else {
            return nil
        }
        return TenantConfig(
            id: id, name: name, dialect: provider.dialect, currency: currency, apiKeys: apiKeys,
            statusPolicies: policies, settings: settings, campaigns: campaigns, rateLimit: rateLimit,
            webhooks: webhooks, seed: seed)
    }

    static func isTenantID(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
        }
    }

    private func readDialect(_ fields: Fields) -> DialectCatalog.Dialect? {
        guard let field = fields["dialect"] else {
            missing("dialect", in: fields)
            return nil
        }
        guard let name = nonEmptyText(field) else { return nil }
        guard let dialect = dialects[name] else {
            let hint = Suggestion.closest(to: name, among: dialects.names).map { "did you mean \"\($0)\"? " } ?? ""
            problem("unknown dialect \"\(name)\" (\(hint)known dialects: \(dialects.names.joined(separator: ", ")))",
                    at: field.value, path: field.path)
            return nil
        }
        return dialect
    }

    /// Every key that is not a host key must be a setting of the tenant's dialect. When the
    /// dialect is missing or unknown, keys some other dialect declares are left alone: the
    /// dialect problem is the one to fix first.
    private func readSettings(_ fields: Fields, dialect: DialectCatalog.Dialect?) -> [String: SettingValue] {
        var settings: [String: SettingValue] = [:]
        for field in fields.fields(notIn: Self.tenantKeys) {
            let owners = dialects.dialects(declaring: field.key)
            guard let resolved = dialect else {
                if owners.isEmpty { unknownKey(field, candidates: Self.tenantKeys) }
                continue
            }
            if let setting = resolved.settings[field.key] {
                if !field.value.isNull, let value = settingValue(field, setting) { settings[field.key] = value }
            } else if !owners.isEmpty {
                let declaredBy = owners.joined(separator: ", ")
                problem("unknown key \"\(field.key)\": it is a setting of \(declaredBy), not of \(resolved.provider.dialect)",
                        at: field.keyNode, path: field.path)
            } else {
                unknownKey(field, candidates: Self.tenantKeys + resolved.settingNames)
            }
        }
        return settings
    }

    private func readCurrency(_ field: Field?) -> String? {
        guard let field else { return "USD" }
        guard let code = text(field) else { return nil }
        guard code.utf8.count == 3, code.utf8.allSatisfy({ (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) }) else {
            problem("invalid currency \"\(code)\": expected three upper-case letters (ISO 4217, such as USD)",
                    at: field.value, path: field.path)
            return nil
        }
        return code
    }

    private func readRateLimit(_ field: Field) -> RateLimit? {
        guard let text = text(field) else { return nil }
        guard let limit = RateLimit(parsing: text) else {
            problem("invalid rate limit \"\(text)\": expected N/s, N/min or N/h with N at least 1 (600/min)",
                    at: field.value, path: field.path)
            return nil
        }
        return limit
    }
}
