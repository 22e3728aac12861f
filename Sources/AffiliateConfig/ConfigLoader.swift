import AffiliateCore

/// Turns the YAML file into a validated ``HostConfig``, or into every problem it has.
///
/// The server loads with it at start and on every reload, `affhost check` without serving;
/// all of them need the whole list of problems at once, each with file, line, column and path.
public struct ConfigLoader: Sendable {
    private let registry: ProviderRegistry

    public init(registry: ProviderRegistry) { self.registry = registry }

    /// Reads and validates the file; fixture files it names are read and validated too.
    public func load(path: String) throws(ConfigErrors) -> HostConfig {
        switch FileText.read(path) {
        case .unreadable(let reason):
            throw ConfigErrors(problems: [ConfigProblem(file: path, line: 1, column: 1, path: "", message: reason)])
        case .bytes(let bytes):
            guard let text = FileText.decode(bytes) else {
                throw ConfigErrors(problems: [ConfigProblem(
                    file: path, line: 1, column: 1, path: "", message: "the file is not valid UTF-8 text")])
            }
            return try load(text: text, digest: KeyDigest.sha256Hex(bytes: bytes), path: path)
        }
    }

    /// Same, from text (tests); `path` is used in messages and as `HostConfig.sourcePath`.
    public func load(yaml: String, path: String) throws(ConfigErrors) -> HostConfig {
        try load(text: yaml, digest: KeyDigest.sha256Hex(bytes: yaml.utf8), path: path)
    }

    private func load(text: String, digest: String, path: String) throws(ConfigErrors) -> HostConfig {
        func fail(_ message: String, at position: Position) -> ConfigErrors {
            ConfigErrors(problems: [ConfigProblem(
                file: path, line: position.line, column: position.column, path: "", message: message)])
        }
        let root: YAMLNode
        let reader = ConfigReader(file: path, registry: registry)
        switch YAMLDocument(yaml: text) {
        case .empty:
            throw fail("the file is empty: expected a mapping with server, admin, storage and tenants", at: .start)
        case .invalid(let message, let position):
            throw fail(message, at: position)
        case .root(let node, let problems):
            root = node
            for problem in problems { reader.log.add(problem.message, at: problem.position, path: "") }
        }
        let config = reader.readHostConfig(root, sourcePath: path, digest: digest)
        guard let config, reader.log.isEmpty else { throw ConfigErrors(problems: reader.log.sortedProblems) }
        return config
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
        let tenants = readTenants(fields["tenants"], in: fields)
        return HostConfig(
            sourcePath: sourcePath, digest: digest, server: server, admin: admin, storage: storage, tenants: tenants)
    }
}
