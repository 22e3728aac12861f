import AffiliateCore

/// One request body's fields, read with Vantio's validation messages.
///
/// Each accessor checks one field and throws the spec's text for it; callers ask in the order
/// the spec lists the fields, which makes the first failing field the one reported.
struct FieldRules {
    let body: JSONObject

    init(_ body: JSONObject) { self.body = body }

    func has(_ name: String) -> Bool { body[name] != nil }

    /// A required non-empty string (`<field> is required`, `<field> must be a non-empty string`).
    /// `null` counts as missing.
    func requiredText(_ name: String) throws(VantioError) -> String {
        guard let value = body[name], !value.isNull else { throw .badRequest("\(name) is required") }
        return try text(name, value)
    }

    /// An optional non-empty string: absent gives `nil`, anything but a non-empty string fails.
    func optionalText(_ name: String) throws(VantioError) -> String? {
        guard let value = body[name] else { return nil }
        return try text(name, value)
    }

    private func text(_ name: String, _ value: JSONValue) throws(VantioError) -> String {
        guard case .string(let text) = value, !text.trimmingSpaces.isEmpty else {
            throw .badRequest("\(name) must be a non-empty string")
        }
        return text
    }

    /// A string or `null` (`type`, `description`, `reference_id`, `profile_picture`); absent
    /// gives `nil`.
    func nullableText(_ name: String) throws(VantioError) -> JSONValue? {
        guard let value = body[name] else { return nil }
        switch value {
        case .string, .null: return value
        default: throw .badRequest("\(name) must be a string or null")
        }
    }

    /// A required email (`email is required` when absent or `null`).
    func email() throws(VantioError) -> String {
        guard let value = body["email"], !value.isNull else { throw .badRequest("email is required") }
        return try email(value)
    }

    /// An optional email: absent gives `nil`, `null` is not an address.
    func optionalEmail() throws(VantioError) -> String? {
        guard let value = body["email"] else { return nil }
        return try email(value)
    }

    private func email(_ value: JSONValue) throws(VantioError) -> String {
        guard case .string(let text) = value, Self.isEmail(text) else {
            throw .badRequest("email must be a valid email address")
        }
        return text
    }

    /// Largest integer a JavaScript client can hold exactly (2^53 - 1).
    static let maximumAmount: Int64 = 9_007_199_254_740_991

    /// A required amount (`amount is required` when absent or `null`).
    func amount() throws(VantioError) -> Int64 {
        guard let value = body["amount"], !value.isNull else { throw .badRequest("amount is required") }
        return try cents(value)
    }

    /// An optional amount: absent gives `nil`, `null` is not an amount.
    func optionalAmount() throws(VantioError) -> Int64? {
        guard let value = body["amount"] else { return nil }
        return try cents(value)
    }

    /// A positive whole number of cents; strings and fractions are refused.
    private func cents(_ value: JSONValue) throws(VantioError) -> Int64 {
        guard let cents = value.exactInteger, cents > 0, cents <= Self.maximumAmount else {
            throw .badRequest("amount must be a positive integer")
        }
        return cents
    }

    func currency() throws(VantioError) -> String? {
        guard let value = body["currency"] else { return nil }
        guard case .string(let code) = value, Self.isCurrencyCode(code) else {
            throw .badRequest("currency must be a 3-letter uppercase ISO 4217 code")
        }
        return code
    }

    func metadata() throws(VantioError) -> JSONObject? {
        guard let value = body["metadata"] else { return nil }
        guard case .object(let object) = value else { throw .badRequest("metadata must be an object") }
        return object
    }

    /// `verified_at`: an ISO 8601 timestamp or `null`. `.some(nil)` means "clear it".
    func timestampOrNull(_ name: String) throws(VantioError) -> Timestamp?? {
        guard let value = body[name] else { return nil }
        switch value {
        case .null: return .some(nil)
        case .string(let text):
            if let instant = Timestamp(iso8601: text) { return .some(instant) }
        default: break
        }
        throw .badRequest("\(name) must be an ISO 8601 timestamp or null")
    }

    /// One `@`, a non-empty local part, a dotted domain without empty labels, no whitespace.
    static func isEmail(_ text: String) -> Bool {
        guard !text.unicodeScalars.contains(where: { $0.properties.isWhitespace }) else { return false }
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty else { return false }
        let labels = parts[1].split(separator: ".", omittingEmptySubsequences: false)
        return labels.count >= 2 && labels.allSatisfy { !$0.isEmpty }
    }

    static func isCurrencyCode(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        return bytes.count == 3 && bytes.allSatisfy { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }
    }
}
