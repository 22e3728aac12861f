import Foundation

/// A file's text with some ranges cut out, and the way back from the shorter text's offsets
/// and lines to the file's.
///
/// ``TenantMask`` cuts out the tenants it reuses, so that libyaml reads a few bytes for each of
/// them instead of all their text; the composer then maps every mark libyaml reports in the
/// shorter text back to the file, so that positions and spans are the file's.
struct TextCuts {
    /// The shorter text.
    let text: [UInt8]
    /// Offsets in ``text`` where a range was cut, ascending.
    private let points: [Int]
    /// Running totals of the bytes and line breaks cut at each point and before it.
    private let bytesCut: [Int]
    private let lineBreaksCut: [Int]

    /// `ranges` must not overlap.
    init(_ file: UnsafeBufferPointer<UInt8>, cutting ranges: [Range<Int>]) {
        var text: [UInt8] = []
        text.reserveCapacity(file.count - ranges.reduce(0) { $0 + $1.count })
        var points: [Int] = []
        var bytesCut: [Int] = []
        var lineBreaksCut: [Int] = []
        points.reserveCapacity(ranges.count)
        bytesCut.reserveCapacity(ranges.count)
        lineBreaksCut.reserveCapacity(ranges.count)
        var kept = 0
        for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            text.append(contentsOf: UnsafeBufferPointer(rebasing: file[kept..<range.lowerBound]))
            points.append(text.count)
            bytesCut.append((bytesCut.last ?? 0) + range.count)
            lineBreaksCut.append((lineBreaksCut.last ?? 0) + Self.lineBreaks(in: UnsafeBufferPointer(rebasing: file[range])))
            kept = range.upperBound
        }
        text.append(contentsOf: UnsafeBufferPointer(rebasing: file[kept...]))
        self.text = text
        self.points = points
        self.bytesCut = bytesCut
        self.lineBreaksCut = lineBreaksCut
    }

    /// The file's byte offset of an offset in ``text``. An offset at a cut point is the text
    /// before the cut: the empty value libyaml reads for a cut-out tenant stands there.
    func fileOffset(_ offset: Int) -> Int {
        let cuts = cutsBefore(offset)
        return cuts == 0 ? offset : offset + bytesCut[cuts - 1]
    }

    /// The file's line (counted from 0, as libyaml does) of a line of ``text``, given an
    /// offset on it.
    func fileLine(_ line: Int, atOffset offset: Int) -> Int {
        let cuts = cutsBefore(offset)
        return cuts == 0 ? line : line + lineBreaksCut[cuts - 1]
    }

    /// How many cut points lie strictly before `offset`.
    private func cutsBefore(_ offset: Int) -> Int {
        var low = 0
        var high = points.count
        while low < high {
            let middle = (low + high) / 2
            if points[middle] < offset { low = middle + 1 } else { high = middle }
        }
        return low
    }

    static func lineBreaks(in bytes: UnsafeBufferPointer<UInt8>) -> Int {
        guard let base = bytes.baseAddress else { return 0 }
        var count = 0
        var start = 0
        while start < bytes.count, let found = memchr(base + start, Int32(UInt8(ascii: "\n")), bytes.count - start) {
            count += 1
            start = UnsafeRawPointer(base).distance(to: found) + 1
        }
        return count
    }
}
