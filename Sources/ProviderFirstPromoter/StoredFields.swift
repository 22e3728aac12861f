import AffiliateCore

/// Typed reads of the dialect's own stored `data`. A record that does not read back is a bug in
/// what affhost wrote (or a hand-edited database), reported as a 500 with the record named.
struct StoredDataError: Error, CustomStringConvertible {
    let resource: String
    let id: String
    var description: String { "stored \(resource) record \(id) does not have the firstpromoter-v1 layout" }
}

extension JSONObject {
    func int64(_ key: String) -> Int64? { self[key]?.integerValue }

    func amount(_ key: String) -> Int128? {
        guard case .number(let text)? = self[key] else { return nil }
        return Int128(text)
    }

    func text(_ key: String) -> String? { self[key]?.stringValue }

    /// `.some(nil)` for a stored null, `nil` when the key is missing or not a string.
    func optionalText(_ key: String) -> String?? {
        switch self[key] {
        case .null?: .some(nil)
        case .string(let text)?: .some(text)
        default: nil
        }
    }

    func optionalInt64(_ key: String) -> Int64?? {
        switch self[key] {
        case .null?: .some(nil)
        case .number(let text)?: Int64(text).map { .some($0) }
        default: nil
        }
    }
}

extension JSONValue {
    static func text(_ value: String?) -> JSONValue { value.map { .string($0) } ?? .null }
    static func id(_ value: Int64?) -> JSONValue { value.map { .int($0) } ?? .null }
    static func amount(_ value: Int128) -> JSONValue { .number(String(value)) }
}

/// The units rewards and payouts count in, in the order balance objects list them.
enum RewardUnit {
    static let all = ["cash", "credits", "points", "free_months"]
    static let cash = "cash"
}
