import AffiliateCore

/// Walks one configuration document, recording every problem it finds instead of stopping.
///
/// Each `read...` method returns `nil` when what it read cannot be used, after recording why;
/// callers carry on with the rest of the document so that one pass reports everything.
final class ConfigReader {
    let log: ProblemLog
    let dialects: DialectCatalog
    var fixtures: FixtureCache
    /// Every key hash seen so far, for duplicates across tenants.
    var keyOwners: [String: (tenant: String, keyID: String, line: Int)] = [:]
    /// Where the composer found each tenant, and the tenants it took from the previous load.
    var layout = TenantLayout()
    /// The `sha256` positions of the tenant being read, in key order.
    var keyHashPositions: [Position] = []
    /// What the next load of this file may reuse, filled as tenants are read.
    var tenantSources: [String: TenantSource] = [:]
    /// Where `{env: NAME}` webhook secrets are looked up.
    let environment: [String: String]

    init(file: String, registry: ProviderRegistry, environment: [String: String]) {
        self.log = ProblemLog(file: file)
        self.environment = environment
        self.dialects = DialectCatalog(registry: registry)
        self.fixtures = FixtureCache()
    }

    func problem(_ message: String, at node: YAMLNode, path: String) {
        log.add(message, at: node, path: path)
    }

    func typeProblem(expected: String, _ node: YAMLNode, path: String) {
        problem("expected \(expected), found \(node.kindDescription)", at: node, path: path)
    }

    // MARK: Mappings

    /// The pairs of a mapping, or `nil` (with a problem) when the node is not one.
    func mapping(_ node: YAMLNode, at path: String, expected: String = "a mapping") -> Fields? {
        guard case .mapping(let pairs) = node.content else {
            typeProblem(expected: expected, node, path: path)
            return nil
        }
        var keys: [String] = []
        var indexes: [Int] = []
        keys.reserveCapacity(pairs.count)
        indexes.reserveCapacity(pairs.count)
        for (index, pair) in pairs.enumerated() {
            guard let key = pair.key.scalarText else {
                problem("keys must be plain names, found \(pair.key.kindDescription)", at: pair.key, path: path)
                continue
            }
            keys.append(key)
            indexes.append(index)
        }
        return Fields(node: node, path: path, pairs: pairs, keys: keys, indexes: indexes)
    }

    /// A mapping whose keys must all be in `known`; the others are reported with a hint.
    func mapping(_ node: YAMLNode, at path: String, known: [String], expected: String = "a mapping") -> Fields? {
        guard let fields = mapping(node, at: path, expected: expected) else { return nil }
        for field in fields.fields(notIn: known) {
            unknownKey(field, candidates: known)
        }
        return fields
    }

    func unknownKey(_ field: Field, candidates: [String]) {
        if field.key == "<<" {
            problem("merge keys (<<) are not supported: write the keys out in each mapping", at: field.keyNode, path: field.path)
            return
        }
        problem("unknown key \"\(field.key)\"\(Suggestion.hint(for: field.key, among: candidates))",
                at: field.keyNode, path: field.path)
    }

    func missing(_ key: String, in fields: Fields) {
        problem("missing required key \"\(key)\"", at: fields.node, path: fields.path)
    }

    // MARK: Scalars

    /// A name, word or URL: any string or number as written; booleans, null and collections
    /// are refused.
    func text(_ field: Field, expected: String = "a string") -> String? {
        guard let text = field.value.wordText else {
            typeProblem(expected: expected, field.value, path: field.path)
            return nil
        }
        return text
    }

    func nonEmptyText(_ field: Field, expected: String = "a string") -> String? {
        guard let text = text(field, expected: expected) else { return nil }
        guard !text.isBlank else {
            problem("must not be empty", at: field.value, path: field.path)
            return nil
        }
        return text
    }

    func requiredText(_ key: String, in fields: Fields, expected: String = "a string") -> String? {
        guard let field = fields[key] else {
            missing(key, in: fields)
            return nil
        }
        return nonEmptyText(field, expected: expected)
    }

    /// A whole number that fits in 64 bits.
    func wholeNumber(_ field: Field) -> Int64? {
        guard case .integer(let digits) = field.value.scalar else {
            if case .float = field.value.scalar {
                problem("expected a whole number, found a fraction", at: field.value, path: field.path)
            } else {
                typeProblem(expected: "a whole number", field.value, path: field.path)
            }
            return nil
        }
        guard let value = Int64(digits) else {
            problem("\(digits) is too large", at: field.value, path: field.path)
            return nil
        }
        return value
    }

    func bool(_ field: Field) -> Bool? {
        guard case .bool(let value) = field.value.scalar else {
            typeProblem(expected: "true or false", field.value, path: field.path)
            return nil
        }
        return value
    }

    func list(_ field: Field, expected: String = "a list") -> [YAMLNode]? {
        guard case .sequence(let elements) = field.value.content else {
            typeProblem(expected: expected, field.value, path: field.path)
            return nil
        }
        return elements
    }

    /// Lower-case 64-digit hex, the only form a key or token is accepted in.
    func sha256Hex(_ field: Field) -> String? {
        guard let text = text(field) else { return nil }
        var isHex = true
        var hasUpperCase = false
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"): continue
            case UInt8(ascii: "A")...UInt8(ascii: "F"): hasUpperCase = true
            default: isHex = false
            }
        }
        guard isHex, text.utf8.count == 64 else {
            let found = isHex ? "found \(text.count)" : "found characters other than 0-9 and a-f"
            problem("expected 64 hexadecimal characters (a SHA-256), \(found)", at: field.value, path: field.path)
            return nil
        }
        return hasUpperCase ? text.lowercased() : text
    }
}
