/// Serialises ``JSONValue`` compactly, keeping object key order.
///
/// Output separators are `,` and `:` with no spaces: the compact form the vendors send.
extension JSONValue {
    public var serialized: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256)
        write(into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    public var serializedBytes: [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256)
        write(into: &bytes)
        return bytes
    }

    public func write(into out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let value): out.append(contentsOf: (value ? "true" : "false").utf8)
        case .number(let text): out.append(contentsOf: text.utf8)
        case .string(let text): JSONValue.writeString(text, into: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (offset, item) in items.enumerated() {
                if offset > 0 { out.append(UInt8(ascii: ",")) }
                item.write(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let object):
            out.append(UInt8(ascii: "{"))
            for offset in 0..<object.count {
                if offset > 0 { out.append(UInt8(ascii: ",")) }
                JSONValue.writeString(object.keys[offset], into: &out)
                out.append(UInt8(ascii: ":"))
                object.values[offset].write(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    static func writeString(_ text: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        // Most strings need no escape: copy runs of plain bytes at once instead of byte by byte.
        let copied: Void? = text.utf8.withContiguousStorageIfAvailable { utf8 in
            var plain = 0
            for index in 0..<utf8.count where utf8[index] < 0x20 || utf8[index] == 0x22 || utf8[index] == 0x5C {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[plain..<index]))
                appendEscaped(utf8[index], into: &out)
                plain = index + 1
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[plain...]))
        }
        if copied == nil {
            for byte in text.utf8 { appendEscaped(byte, into: &out) }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// One byte of a string, escaped when JSON requires it.
    private static func appendEscaped(_ byte: UInt8, into out: inout [UInt8]) {
        switch byte {
        case UInt8(ascii: "\""): out.append(contentsOf: [0x5C, 0x22])
        case UInt8(ascii: "\\"): out.append(contentsOf: [0x5C, 0x5C])
        case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
        case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
        case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
        case 0x00..<0x20:
            let hex: [UInt8] = Array("0123456789abcdef".utf8)
            out.append(contentsOf: [0x5C, UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
        default: out.append(byte)
        }
    }
}
