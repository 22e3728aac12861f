import AffiliateCore
import Foundation

/// Turns the YAML file into a validated ``HostConfig``, or into every problem it has.
///
/// The server loads with it at start and on every reload, `affhost check` without serving;
/// all of them need the whole list of problems at once, each with file, line, column and path.
public struct ConfigLoader: Sendable {
    private let registry: ProviderRegistry
    private let environment: [String: String]

    /// `environment` is where `{env: NAME}` webhook secrets are read: the process's environment
    /// as it is when the loader is made. A server makes its loader once, at start, so a reload
    /// sees the same variables (webhooks.md §2) while it reads `{file: PATH}` secrets anew.
    public init(registry: ProviderRegistry, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.registry = registry
        self.environment = environment
    }

    /// Reads and validates the file; fixture files it names are read and validated too.
    public func load(path: String) throws(ConfigErrors) -> HostConfig {
        try loadFile(path: path).config
    }

    /// Same, with the file's source, which the first reload of a server started from it reuses.
    public func loadFile(path: String) throws(ConfigErrors) -> LoadedConfig {
        switch FileText.read(path) {
        case .unreadable(let reason):
            throw ConfigErrors(problems: [ConfigProblem(file: path, line: 1, column: 1, path: "", message: reason)])
        case .bytes(let bytes):
            return try load(bytes: bytes, digest: KeyDigest.sha256Hex(bytes: bytes), path: path, reusing: nil)
        }
    }

    /// Same, from text (tests); `path` is used in messages and as `HostConfig.sourcePath`.
    public func load(yaml: String, path: String) throws(ConfigErrors) -> HostConfig {
        let bytes = Array(yaml.utf8)
        return try load(bytes: bytes, digest: KeyDigest.sha256Hex(bytes: bytes), path: path, reusing: nil).config
    }

    /// Reads and validates a file's bytes (`digest` is their SHA-256, which a reload computes
    /// first to tell an unchanged file), taking the tenants whose text is unchanged since
    /// `previous` as they were: the file is still checked as a whole, with every problem at its
    /// position, but a reload that changes one tenant of a thousand validates one tenant.
    public func load(
        bytes: [UInt8], digest: String, path: String, reusing previous: ConfigSource?
    ) throws(ConfigErrors) -> LoadedConfig {
        guard FileText.decode(bytes) != nil else {
            throw ConfigErrors(problems: [ConfigProblem(
                file: path, line: 1, column: 1, path: "", message: "the file is not valid UTF-8 text")])
        }
        let reusable = previous.flatMap { $0.dialects == registry.dialects ? $0 : nil }
        return try read(bytes, digest: digest, path: path, reusing: reusable)
    }

    private func read(
        _ bytes: [UInt8], digest: String, path: String, reusing previous: ConfigSource?
    ) throws(ConfigErrors) -> LoadedConfig {
        func fail(_ message: String, at position: Position) -> ConfigErrors {
            ConfigErrors(problems: [ConfigProblem(
                file: path, line: position.line, column: position.column, path: "", message: message)])
        }
        let root: YAMLNode
        let reader = ConfigReader(file: path, registry: registry, environment: environment)
        let (document, tenants) = bytes.withUnsafeBufferPointer { YAMLDocument.configuration($0, reusing: previous) }
        switch document {
        case .empty:
            throw fail("the file is empty: expected a mapping with server, admin, storage and tenants", at: .start)
        case .invalid(let message, let position):
            throw fail(message, at: position)
        case .root(let node, let problems):
            root = node
            for problem in problems { reader.log.add(problem.message, at: problem.position, path: "") }
        }
        reader.layout = tenants
        let config = reader.readHostConfig(root, sourcePath: path, digest: digest)
        guard let config, reader.log.isEmpty else { throw ConfigErrors(problems: reader.log.sortedProblems) }
        let source = ConfigSource(
            digest: digest, bytes: bytes, tenants: reader.tenantSources, dialects: registry.dialects)
        return LoadedConfig(config: config, source: source, reusedTenants: Set(tenants.reused.keys))
    }
}

extension ConfigReader {
    func readHostConfig(_ root: YAMLNode, sourcePath: String, digest: String) -> HostConfig? {
        guard let fields = mapping(root, at: "", known: Self.rootKeys,
                                   expected: "a mapping with server, admin, storage and tenants")
        else { return nil }
        let server = readServer(fields["server"])
        let admin = readAdmin(fields["admin"], server: server)
        let storage = readStorage(fields["storage"])
        let webhookDelivery = readWebhookDelivery(fields["webhook_delivery"])
        let tenants = readTenants(fields["tenants"], in: fields)
        return HostConfig(
            sourcePath: sourcePath, digest: digest, server: server, admin: admin, storage: storage,
            webhookDelivery: webhookDelivery, tenants: tenants)
    }
}
