import Foundation

/// The new file's text with the unchanged tenants it can find without parsing cut out, so
/// that libyaml does not tokenize a thousand tenants to reuse 999 of them.
///
/// Passing over a reused tenant (``TenantLayout``) still had libyaml scan every one of its
/// tokens: about half of a one-tenant reload of a 1,000-tenant file. A tenant whose text lies
/// in the stretch the old and new files share at their start, or at their end, is found by
/// offset alone. Its text is cut out (``TextCuts``), so libyaml reads an empty value after the
/// tenant's key, and every mark it reports is mapped back to the file's offsets and lines.
///
/// Cutting is a guess that composing then confirms: each cut-out tenant must turn up as the
/// empty value of its own key in the `tenants` mapping, right where its text was; otherwise
/// (a renamed key, an unclosed quote before it, a `%TAG` directive) the file is composed again
/// without the mask, and only errors are ever reported from an unmasked composition.
struct TenantMask {
    struct Tenant {
        let source: TenantSource
        /// Where the tenant's text stands in the new file.
        let bytes: Range<Int>
        let position: Position
    }

    /// The new file with the tenants' text cut out.
    let cuts: TextCuts
    let tenants: [String: Tenant]

    /// `nil` when no tenant can be found by offset.
    init?(_ bytes: UnsafeBufferPointer<UInt8>, previous: ConfigSource) {
        let old = previous.bytes
        // Lines are counted by "\n" below and in the cuts.
        guard Self.breaksLinesOnlyWithNewline(bytes), old.withUnsafeBufferPointer(Self.breaksLinesOnlyWithNewline)
        else { return nil }
        let prefix = Self.commonPrefix(bytes, old)
        let suffix = Self.commonSuffix(bytes, old, limit: min(bytes.count, old.count) - prefix)
        let shift = bytes.count - old.count
        var lineShift: Int?
        var tenants: [String: Tenant] = [:]
        var cut: [Range<Int>] = []
        tenants.reserveCapacity(previous.tenants.count)
        cut.reserveCapacity(previous.tenants.count)
        for (id, source) in previous.tenants {
            let range: Range<Int>
            // The byte after the text decides where the text ends, so it must be shared too.
            let end = source.bytes.upperBound + (source.following == nil ? 0 : 1)
            if end <= prefix {
                range = source.bytes
            } else if source.bytes.lowerBound >= old.count - suffix {
                range = (source.bytes.lowerBound + shift)..<(source.bytes.upperBound + shift)
            } else {
                continue
            }
            guard source.following != nil || range.upperBound == bytes.count,
                  Self.column(of: range.lowerBound, in: bytes) == source.position.column,
                  let cutRange = Self.cutRange(of: range, in: bytes)
            else { continue }
            cut.append(cutRange)
            let moved: Int
            if range == source.bytes {
                moved = 0
            } else {
                // The files differ only between their shared start and end.
                if lineShift == nil {
                    lineShift = TextCuts.lineBreaks(in: UnsafeBufferPointer(rebasing: bytes[prefix..<(bytes.count - suffix)]))
                        - old.withUnsafeBufferPointer { TextCuts.lineBreaks(in: UnsafeBufferPointer(rebasing: $0[prefix..<(old.count - suffix)])) }
                }
                moved = lineShift!
            }
            tenants[id] = Tenant(
                source: source, bytes: range,
                position: Position(line: source.position.line + moved, column: source.position.column))
        }
        guard !tenants.isEmpty else { return nil }
        self.cuts = TextCuts(bytes, cutting: cut)
        self.tenants = tenants
    }

    /// What is cut of a tenant's text. A block mapping's text runs up to the token after it,
    /// so it ends with the line break and indentation before that token: those stay, and the
    /// token keeps its column. Text that ends at a line break or at the end of the file (a flow
    /// mapping, the last tenant) goes whole. `nil` when another token follows on the text's
    /// last line (not in a block mapping of tenants; composing would not confirm it anyway).
    private static func cutRange(of text: Range<Int>, in bytes: UnsafeBufferPointer<UInt8>) -> Range<Int>? {
        if text.upperBound == bytes.count || bytes[text.upperBound] == UInt8(ascii: "\n") { return text }
        var lineBreak = text.upperBound
        while lineBreak > text.lowerBound {
            lineBreak -= 1
            if bytes[lineBreak] == UInt8(ascii: "\n") { return text.lowerBound..<lineBreak }
        }
        return nil
    }

    /// Compared eight bytes at a time: the files are hundreds of kilobytes, compared on every reload.
    private static func commonPrefix(_ new: UnsafeBufferPointer<UInt8>, _ old: [UInt8]) -> Int {
        old.withUnsafeBufferPointer { old in
            let limit = min(new.count, old.count)
            var count = 0
            while count + 8 <= limit,
                  UnsafeRawPointer(new.baseAddress! + count).loadUnaligned(as: UInt64.self)
                      == UnsafeRawPointer(old.baseAddress! + count).loadUnaligned(as: UInt64.self) {
                count += 8
            }
            while count < limit, new[count] == old[count] { count += 1 }
            return count
        }
    }

    private static func commonSuffix(_ new: UnsafeBufferPointer<UInt8>, _ old: [UInt8], limit: Int) -> Int {
        old.withUnsafeBufferPointer { old in
            var count = 0
            while count + 8 <= limit,
                  UnsafeRawPointer(new.baseAddress! + new.count - count - 8).loadUnaligned(as: UInt64.self)
                      == UnsafeRawPointer(old.baseAddress! + old.count - count - 8).loadUnaligned(as: UInt64.self) {
                count += 8
            }
            while count < limit, new[new.count - 1 - count] == old[old.count - 1 - count] { count += 1 }
            return count
        }
    }

    /// libyaml's column (Unicode scalars from the line start, from 1) of a byte offset.
    private static func column(of offset: Int, in bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var start = offset
        while start > 0, bytes[start - 1] != UInt8(ascii: "\n") { start -= 1 }
        return bytes[start..<offset].reduce(1) { $1 & 0xC0 == 0x80 ? $0 : $0 + 1 }
    }

    /// No carriage return and no NEL, LINE SEPARATOR or PARAGRAPH SEPARATOR, which libyaml
    /// also counts as line breaks.
    private static func breaksLinesOnlyWithNewline(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        if memchr(base, 0x0D, bytes.count) != nil { return false }
        // NEL is C2 85; LINE and PARAGRAPH SEPARATOR are E2 80 A8 and E2 80 A9.
        for (lead, tails) in [(UInt8(0xC2), [[UInt8(0x85)]]), (0xE2, [[0x80, 0xA8], [0x80, 0xA9]])] {
            var start = 0
            while start < bytes.count, let found = memchr(base + start, Int32(lead), bytes.count - start) {
                let index = UnsafeRawPointer(base).distance(to: found)
                for tail in tails where index + tail.count < bytes.count
                    && zip(tail, bytes[(index + 1)...]).allSatisfy({ $0 == $1 }) {
                    return false
                }
                start = index + 1
            }
        }
        return true
    }
}
