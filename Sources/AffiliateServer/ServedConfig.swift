import AffiliateConfig
import AffiliateCore

/// Fixture records are written to the store once and then dropped from the configuration the
/// server keeps: a host seeded with a million records must not hold them in memory for its
/// whole life. What stays is a fingerprint per tenant, so a reload can still tell whether a
/// tenant's fixtures changed and need loading.
struct ServedConfig: Sendable {
    let config: HostConfig
    let seedFingerprints: [String: Int]
    /// What the next reload may reuse of the file this configuration was read from.
    let source: ConfigSource

    init(_ loaded: HostConfig, source: ConfigSource) {
        self.source = source
        guard loaded.tenants.contains(where: { !$0.seed.isEmpty }) else {
            self.config = loaded
            self.seedFingerprints = [:]
            return
        }
        var fingerprints: [String: Int] = [:]
        let tenants = loaded.tenants.map { tenant -> TenantConfig in
            guard !tenant.seed.isEmpty else { return tenant }
            fingerprints[tenant.id] = tenant.seed.hashValue
            return tenant.withoutSeed
        }
        self.seedFingerprints = fingerprints
        self.config = HostConfig(
            sourcePath: loaded.sourcePath, digest: loaded.digest, server: loaded.server, admin: loaded.admin,
            storage: loaded.storage, webhookDelivery: loaded.webhookDelivery, tenants: tenants
        )
    }

    init(snapshot: HostSnapshot) {
        self.config = snapshot.config
        self.seedFingerprints = snapshot.seedFingerprints
        self.source = snapshot.source
    }

    /// Tenants of `loaded` whose settings or fixtures differ from what is served now.
    /// `unchanged` are known to be the served ones (the loader reused them): not compared.
    func changedTenants(in loaded: HostConfig, unchanged: Set<String> = []) -> [TenantConfig] {
        loaded.tenants.filter { tenant in
            guard !unchanged.contains(tenant.id) else { return false }
            return config.tenantsByID[tenant.id] != tenant.withoutSeed
                || seedFingerprints[tenant.id] != (tenant.seed.isEmpty ? nil : tenant.seed.hashValue)
        }
    }
}

