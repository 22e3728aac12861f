import AffiliateCore

/// Typed reads from a fixture document that record every problem with its path instead of
/// stopping at the first, so that `affhost check` lists them all.
struct FixtureReader {
    typealias Path = [SeedProblem.PathComponent]

    private(set) var problems: [SeedProblem] = []

    mutating func problem(_ path: Path, _ message: String) {
        problems.append(SeedProblem(path: path, message: message))
    }

    /// A mapping whose keys are all among `allowed`.
    mutating func mapping(_ value: JSONValue, at path: Path, allowed: [String]) -> JSONObject? {
        guard case .object(let object) = value else {
            problem(path, "must be a mapping")
            return nil
        }
        for key in object.keys where !allowed.contains(key) {
            problem(path + [.key(key)], "unknown key \"\(key)\"; expected one of: " + allowed.joined(separator: ", "))
        }
        return object
    }

    /// An optional list; absent or null is empty.
    mutating func list(_ object: JSONObject, _ key: String, at path: Path) -> [JSONValue] {
        switch object[key] {
        case nil, .null?: return []
        case .array(let items)?: return items
        default:
            problem(path + [.key(key)], "must be a list")
            return []
        }
    }

    mutating func id(_ object: JSONObject, _ key: String, at path: Path, required: Bool = true) -> Int64? {
        switch object[key] {
        case nil, .null?:
            if required { problem(path + [.key(key)], "is required") }
            return nil
        case .number(let text)? where RecordID.parse(text) != nil:
            return RecordID.parse(text)
        default:
            problem(path + [.key(key)], "must be a positive integer")
            return nil
        }
    }

    mutating func integer(_ object: JSONObject, _ key: String, at path: Path) -> Int64? {
        switch object[key] {
        case nil, .null?:
            problem(path + [.key(key)], "is required")
            return nil
        case .number(let text)? where RewardEndpoints.parseAmount(text) != nil:
            return RewardEndpoints.parseAmount(text)
        default:
            problem(path + [.key(key)], "must be an integer")
            return nil
        }
    }

    /// A required string.
    mutating func string(_ object: JSONObject, _ key: String, at path: Path) -> String? {
        switch object[key] {
        case .string(let text)?: return text
        case nil, .null?: problem(path + [.key(key)], "is required")
        default: problem(path + [.key(key)], "must be a string")
        }
        return nil
    }

    /// Free text that may be absent or null; a number counts as its text as written (YAML
    /// users write `phone_number: 5551234`).
    mutating func text(_ object: JSONObject, _ key: String, at path: Path) -> String? {
        switch object[key] {
        case nil, .null?: return nil
        case .string(let text)?: return text
        case .number(let text)?: return text
        default:
            problem(path + [.key(key)], "must be a string or null")
            return nil
        }
    }

    mutating func bool(_ object: JSONObject, _ key: String, at path: Path) -> Bool? {
        switch object[key] {
        case nil, .null?: return nil
        case .bool(let flag)?: return flag
        default:
            problem(path + [.key(key)], "must be true or false")
            return nil
        }
    }

    /// An ISO-8601 date-time; absent or null gives `nil` (a problem when required).
    mutating func timestamp(_ object: JSONObject, _ key: String, at path: Path, required: Bool) -> Timestamp? {
        switch object[key] {
        case nil, .null?:
            if required { problem(path + [.key(key)], "is required") }
            return nil
        case .string(let text)?:
            if let timestamp = Timestamp(iso8601: text) { return timestamp }
        default:
            break
        }
        problem(path + [.key(key)], "must be an ISO 8601 timestamp such as \"2024-09-12T14:02:53.135Z\"")
        return nil
    }

    /// A word from a list; absent or null gives `nil` without a problem.
    mutating func word(_ object: JSONObject, _ key: String, at path: Path, among words: [String]) -> String? {
        switch object[key] {
        case nil, .null?: return nil
        case .string(let text)? where words.contains(text): return text
        default:
            problem(path + [.key(key)], "must be one of: " + words.joined(separator: ", "))
            return nil
        }
    }
}
