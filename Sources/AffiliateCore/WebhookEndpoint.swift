/// One entry of a tenant's `webhooks:` list, validated and with its secrets resolved: where the
/// tenant's events go, which of them, and how each request is signed.
///
/// Printing one never shows a secret's key (see ``WebhookSecret``).
public struct WebhookEndpoint: Sendable, Hashable {
    /// `[a-z0-9_-]{1,64}`, unique in the tenant; deliveries are queued under it, so a new `url`
    /// for the same id takes over the endpoint's queue.
    public let id: String
    /// An absolute `http` or `https` URL without user info or fragment, as written.
    public let url: String
    public let events: WebhookEventSelection
    /// One or two; the first is the current secret. Every request carries one signature per
    /// secret, in this order, so that receivers can rotate.
    public let secrets: [WebhookSecret]
    /// Per attempt, from connect to the end of the response.
    public let timeout: Duration
    /// `false` holds the endpoint: no new deliveries are queued and queued ones wait untried.
    public let enabled: Bool

    public static let defaultTimeout = Duration.seconds(15)
    public static let timeoutRange = Duration.seconds(1)...Duration.seconds(60)
    /// Endpoints a tenant may declare.
    public static let maximumPerTenant = 16
    /// Endpoint ids are at most this long.
    public static let maximumIDLength = 64

    public init(
        id: String, url: String, events: WebhookEventSelection, secrets: [WebhookSecret],
        timeout: Duration = defaultTimeout, enabled: Bool = true
    ) {
        self.id = id
        self.url = url
        self.events = events
        self.secrets = secrets
        self.timeout = timeout
        self.enabled = enabled
    }

    /// Whether events of `type` are delivered here (disabled endpoints still subscribe: their
    /// deliveries are held, see ``enabled``).
    public func subscribes(to type: String) -> Bool { events.includes(type) }
}

/// The `events:` of an endpoint.
public enum WebhookEventSelection: Sendable, Hashable {
    /// `["*"]`: everything the tenant's dialect emits, including events added in later versions.
    case all
    /// Names from the dialect's catalogue (``Provider/webhookEvents``), in YAML order.
    case only([String])

    public func includes(_ type: String) -> Bool {
        switch self {
        case .all: true
        case .only(let types): types.contains(type)
        }
    }
}

extension TenantConfig {
    /// Whether a webhook secret of this tenant comes from a file. Such a file may be rewritten
    /// (a secret rotated) while the YAML stays the same, so a reload reads the tenant again
    /// instead of reusing it.
    public var readsWebhookSecretFiles: Bool {
        webhooks.contains { endpoint in endpoint.secrets.contains { $0.reference.isFile } }
    }
}
