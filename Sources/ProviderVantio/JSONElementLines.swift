import AffiliateCore

/// The lines on which the rows of an import's JSON start: the elements of a top-level array, or
/// of the arrays under a top-level object's keys.
///
/// The parsed ``JSONValue`` keeps no positions, so this walks the (already validated) text once
/// more, tracking only depth, strings and line breaks.
struct JSONElementLines {
    /// Lines of the elements of a top-level array.
    private(set) var topLevel: [Int] = []
    /// Lines of the elements of each top-level key's array.
    private(set) var byKey: [String: [Int]] = [:]

    private let bytes: [UInt8]
    private var index = 0
    private var line = 1

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        skipWhitespace()
        guard index < bytes.count else { return }
        if bytes[index] == UInt8(ascii: "[") {
            topLevel = elementLines()
        } else if bytes[index] == UInt8(ascii: "{") {
            index += 1
            while true {
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return }
                let keyStart = index
                skipString()
                let key = (try? JSONValue(parsing: bytes[keyStart..<index]))?.stringValue ?? ""
                skipWhitespace()
                index += 1  // ':'
                skipWhitespace()
                if index < bytes.count, bytes[index] == UInt8(ascii: "[") {
                    byKey[key] = elementLines()
                } else {
                    skipValue()
                }
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ",") else { return }
                index += 1
            }
        }
    }

    /// At `[`: the start line of each element; leaves `index` after `]`.
    private mutating func elementLines() -> [Int] {
        var lines: [Int] = []
        index += 1
        while true {
            skipWhitespace()
            guard index < bytes.count else { return lines }
            if bytes[index] == UInt8(ascii: "]") {
                index += 1
                return lines
            }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            lines.append(line)
            skipValue()
        }
    }

    private mutating func skipValue() {
        guard index < bytes.count else { return }
        switch bytes[index] {
        case UInt8(ascii: "\""):
            skipString()
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            while index < bytes.count {
                switch bytes[index] {
                case UInt8(ascii: "\""):
                    skipString()
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
                case 0x0A: line += 1
                default: break
                }
                index += 1
                if depth == 0 { return }
            }
        default:
            while index < bytes.count, ![UInt8(ascii: ","), UInt8(ascii: "]"), UInt8(ascii: "}"), 0x20, 0x0A, 0x0D, 0x09]
                .contains(bytes[index]) {
                index += 1
            }
        }
    }

    /// At `"`: leaves `index` after the closing quote (JSON strings hold no raw line breaks).
    private mutating func skipString() {
        index += 1
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "\\") {
                index += 2
                continue
            }
            index += 1
            if bytes[index - 1] == UInt8(ascii: "\"") { return }
        }
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x0A: line += 1
            case 0x20, 0x0D, 0x09: break
            default: return
            }
            index += 1
        }
    }
}
