/// One `key: value` pair of a YAML mapping, with the path problems about it are reported at.
struct Field {
    let key: String
    let keyNode: YAMLNode
    let value: YAMLNode
    /// The mapping's own path; the field's is built only when needed, which is rarely
    /// (a problem, or a nested collection), so large files do not pay for a string per key.
    let parentPath: String

    var path: String { ConfigPath.child(parentPath, key) }
    var keyPosition: Position { keyNode.position }
    var valuePosition: Position { value.position }
}

/// The pairs of one mapping in file order, with lookup by key.
///
/// Fields are materialised on demand: lookups scan the key texts (the mappings looked up by
/// key hold a handful of keys) and only the pair found is copied, so reading ten thousand
/// tenants does not copy every node of the file twice.
struct Fields {
    let node: YAMLNode
    let path: String
    private let pairs: [YAMLPair]
    /// Key texts and their pair indexes, without the non-scalar keys (already reported).
    private let keys: [String]
    private let indexes: [Int]

    init(node: YAMLNode, path: String, pairs: [YAMLPair], keys: [String], indexes: [Int]) {
        self.node = node
        self.path = path
        self.pairs = pairs
        self.keys = keys
        self.indexes = indexes
    }

    var count: Int { keys.count }

    var all: [Field] { keys.indices.map(field(at:)) }

    /// The fields whose key is not in `known`, for "unknown key" problems.
    func fields(notIn known: [String]) -> [Field] {
        keys.indices.filter { !known.contains(keys[$0]) }.map(field(at:))
    }

    subscript(key: String) -> Field? { keys.firstIndex(of: key).map(field(at:)) }

    /// The field unless it is absent or explicitly null: an optional key left empty
    /// (`server:` with everything under it commented out) means "use the default".
    func given(_ key: String) -> Field? {
        guard let field = self[key], !field.value.isNull else { return nil }
        return field
    }

    private func field(at position: Int) -> Field {
        let pair = pairs[indexes[position]]
        return Field(key: keys[position], keyNode: pair.key, value: pair.value, parentPath: path)
    }
}

enum ConfigPath {
    static func child(_ path: String, _ key: String) -> String { path.isEmpty ? key : path + "." + key }
    static func index(_ path: String, _ index: Int) -> String { path + "[\(index)]" }
}

extension String {
    /// Empty or only whitespace; checked per Unicode scalar, which is all a blank test needs
    /// and much cheaper than walking grapheme clusters.
    var isBlank: Bool {
        if let first = utf8.first, first > 0x20, first < 0x7F { return false }
        return unicodeScalars.allSatisfy(\.properties.isWhitespace)
    }
}
