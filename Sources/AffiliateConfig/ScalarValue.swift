/// A YAML scalar typed by the YAML 1.2 core schema.
///
/// Quoted and block scalars are always strings (see ``YAMLNode``); plain scalars are null,
/// booleans, numbers or strings by their text. Numbers keep a canonical JSON spelling so that
/// fixture values reach dialects exactly as `JSONValue.number` expects them.
enum ScalarValue: Hashable {
    case null
    case bool(Bool)
    /// Canonical decimal text (`-12`, `255` for `0xff`), of any length.
    case integer(String)
    /// Canonical JSON number text (`0.5` for `.5`).
    case float(String)
    /// `.inf`, `-.inf`, `.nan`: numbers JSON cannot carry.
    case nonFinite(String)
    case string(String)

    init(plain text: String) {
        switch text {
        case "", "~", "null", "Null", "NULL": self = .null
        case "true", "True", "TRUE": self = .bool(true)
        case "false", "False", "FALSE": self = .bool(false)
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": self = .nonFinite("inf")
        case "-.inf", "-.Inf", "-.INF": self = .nonFinite("-inf")
        case ".nan", ".NaN", ".NAN": self = .nonFinite("nan")
        default: self = ScalarValue.number(text) ?? .string(text)
        }
    }

    /// How a type error names what it found; never the value, which may be a secret.
    var kindDescription: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .integer, .float, .nonFinite: "a number"
        case .string: "a string"
        }
    }

    private static func number(_ text: String) -> ScalarValue? {
        // Most scalars are words: reject them before copying anything.
        guard let first = text.utf8.first,
              (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) || first == UInt8(ascii: "-")
                || first == UInt8(ascii: "+") || first == UInt8(ascii: ".")
        else { return nil }
        let bytes = Array(text.utf8)
        var index = 0
        var negative = false
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") {
            negative = bytes[index] == UInt8(ascii: "-")
            index += 1
        }
        let body = bytes[index...]
        if body.count > 2, body.first == UInt8(ascii: "0"), !negative, index == 0 {
            let marker = body[body.startIndex + 1]
            let digits = String(decoding: body.dropFirst(2), as: UTF8.self)
            if marker == UInt8(ascii: "x"), let value = UInt64(digits, radix: 16) { return .integer(String(value)) }
            if marker == UInt8(ascii: "o"), let value = UInt64(digits, radix: 8) { return .integer(String(value)) }
        }
        func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
        var whole: [UInt8] = []
        while index < bytes.count, isDigit(bytes[index]) { whole.append(bytes[index]); index += 1 }
        var fraction: [UInt8]? = nil
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            var digits: [UInt8] = []
            while index < bytes.count, isDigit(bytes[index]) { digits.append(bytes[index]); index += 1 }
            fraction = digits
        }
        guard !whole.isEmpty || !(fraction ?? []).isEmpty else { return nil }
        var exponent: [UInt8]? = nil
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            var digits: [UInt8] = []
            if index < bytes.count, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") {
                digits.append(bytes[index])
                index += 1
            }
            let signLength = digits.count
            while index < bytes.count, isDigit(bytes[index]) { digits.append(bytes[index]); index += 1 }
            guard digits.count > signLength else { return nil }
            exponent = digits
        }
        guard index == bytes.count else { return nil }

        let significant = whole.drop { $0 == UInt8(ascii: "0") }
        let wholeText = significant.isEmpty ? "0" : String(decoding: significant, as: UTF8.self)
        if fraction == nil, exponent == nil {
            let sign = negative && wholeText != "0" ? "-" : ""
            return .integer(sign + wholeText)
        }
        var json = (negative ? "-" : "") + wholeText
        if let fraction, !fraction.isEmpty { json += "." + String(decoding: fraction, as: UTF8.self) }
        if let exponent { json += "e" + String(decoding: exponent, as: UTF8.self) }
        return .float(json)
    }
}
