import AffiliateCore

/// Fixture records are written to the store once and then dropped from the configuration the
/// server keeps: a host seeded with a million records must not hold them in memory for its
/// whole life. What stays is a fingerprint per tenant, so a reload can still tell whether a
/// tenant's fixtures changed and need loading.
struct ServedConfig: Sendable {
    let config: HostConfig
    let seedFingerprints: [String: Int]

    init(_ loaded: HostConfig) {
        var fingerprints: [String: Int] = [:]
        let tenants = loaded.tenants.map { tenant -> TenantConfig in
            guard !tenant.seed.isEmpty else { return tenant }
            fingerprints[tenant.id] = tenant.seed.hashValue
            return tenant.withoutSeed
        }
        self.seedFingerprints = fingerprints
        self.config = HostConfig(
            sourcePath: loaded.sourcePath, digest: loaded.digest, server: loaded.server, admin: loaded.admin,
            storage: loaded.storage, tenants: tenants
        )
    }

    init(snapshot: HostSnapshot) {
        self.config = snapshot.config
        self.seedFingerprints = snapshot.seedFingerprints
    }

    /// Tenants of `loaded` whose settings or fixtures differ from what is served now.
    func changedTenants(in loaded: HostConfig) -> [TenantConfig] {
        loaded.tenants.filter { tenant in
            config.tenantsByID[tenant.id] != tenant.withoutSeed
                || seedFingerprints[tenant.id] != (tenant.seed.isEmpty ? nil : tenant.seed.hashValue)
        }
    }
}

extension TenantConfig {
    var withoutSeed: TenantConfig {
        guard !seed.isEmpty else { return self }
        return TenantConfig(
            id: id, name: name, dialect: dialect, currency: currency, apiKeys: apiKeys, statusPolicies: statusPolicies,
            settings: settings, campaigns: campaigns, rateLimit: rateLimit
        )
    }
}
