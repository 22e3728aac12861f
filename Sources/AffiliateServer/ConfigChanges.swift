import AffiliateCore

/// What a reload changed, as operators read it: tenants and keys by id, never key material.
public struct ConfigChanges: Sendable, Hashable {
    public var tenantsAdded: [String] = []
    public var tenantsRemoved: [String] = []
    public var tenantsChanged: [String] = []
    /// `tenant/key-id`
    public var keysAdded: [String] = []
    public var keysRevoked: [String] = []
    public var dialectChanges: [DialectChange] = []

    public struct DialectChange: Sendable, Hashable {
        public let tenant: String
        public let from: String
        public let to: String
    }

    public init() {}

    public init(from old: HostConfig, to new: HostConfig) {
        self.init(from: old, to: new, unchanged: [])
    }

    /// `unchanged`: tenants of `new` known to be the same as in `old` (a reload reused them
    /// from the previous file's text), which are not compared.
    public init(from old: HostConfig, to new: HostConfig, unchanged: Set<String>) {
        for tenant in new.tenants where !unchanged.contains(tenant.id) {
            guard let previous = old.tenantsByID[tenant.id] else {
                tenantsAdded.append(tenant.id)
                keysAdded += tenant.apiKeys.map { "\(tenant.id)/\($0.id)" }
                continue
            }
            if previous != tenant { tenantsChanged.append(tenant.id) }
            if previous.dialect != tenant.dialect {
                dialectChanges.append(DialectChange(tenant: tenant.id, from: previous.dialect, to: tenant.dialect))
            }
            let before = Set(previous.apiKeys.map { "\($0.id)\u{0}\($0.sha256)" })
            let after = Set(tenant.apiKeys.map { "\($0.id)\u{0}\($0.sha256)" })
            keysAdded += tenant.apiKeys.filter { !before.contains("\($0.id)\u{0}\($0.sha256)") }.map { "\(tenant.id)/\($0.id)" }
            keysRevoked += previous.apiKeys.filter { !after.contains("\($0.id)\u{0}\($0.sha256)") }.map { "\(tenant.id)/\($0.id)" }
        }
        for tenant in old.tenants where new.tenantsByID[tenant.id] == nil {
            tenantsRemoved.append(tenant.id)
            keysRevoked += tenant.apiKeys.map { "\(tenant.id)/\($0.id)" }
        }
    }

    public var isEmpty: Bool {
        tenantsAdded.isEmpty && tenantsRemoved.isEmpty && tenantsChanged.isEmpty && keysAdded.isEmpty
            && keysRevoked.isEmpty && dialectChanges.isEmpty
    }

    public var json: JSONValue {
        .object([
            "tenants_added": .array(tenantsAdded.map(JSONValue.string)),
            "tenants_removed": .array(tenantsRemoved.map(JSONValue.string)),
            "tenants_changed": .array(tenantsChanged.map(JSONValue.string)),
            "keys_added": .array(keysAdded.map(JSONValue.string)),
            "keys_revoked": .array(keysRevoked.map(JSONValue.string)),
            "dialect_changes": .array(dialectChanges.map {
                .object(["tenant": .string($0.tenant), "from": .string($0.from), "to": .string($0.to)])
            }),
        ])
    }
}
