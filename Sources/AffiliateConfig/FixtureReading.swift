import AffiliateCore

/// Fixture files, read once per load even when several tenants share one.
struct FixtureCache {
    enum Document {
        case loaded(root: YAMLNode, json: JSONValue)
        /// Could not be used; its problems were recorded when it was first read.
        case failed(reason: String?)
    }

    var documents: [String: Document] = [:]
}

/// `fixtures:`: demo records, validated by the tenant's dialect and reported in the fixture
/// file's own lines and columns.
extension ConfigReader {
    /// The parsed fixture file, or `nil` (with problems recorded) when it cannot be used.
    func fixtureDocument(path: String, namedBy field: Field) -> (root: YAMLNode, json: JSONValue)? {
        let document = fixtures.documents[path] ?? loadFixtureDocument(path: path, namedBy: field)
        fixtures.documents[path] = document
        switch document {
        case .loaded(let root, let json):
            return (root, json)
        case .failed(let reason):
            // An unreadable file is reported at every tenant naming it; problems inside the file
            // were reported once, in that file.
            if let reason { problem(reason, at: field.value, path: field.path) }
            return nil
        }
    }

    private func loadFixtureDocument(path: String, namedBy field: Field) -> FixtureCache.Document {
        let anchor = field.valuePosition
        let bytes: [UInt8]
        switch FileText.read(path) {
        case .unreadable(let reason):
            return .failed(reason: "cannot read fixtures file \"\(path)\": \(reason)")
        case .bytes(let read):
            bytes = read
        }
        guard let text = FileText.decode(bytes) else {
            return .failed(reason: "fixtures file \"\(path)\" is not valid UTF-8 text")
        }
        switch YAMLDocument(yaml: text) {
        case .empty:
            return .failed(reason: "fixtures file \"\(path)\" is empty")
        case .invalid(let message, let position):
            log.add(message, inFile: path, at: position, path: "", anchor: anchor)
            return .failed(reason: nil)
        case .root(let root, let problems):
            for problem in problems {
                log.add(problem.message, inFile: path, at: problem.position, path: "", anchor: anchor)
            }
            var converter = YAMLToJSON()
            let json = converter.convert(root)
            for problem in converter.problems {
                log.add(problem.message, inFile: path, at: problem.position, path: problem.path, anchor: anchor)
            }
            return problems.isEmpty && converter.problems.isEmpty ? .loaded(root: root, json: json) : .failed(reason: nil)
        }
    }

    /// Asks the dialect to shape the fixtures; its problems point into the fixture file.
    func seedData(
        for tenant: TenantConfig, provider: any Provider, from document: (root: YAMLNode, json: JSONValue),
        file: String, namedBy field: Field
    ) -> SeedData? {
        do {
            return try provider.seedData(from: document.json, tenant: tenant)
        } catch {
            for problem in error.problems {
                log.add(problem.message, inFile: file, at: Self.position(of: problem.path, in: document.root),
                        path: problem.pathText, anchor: field.valuePosition)
            }
            if error.problems.isEmpty {
                problem("dialect \(provider.dialect) refused the fixtures", at: field.value, path: field.path)
            }
            return nil
        }
    }

    /// The deepest node a seed problem's path reaches: a key's own line for keys, the element
    /// for indexes, the enclosing node when the path names something absent.
    static func position(of path: [SeedProblem.PathComponent], in root: YAMLNode) -> Position {
        var node = root
        var position = root.position
        for component in path {
            switch (component, node.content) {
            case (.key(let key), .mapping(let pairs)):
                guard let pair = pairs.first(where: { $0.key.scalarText == key }) else { return position }
                node = pair.value
                position = pair.key.position
            case (.index(let index), .sequence(let elements)):
                guard elements.indices.contains(index) else { return position }
                node = elements[index]
                position = node.position
            default:
                return position
            }
        }
        return position
    }
}
