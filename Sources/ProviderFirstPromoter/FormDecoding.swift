/// `application/x-www-form-urlencoded` decoding, used for query strings and form bodies alike.
///
/// Hummingbird's query dictionary keeps `+` and leaves names encoded, and its form decoder is
/// Codable-typed and refuses repeated names; FirstPromoter clients (Rails conventions) send
/// `+` for spaces, encoded names and occasionally a name twice, where the last one wins.
enum FormDecoding {
    static func decode(_ bytes: some Collection<UInt8>, into values: inout [String: String]) {
        var name: [UInt8] = []
        var value: [UInt8] = []
        var inValue = false
        func flush() {
            if !name.isEmpty || inValue {
                let key = percentDecoded(name)
                if !key.isEmpty { values[key] = percentDecoded(value) }
            }
            name.removeAll(keepingCapacity: true)
            value.removeAll(keepingCapacity: true)
            inValue = false
        }
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "&"): flush()
            case UInt8(ascii: "=") where !inValue: inValue = true
            default: if inValue { value.append(byte) } else { name.append(byte) }
            }
        }
        flush()
    }

    /// `+` is a space; `%XX` is a byte; a `%` not followed by two hex digits stays as it is.
    static func percentDecoded(_ bytes: [UInt8]) -> String {
        guard bytes.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "+") }) else {
            return String(decoding: bytes, as: UTF8.self)
        }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "+") {
                out.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"), index + 2 < bytes.count, let high = hexValue(bytes[index + 1]),
                let low = hexValue(bytes[index + 2])
            {
                out.append(high << 4 | low)
                index += 2
            } else {
                out.append(byte)
            }
            index += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x41...0x46: byte - 0x41 + 10
        case 0x61...0x66: byte - 0x61 + 10
        default: nil
        }
    }

    /// Percent-encodes everything but RFC 3986 unreserved characters, for the `Link` header.
    static func percentEncoded(_ text: String) -> String {
        let hex: [UInt8] = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for byte in text.utf8 {
            switch byte {
            case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.append(byte)
            default:
                out.append(contentsOf: [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
