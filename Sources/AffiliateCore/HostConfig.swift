/// The validated, immutable configuration the server runs on: one snapshot of the YAML file.
///
/// Built only by the config module after every check passed; a reload builds a new one and
/// swaps it whole, so nothing ever sees a half-applied file.
public struct HostConfig: Sendable {
    public let sourcePath: String
    /// SHA-256 of the file's bytes: an unchanged file reloads as a no-op.
    public let digest: String
    public let server: ServerSettings
    public let admin: AdminSettings
    public let storage: StorageSettings
    /// `webhook_delivery:`, or its defaults.
    public let webhookDelivery: WebhookDeliverySettings
    /// In file order.
    public let tenants: [TenantConfig]
    public let tenantsByID: [String: TenantConfig]
    public let keys: KeyIndex
    /// Every tenant's declared webhook endpoints, enabled or not, by (tenant, endpoint id):
    /// derived once per loaded file, not on each pass of the delivery worker.
    public let webhookEndpoints: [WebhookEndpointKey: WebhookEndpoint]
    /// The enabled ones, which alone the worker leases deliveries for.
    public let enabledWebhookEndpoints: [WebhookEndpointKey: WebhookEndpoint]

    public init(
        sourcePath: String, digest: String, server: ServerSettings, admin: AdminSettings,
        storage: StorageSettings, webhookDelivery: WebhookDeliverySettings = WebhookDeliverySettings(),
        tenants: [TenantConfig]
    ) {
        self.sourcePath = sourcePath
        self.digest = digest
        self.server = server
        self.admin = admin
        self.storage = storage
        self.webhookDelivery = webhookDelivery
        self.tenants = tenants
        self.tenantsByID = Dictionary(tenants.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        self.keys = KeyIndex(tenants: tenants)
        var endpoints: [WebhookEndpointKey: WebhookEndpoint] = [:]
        for tenant in tenants {
            for endpoint in tenant.webhooks { endpoints[WebhookEndpointKey(tenant: tenant.id, endpoint: endpoint.id)] = endpoint }
        }
        self.webhookEndpoints = endpoints
        self.enabledWebhookEndpoints = endpoints.filter { $0.value.enabled }
    }

    /// The declared endpoints' keys: what a reload keeps queues for (webhooks.md §5.6).
    public var webhookEndpointKeys: Set<WebhookEndpointKey> { Set(webhookEndpoints.keys) }
}

public enum ListenAddress: Sendable, Hashable, CustomStringConvertible {
    case tcp(host: String, port: Int)
    case unix(path: String)

    public var description: String {
        switch self {
        case .tcp(let host, let port): host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        case .unix(let path): "unix:\(path)"
        }
    }
}

public struct ServerSettings: Sendable, Hashable {
    public var listen: ListenAddress
    public var maxBodyBytes: Int
    public init(listen: ListenAddress = .tcp(host: "127.0.0.1", port: 3000), maxBodyBytes: Int = 1_048_576) {
        self.listen = listen
        self.maxBodyBytes = maxBodyBytes
    }
}

public struct AdminSettings: Sendable, Hashable {
    public var listen: ListenAddress
    /// SHA-256 (hex) of the admin token; required when the admin API listens on TCP.
    public var tokenSHA256: String?
    public init(listen: ListenAddress = .unix(path: "data/admin.sock"), tokenSHA256: String? = nil) {
        self.listen = listen
        self.tokenSHA256 = tokenSHA256
    }
}

public struct StorageSettings: Sendable, Hashable {
    /// As written in the file (`sqlite:data/affhost.sqlite`, `postgres://...`).
    public var url: String
    public init(url: String = "sqlite:data/affhost.sqlite") { self.url = url }
}

/// One affiliate program.
///
/// Its fields live in one shared, immutable box: a snapshot holds each tenant in several places
/// (file order, by id, the reload's reuse tables), and a reload of a thousand tenants spent a
/// quarter of its time copying and releasing the fields of copies nobody changes.
public struct TenantConfig: Sendable, Hashable {
    private struct Fields: Sendable, Hashable {
        let id: String
        let name: String
        let dialect: String
        let currency: String
        let apiKeys: [APIKey]
        let statusPolicies: [String: StatusPolicy]
        let settings: [String: SettingValue]
        let campaigns: [Campaign]
        let rateLimit: RateLimit?
        let webhooks: [WebhookEndpoint]
        var seed: SeedData
    }

    private final class Box: Sendable {
        let fields: Fields
        init(_ fields: Fields) { self.fields = fields }
    }

    private let box: Box

