public import Hummingbird

/// One vendor dialect: everything affhost knows about one vendor's REST API.
///
/// The host authenticates, picks the tenant and hands the request to the tenant's provider;
/// the provider parses its dialect, calls the engine and renders the engine's answers and
/// errors in its own shapes. Adding a dialect means one module conforming to this protocol and
/// one line in the executable's registry.
public protocol Provider: Sendable {
    /// The `dialect:` value tenants select this provider with (`firstpromoter-v1`).
    var dialect: String { get }
    /// The resources this dialect serves, with their default status vocabularies.
    var resources: [ResourceDescriptor] { get }
    /// Tenant settings this dialect reads; `check` refuses settings no dialect declares.
    var settings: [SettingDescriptor] { get }
    /// The webhook event types this dialect emits (webhooks.md §3), in the order its docs list
    /// them: the catalogue a tenant's `webhooks[].events` are checked against, and what `"*"`
    /// subscribes to. Each dialect owns its names and envelope, so this is not shared.
    var webhookEvents: [String] { get }

    /// Reads a credential in this dialect's style (`X-API-KEY`, `Authorization: Bearer`).
    func credential(in request: Request) -> PresentedCredential
    /// Whether a path belongs to this dialect; picks the error style when no credential came.
    func recognizes(path: String) -> Bool
    /// Host-level failures (401, 413, 429, 503, 500) in this dialect's error shape.
    func response(for error: HostError) -> Response
    /// Registers the dialect's routes. The router is built once per process; everything about
    /// the tenant arrives in the context.
    func addRoutes(to router: Router<TenantRequestContext>)
    /// Validates fixture or import input and shapes it into records.
    func seedData(from document: JSONValue, tenant: TenantConfig) throws(SeedProblems) -> SeedData
}

public enum PresentedCredential: Sendable, Hashable {
    /// This dialect's header is absent.
    case absent
    /// The header is there but not in a usable form (`Authorization: Basic ...`, empty value).
    case malformed
    case key(String)
}

public struct ResourceDescriptor: Sendable, Hashable {
    /// The config key under `statuses:` / `transitions:` (`payouts`).
    public let name: String
    /// Words a tenant may list without giving a phase, in the dialect's order.
    public let knownWords: [(word: String, phase: Phase)]
    /// The vocabulary used when the tenant declares none; its first word is the initial status.
    public let defaultWords: [String]
    /// Where the resource's records keep their ``Amount``, for stores that hold records from
    /// before amounts were kept apart; `nil`: its records carry none.
    public let amount: AmountRule?

    public init(
        name: String, knownWords: [(word: String, phase: Phase)], defaultWords: [String], amount: AmountRule? = nil
    ) {
        self.name = name
        self.knownWords = knownWords
        self.defaultWords = defaultWords
        self.amount = amount
    }

    public func knownPhase(of word: String) -> Phase? { knownWords.first { $0.word == word }?.phase }

    public var defaultVocabulary: Vocabulary {
        Vocabulary(defaultWords.map { word in (word, knownPhase(of: word) ?? .open) })
    }

    public static func == (lhs: ResourceDescriptor, rhs: ResourceDescriptor) -> Bool {
        lhs.name == rhs.name && lhs.defaultWords == rhs.defaultWords
            && lhs.knownWords.map(\.word) == rhs.knownWords.map(\.word)
            && lhs.knownWords.map(\.phase) == rhs.knownWords.map(\.phase)
    }
    public func hash(into hasher: inout Hasher) { hasher.combine(name) }
}

public struct SettingDescriptor: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// A whole number within the range.
        case integer(ClosedRange<Int>)
        /// `90s`, `15m`, `24h`, `7d`, stored as seconds.
        case duration
        /// One of the listed words.
        case choice([String])
        case text
    }

    public let name: String
    public let kind: Kind
    public let summary: String

    public init(name: String, kind: Kind, summary: String) {
        self.name = name
        self.kind = kind
        self.summary = summary
    }
}

/// Failures the host detects before a dialect's routes run.
public enum HostError: Error, Sendable, Hashable {
    case unauthorized
    case payloadTooLarge(limit: Int)
    case rateLimited(RateLimitState)
    /// Storage is unreachable; clients may retry.
    case unavailable
    /// A bug: logged with the request id, answered without details.
    case internalError
}

/// The counters behind `X-RateLimit-*` headers.
public struct RateLimitState: Sendable, Hashable {
    public let limit: Int
    public let remaining: Int
    /// Unix seconds when the current window ends.
    public let resetAt: Int64
    public let retryAfterSeconds: Int

    public init(limit: Int, remaining: Int, resetAt: Int64, retryAfterSeconds: Int) {
        self.limit = limit
        self.remaining = remaining
        self.resetAt = resetAt
        self.retryAfterSeconds = retryAfterSeconds
    }
}

/// Looks providers up by dialect id; the executable lists the compiled-in dialects.
public struct ProviderRegistry: Sendable {
    public let providers: [any Provider]

    public init(_ providers: [any Provider]) { self.providers = providers }

    public func provider(for dialect: String) -> (any Provider)? {
        providers.first { $0.dialect == dialect }
    }

    public var dialects: [String] { providers.map(\.dialect) }

    /// Every compiled-in resource's amount rule, by resource name (see ``Store/deriveAmounts(_:)``).
    /// Dialects that serve one ledger name the same resources with the same rule; the first wins.
    public var amountRules: [String: AmountRule] {
        var rules: [String: AmountRule] = [:]
        for provider in providers {
            for resource in provider.resources where rules[resource.name] == nil {
                if let rule = resource.amount { rules[resource.name] = rule }
            }
        }
        return rules
    }
}
