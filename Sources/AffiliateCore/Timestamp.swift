#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// An instant in UTC with microsecond resolution, rendered the way each dialect wants.
///
/// Formatting is done by hand (civil-from-days arithmetic) because it runs for every timestamp
/// of every response; `ISO8601DateFormatter` is an order of magnitude slower and not `Sendable`.
public struct Timestamp: Sendable, Hashable, Comparable, Codable {
    public var microseconds: Int64

    public init(microseconds: Int64) { self.microseconds = microseconds }

    public static func now() -> Timestamp {
        Timestamp(microseconds: Int64((Date().timeIntervalSince1970 * 1_000_000).rounded()))
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool { lhs.microseconds < rhs.microseconds }

    public var secondsSinceEpoch: Int64 { Int64((Double(microseconds) / 1_000_000).rounded(.down)) }

    /// `2024-09-12T14:02:53.135Z`
    public var iso8601Milliseconds: String { format(fractionDigits: 3) }
    /// `2024-01-15T10:30:00Z`
    public var iso8601Seconds: String { format(fractionDigits: 0) }

    /// Midnight UTC of this instant's day.
    public var startOfDay: Timestamp {
        let day = Timestamp.floorDiv(microseconds, 86_400_000_000)
        return Timestamp(microseconds: day * 86_400_000_000)
    }

    public func adding(days: Int) -> Timestamp {
        Timestamp(microseconds: microseconds + Int64(days) * 86_400_000_000)
    }

    public func adding(seconds: Int64) -> Timestamp {
        Timestamp(microseconds: microseconds + seconds * 1_000_000)
    }

    public func adding(_ duration: Duration) -> Timestamp {
        Timestamp(microseconds: microseconds + duration.wholeMicroseconds)
    }

    /// A fixed-width, lexically ordered text form (microseconds since 0001-01-01), used as a
    /// sort key so that the store can page by time with a plain index.
    public var sortableText: String {
        let shifted = UInt64(bitPattern: microseconds &+ 62_135_596_800_000_000)
        let digits = String(shifted)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits
    }

    private func format(fractionDigits: Int) -> String {
        let micros = Timestamp.floorMod(microseconds, 1_000_000)
        let seconds = Timestamp.floorDiv(microseconds, 1_000_000)
        let days = Timestamp.floorDiv(seconds, 86_400)
        let secondOfDay = Int(seconds - days * 86_400)
        let (year, month, day) = Timestamp.civil(fromDays: days)
        var out = ""
        out.reserveCapacity(24)
        out += Timestamp.pad(Int(year), 4)
        out += "-" + Timestamp.pad(month, 2) + "-" + Timestamp.pad(day, 2)
        out += "T" + Timestamp.pad(secondOfDay / 3600, 2) + ":" + Timestamp.pad(secondOfDay / 60 % 60, 2)
        out += ":" + Timestamp.pad(secondOfDay % 60, 2)
        if fractionDigits == 3 { out += "." + Timestamp.pad(Int(micros / 1000), 3) }
        out += "Z"
        return out
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : (a - b + 1) / b }
    static func floorMod(_ a: Int64, _ b: Int64) -> Int64 { a - floorDiv(a, b) * b }

    /// Howard Hinnant's days-from-civil and its inverse.
    static func civil(fromDays z0: Int64) -> (Int64, Int, Int) {
        let z = z0 + 719_468
        let era = floorDiv(z, 146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = Int(doy - (153 * mp + 2) / 5 + 1)
        let m = Int(mp < 10 ? mp + 3 : mp - 9)
        return (m <= 2 ? y + 1 : y, m, d)
    }

    static func days(fromCivil year: Int64, _ month: Int, _ day: Int) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = floorDiv(y, 400)
        let yoe = y - era * 400
        let mp = Int64(month > 2 ? month - 3 : month + 9)
        let doy = (153 * mp + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// Parses ISO 8601 date-times: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM|±HHMM)`, and a bare
    /// date `YYYY-MM-DD` as midnight UTC. Returns `nil` for anything else, including impossible
    /// dates such as February 30th.
    public init?(iso8601 text: String) {
        let b = Array(text.utf8)
        func number(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= b.count else { return nil }
            var value = 0
            for i in range {
                guard b[i] >= 48, b[i] <= 57 else { return nil }
                value = value * 10 + Int(b[i] - 48)
            }
            return value
        }
        guard b.count >= 10, let year = number(0..<4), b[4] == UInt8(ascii: "-"), let month = number(5..<7),
              b[7] == UInt8(ascii: "-"), let day = number(8..<10), (1...12).contains(month), day >= 1
        else { return nil }
        let monthDays = [31, (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard day <= monthDays[month - 1] else { return nil }
        let dayNumber = Timestamp.days(fromCivil: Int64(year), month, day)
        if b.count == 10 {
            self.init(microseconds: dayNumber * 86_400_000_000)
            return
        }
        guard b.count >= 20, b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t") || b[10] == UInt8(ascii: " "),
              let hour = number(11..<13), b[13] == UInt8(ascii: ":"), let minute = number(14..<16),
              b[16] == UInt8(ascii: ":"), let second = number(17..<19), hour < 24, minute < 60, second < 61
        else { return nil }
        var i = 19
        var micros: Int64 = 0
        if b[i] == UInt8(ascii: ".") {
            i += 1
            var digits = 0
            while i < b.count, b[i] >= 48, b[i] <= 57 {
                if digits < 6 { micros = micros * 10 + Int64(b[i] - 48) }
                digits += 1
                i += 1
            }
            guard digits > 0 else { return nil }
            for _ in digits..<6 where digits < 6 { micros *= 10 }
        }
        guard i < b.count else { return nil }
        var offsetSeconds = 0
        if b[i] == UInt8(ascii: "Z") || b[i] == UInt8(ascii: "z") {
            i += 1
        } else if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
            let sign = b[i] == UInt8(ascii: "-") ? -1 : 1
            guard let oh = number(i + 1..<i + 3) else { return nil }
            var j = i + 3
            if j < b.count, b[j] == UInt8(ascii: ":") { j += 1 }
            guard let om = number(j..<j + 2), oh < 24, om < 60 else { return nil }
            offsetSeconds = sign * (oh * 3600 + om * 60)
            i = j + 2
        } else {
            return nil
        }
        guard i == b.count else { return nil }
        let seconds = dayNumber * 86_400 + Int64(hour * 3600 + minute * 60 + second) - Int64(offsetSeconds)
        self.init(microseconds: seconds * 1_000_000 + micros)
    }
}

extension Duration {
    /// Whole microseconds, rounded down: the engine's time resolution.
    public var wholeMicroseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000 + attoseconds / 1_000_000_000_000
    }
}
