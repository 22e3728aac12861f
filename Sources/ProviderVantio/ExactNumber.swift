import AffiliateCore

/// A JSON number literal reduced to its exact decimal value: sign, significant digits and a
/// power of ten.
///
/// Vantio clients write amounts however their JSON library likes (`550`, `550.0`, `5.5e2`), and
/// idempotency compares payloads "numbers by value"; a `Double` round trip would blur both
/// (`9007199254740993` and `9007199254740992` are one double).
struct ExactNumber: Hashable {
    var negative: Bool
    /// Significant digits without leading or trailing zeros; empty for zero.
    var digits: [UInt8]
    var exponent: Int

    /// Exponents beyond this are clamped: no client means them, and clamping keeps the
    /// arithmetic in range while still telling such numbers apart from ordinary ones.
    private static let exponentLimit = 1_000_000_000

    /// Reads a literal the JSON parser already validated.
    init?(literal text: String) {
        var bytes = Array(text.utf8)[...]
        negative = bytes.first == UInt8(ascii: "-")
        if negative { bytes = bytes.dropFirst() }
        var mantissa: [UInt8] = []
        var fractionDigits = 0
        var seenPoint = false
        while let byte = bytes.first, byte != UInt8(ascii: "e"), byte != UInt8(ascii: "E") {
            bytes = bytes.dropFirst()
            if byte == UInt8(ascii: ".") {
                seenPoint = true
                continue
            }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            mantissa.append(byte)
            if seenPoint { fractionDigits += 1 }
        }
        guard !mantissa.isEmpty else { return nil }
        var exponent = 0
        if !bytes.isEmpty {
            bytes = bytes.dropFirst()
            var exponentNegative = false
            if let sign = bytes.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
                exponentNegative = sign == UInt8(ascii: "-")
                bytes = bytes.dropFirst()
            }
            guard !bytes.isEmpty else { return nil }
            for byte in bytes {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                exponent = min(exponent * 10 + Int(byte - UInt8(ascii: "0")), Self.exponentLimit)
            }
            if exponentNegative { exponent = -exponent }
        }
        let firstSignificant = mantissa.firstIndex { $0 != UInt8(ascii: "0") }
        guard let firstSignificant else {
            self.negative = false
            self.digits = []
            self.exponent = 0
            return
        }
        var significant = Array(mantissa[firstSignificant...])
        exponent -= fractionDigits
        while significant.last == UInt8(ascii: "0") {
            significant.removeLast()
            exponent += 1
        }
        self.digits = significant
        self.exponent = exponent
    }

    /// The value when it is a whole number that fits in 64 bits.
    var integer: Int64? {
        if digits.isEmpty { return 0 }
        guard exponent >= 0, digits.count + exponent <= 19 else { return nil }
        var magnitude: UInt64 = 0
        for digit in digits {
            magnitude = magnitude * 10 + UInt64(digit - UInt8(ascii: "0"))
        }
        for _ in 0..<exponent {
            let (scaled, overflow) = magnitude.multipliedReportingOverflow(by: 10)
            if overflow { return nil }
            magnitude = scaled
        }
        if negative {
            return magnitude <= UInt64(Int64.max) + 1 ? Int64(truncatingIfNeeded: 0 &- magnitude) : nil
        }
        return magnitude <= UInt64(Int64.max) ? Int64(magnitude) : nil
    }

    /// One spelling per value (`15e-1` for `1.50`, `1e2` for `100`, `0` for `-0.0`).
    var canonicalLiteral: String {
        if digits.isEmpty { return "0" }
        var text = negative ? "-" : ""
        text += String(decoding: digits, as: UTF8.self)
        if exponent != 0 { text += "e\(exponent)" }
        return text
    }
}

extension JSONValue {
    /// The value as a whole number, whatever its spelling (`550`, `550.0`, `5.5e2`).
    var exactInteger: Int64? {
        guard case .number(let text) = self else { return nil }
        if let plain = Int64(text) { return plain }
        return ExactNumber(literal: text)?.integer
    }

    /// The same JSON value with object keys in byte order and numbers spelled canonically:
    /// two payloads a client considers equal serialise to the same bytes.
    var canonical: JSONValue {
        switch self {
        case .null, .bool, .string: return self
        case .number(let text): return .number(ExactNumber(literal: text)?.canonicalLiteral ?? text)
        case .array(let items): return .array(items.map(\.canonical))
        case .object(let object):
            let sorted = object.sorted { Array($0.key.utf8).lexicographicallyPrecedes(Array($1.key.utf8)) }
            return .object(JSONObject(sorted.map { ($0.key, $0.value.canonical) }))
        }
    }
}