    public var id: String { box.fields.id }
    public var name: String { box.fields.name }
    public var dialect: String { box.fields.dialect }
    /// ISO 4217 code used where a dialect renders money without one given.
    public var currency: String { box.fields.currency }
    public var apiKeys: [APIKey] { box.fields.apiKeys }
    /// Every status-bearing resource of the tenant's dialect, with the tenant's vocabulary or
    /// the dialect's default.
    public var statusPolicies: [String: StatusPolicy] { box.fields.statusPolicies }
    /// Dialect-declared settings (`payout_due_days`, `idempotency_window`, ...), already typed.
    public var settings: [String: SettingValue] { box.fields.settings }
    public var campaigns: [Campaign] { box.fields.campaigns }
    public var rateLimit: RateLimit? { box.fields.rateLimit }
    /// `webhooks:`, in YAML order, with their secrets resolved.
    public var webhooks: [WebhookEndpoint] { box.fields.webhooks }
    /// Demo or migrated records, validated by the dialect; loaded idempotently.
    public var seed: SeedData { box.fields.seed }

    public init(
        id: String, name: String, dialect: String, currency: String = "USD", apiKeys: [APIKey],
        statusPolicies: [String: StatusPolicy], settings: [String: SettingValue] = [:],
        campaigns: [Campaign] = [], rateLimit: RateLimit? = nil, webhooks: [WebhookEndpoint] = [],
        seed: SeedData = SeedData()
    ) {
        box = Box(Fields(
            id: id, name: name, dialect: dialect, currency: currency, apiKeys: apiKeys, statusPolicies: statusPolicies,
            settings: settings, campaigns: campaigns, rateLimit: rateLimit, webhooks: webhooks, seed: seed
        ))
    }

    private init(box: Box) { self.box = box }

    /// The same tenant without its fixture records, which a serving host drops once they are
    /// loaded. Copies every other field as it is, so a field added later cannot be lost here.
    public var withoutSeed: TenantConfig {
        guard !seed.isEmpty else { return self }
        var fields = box.fields
        fields.seed = SeedData()
        return TenantConfig(box: Box(fields))
    }

    public static func == (lhs: TenantConfig, rhs: TenantConfig) -> Bool {
        lhs.box === rhs.box || lhs.box.fields == rhs.box.fields
    }

    public func hash(into hasher: inout Hasher) { box.fields.hash(into: &hasher) }

    public func campaign(id: Int64) -> Campaign? { campaigns.first { $0.id == id } }
}

public struct APIKey: Sendable, Hashable {
    public let id: String
    /// Lower-case hex SHA-256 of the key; the key itself is never stored.
    public let sha256: String
    public let expiresAt: Timestamp?
    public init(id: String, sha256: String, expiresAt: Timestamp? = nil) {
        self.id = id
        self.sha256 = sha256
        self.expiresAt = expiresAt
    }
}

/// Requests allowed per key in a fixed window (`600/min`).
public struct RateLimit: Sendable, Hashable, CustomStringConvertible {
    public let requests: Int
    public let windowSeconds: Int
    public init(requests: Int, windowSeconds: Int) {
        self.requests = requests
        self.windowSeconds = windowSeconds
    }
    public var description: String {
        switch windowSeconds {
        case 1: "\(requests)/s"
        case 60: "\(requests)/min"
        case 3600: "\(requests)/h"
        default: "\(requests)/\(windowSeconds)s"
        }
    }
}

/// A campaign from the tenant's YAML (read-only through the API).
public struct Campaign: Sendable, Hashable {
    public let id: Int64
    public let name: String
    public let landingURL: String
    public let description: String?
    public let isPrivate: Bool
    public let color: String
    public let defaultWebhookURL: String
    public let autoApproveRewards: Bool
    public let autoApprovePromoters: Bool

    public init(
        id: Int64, name: String, landingURL: String, description: String? = nil, isPrivate: Bool = false,
        color: String = "#26a69a", defaultWebhookURL: String = "", autoApproveRewards: Bool = true,
        autoApprovePromoters: Bool = true
    ) {
        self.id = id
        self.name = name
        self.landingURL = landingURL
        self.description = description
        self.isPrivate = isPrivate
        self.color = color
        self.defaultWebhookURL = defaultWebhookURL
        self.autoApproveRewards = autoApproveRewards
        self.autoApprovePromoters = autoApprovePromoters
    }
}

/// A typed value of a dialect-declared tenant setting.
public enum SettingValue: Sendable, Hashable {
    case integer(Int)
    case seconds(Int64)
    case word(String)
    case text(String)

    public var integer: Int? { if case .integer(let v) = self { return v } else { return nil } }
    public var seconds: Int64? { if case .seconds(let v) = self { return v } else { return nil } }
    public var word: String? { if case .word(let v) = self { return v } else { return nil } }
    public var text: String? { if case .text(let v) = self { return v } else { return nil } }
}
