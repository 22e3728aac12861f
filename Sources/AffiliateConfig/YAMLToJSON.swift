import AffiliateCore

/// Converts fixture YAML into the ordered `JSONValue` dialects validate: mapping order is
/// kept, numbers keep their (canonical) text, quoted scalars are always strings.
struct YAMLToJSON {
    struct Problem {
        let message: String
        let position: Position
        let path: String
    }

    private(set) var problems: [Problem] = []
    /// Aliases let a few lines name billions of values; conversion stops well before that.
    private var remainingValues = 10_000_000

    mutating func convert(_ node: YAMLNode, path: String = "", depth: Int = 0) -> JSONValue {
        remainingValues -= 1
        guard remainingValues >= 0 else {
            if remainingValues == -1 {
                problems.append(Problem(message: "expands to more than 10000000 values (through aliases)",
                                        position: node.position, path: path))
            }
            return .null
        }
        guard depth < JSONValue.maximumDepth else {
            problems.append(Problem(message: "nested deeper than \(JSONValue.maximumDepth) levels",
                                    position: node.position, path: path))
            return .null
        }
        switch node.content {
        case .scalar(let text, let plain):
            switch plain ? ScalarValue(plain: text) : .string(text) {
            case .null: return .null
            case .bool(let value): return .bool(value)
            case .integer(let number), .float(let number): return .number(number)
            case .string(let string): return .string(string)
            case .nonFinite:
                problems.append(Problem(message: "infinite and NaN numbers cannot be stored as JSON",
                                        position: node.position, path: path))
                return .null
            }
        case .sequence(let elements):
            var values: [JSONValue] = []
            values.reserveCapacity(elements.count)
            for (index, element) in elements.enumerated() {
                values.append(convert(element, path: ConfigPath.index(path, index), depth: depth + 1))
            }
            return .array(values)
        case .mapping(let pairs):
            var object: [(String, JSONValue)] = []
            object.reserveCapacity(pairs.count)
            for pair in pairs {
                guard let key = pair.key.scalarText else {
                    problems.append(Problem(message: "keys must be plain names, found \(pair.key.kindDescription)",
                                            position: pair.key.position, path: path))
                    continue
                }
                object.append((key, convert(pair.value, path: ConfigPath.child(path, key), depth: depth + 1)))
            }
            return .object(JSONObject(object))
        }
    }
}
