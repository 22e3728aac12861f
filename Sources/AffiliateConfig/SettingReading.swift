import AffiliateCore

/// Dialect-declared tenant settings, typed by the kind the dialect gave them.
extension ConfigReader {
    func settingValue(_ field: Field, _ setting: SettingDescriptor) -> SettingValue? {
        switch setting.kind {
        case .integer(let range):
            guard let number = wholeNumber(field) else { return nil }
            guard let value = Int(exactly: number), range.contains(value) else {
                problem("must be from \(range.lowerBound) to \(range.upperBound)", at: field.value, path: field.path)
                return nil
            }
            return .integer(value)
        case .duration:
            guard let text = text(field, expected: "a duration (90s, 15m, 24h, 7d)") else { return nil }
            guard let seconds = DurationText.seconds(in: text) else {
                problem("invalid duration \"\(text)\": expected a whole number followed by s, m, h or d (90s, 15m, 24h, 7d)",
                        at: field.value, path: field.path)
                return nil
            }
            return .seconds(seconds)
        case .choice(let words):
            guard let text = text(field, expected: "one of: \(words.joined(separator: ", "))") else { return nil }
            guard words.contains(text) else {
                let hint = Suggestion.closest(to: text, among: words).map { "did you mean \"\($0)\"? " } ?? ""
                problem("unknown value \"\(text)\" (\(hint)choices: \(words.joined(separator: ", ")))",
                        at: field.value, path: field.path)
                return nil
            }
            return .word(text)
        case .text:
            return text(field).map { .text($0) }
        }
    }
}

/// `90s`, `15m`, `24h`, `7d` as seconds.
enum DurationText {
    static func seconds(in text: String) -> Int64? {
        guard let unit = text.last else { return nil }
        let multiplier: Int64
        switch unit {
        case "s": multiplier = 1
        case "m": multiplier = 60
        case "h": multiplier = 3600
        case "d": multiplier = 86_400
        default: return nil
        }
        let digits = text.dropLast()
        guard !digits.isEmpty, digits.count <= 12, digits.allSatisfy(\.isASCIIDigit), let count = Int64(digits) else {
            return nil
        }
        return count * multiplier
    }
}
