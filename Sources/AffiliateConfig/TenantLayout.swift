/// The tenants of a configuration file as the composer met them: where each one's text lies,
/// and which ones it took unchanged from the previous load instead of composing them.
struct TenantLayout {
    /// Tenants whose text holds no anchor or alias, by id (the first occurrence of an id).
    var spans: [String: TenantSpan] = [:]
    /// Tenants whose text matched the previous load's, by id.
    var reused: [String: ReusedTenant] = [:]
    /// How many of them libyaml never read (see ``TenantMask``).
    var cutOut = 0
}

/// Where one tenant's mapping is written in the file.
struct TenantSpan {
    /// From the mapping's first token to the token after it (a block mapping ends where the
    /// next key starts, so trailing comments and blank lines belong to it).
    let bytes: Range<Int>
    let position: Position
    let idColumn: Int
    /// The first byte of the token after the mapping (`nil` at the end of the file): the same
    /// text followed by something else, such as more indentation, may not end there.
    let following: UInt8?
}

/// A tenant the composer did not compose because its text is the previous load's.
struct ReusedTenant {
    /// The empty mapping standing in for the tenant in the document, so that the reader can
    /// tell this occurrence from a duplicate of the same id.
    let node: YAMLNode
    let source: TenantSource
}

/// Byte offsets of libyaml's marks, which count Unicode scalars rather than bytes.
struct ScalarOffsets {
    private let bytes: UnsafeBufferPointer<UInt8>
    private let isASCII: Bool
    private var scalar = 0
    private var byte = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
        self.isASCII = bytes.allSatisfy { $0 < 0x80 }
    }

    /// Marks arrive in file order, so the walk resumes where the last one stopped.
    mutating func byteOffset(ofScalar index: Int) -> Int {
        if isASCII { return min(index, bytes.count) }
        if index < scalar { (scalar, byte) = (0, 0) }
        while scalar < index, byte < bytes.count {
            byte += 1
            while byte < bytes.count, bytes[byte] & 0xC0 == 0x80 { byte += 1 }
            scalar += 1
        }
        return byte
    }
}
