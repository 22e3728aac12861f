import AffiliateCore

/// One object of a fixture or import document, read field by field; every problem is recorded
/// with its path (`earnings[2].amount`) instead of stopping at the first.
struct SeedItem {
    let path: [SeedProblem.PathComponent]
    let object: JSONObject
    private(set) var problems: [SeedProblem] = []

    init(path: [SeedProblem.PathComponent], object: JSONObject) {
        self.path = path
        self.object = object
    }

    mutating func fail(_ field: String?, _ message: String) {
        problems.append(SeedProblem(path: field.map { path + [.key($0)] } ?? path, message: message))
    }

    /// Fields nobody reads are typos more often than not: they are refused, not dropped.
    mutating func rejectUnknown(_ known: [String]) {
        for key in object.keys where !known.contains(key) {
            fail(key, "is not a field of this record (expected one of: \(known.joined(separator: ", ")))")
        }
    }

    /// A required, non-empty string.
    mutating func text(_ field: String) -> String? {
        guard let value = object[field], !value.isNull else {
            fail(field, "is required")
            return nil
        }
        guard case .string(let text) = value, !text.trimmingSpaces.isEmpty else {
            fail(field, "must be a non-empty string")
            return nil
        }
        return text
    }

    /// An optional string; absent and `null` give `null`.
    mutating func nullableText(_ field: String) -> JSONValue {
        guard let value = object[field] else { return .null }
        switch value {
        case .string, .null: return value
        default:
            fail(field, "must be a string or null")
            return .null
        }
    }

    /// An optional non-empty string (a reference that defaults from another record).
    mutating func optionalText(_ field: String) -> String? {
        guard let value = object[field], !value.isNull else { return nil }
        return text(field)
    }

    mutating func id(prefix: String) -> String? {
        guard let id = text("id") else { return nil }
        guard id.hasPrefix(prefix), id.utf8.count > prefix.utf8.count else {
            fail("id", "must start with \(prefix) followed by at least one character")
            return nil
        }
        return id
    }

    mutating func email() -> String? {
        guard let email = text("email") else { return nil }
        guard FieldRules.isEmail(email) else {
            fail("email", "must be a valid email address")
            return nil
        }
        return email
    }

    mutating func timestamp(_ field: String) -> Timestamp? {
        guard let value = object[field], !value.isNull else {
            fail(field, "is required")
            return nil
        }
        return parseTimestamp(field, value)
    }

    /// `nil` when absent or `null`.
    mutating func optionalTimestamp(_ field: String) -> Timestamp? {
        guard let value = object[field], !value.isNull else { return nil }
        return parseTimestamp(field, value)
    }

    private mutating func parseTimestamp(_ field: String, _ value: JSONValue) -> Timestamp? {
        guard case .string(let text) = value, let instant = Timestamp(iso8601: text) else {
            fail(field, "must be an ISO 8601 timestamp such as 2024-01-15T10:30:00Z")
            return nil
        }
        return instant
    }

    /// `updated_at`, defaulting to `created_at` and never before it.
    mutating func updatedAt(after createdAt: Timestamp?) -> Timestamp? {
        guard let updatedAt = optionalTimestamp("updated_at") else { return createdAt }
        if let createdAt, updatedAt < createdAt { fail("updated_at", "must not be before created_at") }
        return updatedAt
    }

    mutating func metadata() -> JSONObject {
        guard let value = object["metadata"], !value.isNull else { return [:] }
        guard case .object(let metadata) = value else {
            fail("metadata", "must be a mapping")
            return [:]
        }
        return metadata
    }

    mutating func amount() -> Int64? {
        guard let value = object["amount"], !value.isNull else {
            fail("amount", "is required")
            return nil
        }
        guard let cents = value.exactInteger, cents > 0, cents <= FieldRules.maximumAmount else {
            fail("amount", "must be a positive integer (cents)")
            return nil
        }
        return cents
    }

    mutating func currency(default fallback: String) -> String {
        guard let value = object["currency"], !value.isNull else { return fallback }
        guard case .string(let code) = value, FieldRules.isCurrencyCode(code) else {
            fail("currency", "must be a 3-letter uppercase ISO 4217 code")
            return fallback
        }
        return code
    }

    /// A status word of the tenant's vocabulary, defaulting to its first word.
    mutating func status(in vocabulary: Vocabulary) -> String? {
        guard let value = object["status"], !value.isNull else { return vocabulary.initial }
        guard case .string(let word) = value, vocabulary.contains(word) else {
            fail("status", "must be one of: \(vocabulary.listed)")
            return nil
        }
        return word
    }

    /// A copied reference (`program_id` of a poster, ...): optional, but when given it must agree
    /// with the record it is copied from.
    mutating func copied(_ field: String, from source: String, of description: String) -> String {
        if let given = optionalText(field), given != source {
            fail(field, "must be \(source), the \(field) of \(description) (or be left out)")
        }
        return source
    }
}
