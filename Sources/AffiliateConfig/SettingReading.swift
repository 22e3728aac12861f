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

extension DurationText {
    /// `100ms`, `5s`, `5m`, `2h`, `30d`: the webhook settings' durations, which take
    /// milliseconds too because tests run retry schedules of a fraction of a second.
    static func duration(in text: String) -> Duration? {
        guard text.hasSuffix("ms") else { return seconds(in: text).map { .seconds($0) } }
        let digits = text.dropLast(2)
        guard !digits.isEmpty, digits.count <= 15, digits.allSatisfy(\.isASCIIDigit), let count = Int64(digits) else {
            return nil
        }
        return .milliseconds(count)
    }
}

extension ConfigReader {
    /// A duration in `ms`, `s`, `m`, `h` or `d`, no shorter than `minimum` and no longer than
    /// `maximum` (each with the text the message shows for it).
    func duration(_ field: Field, minimum: (Duration, String), maximum: (Duration, String)? = nil) -> Duration? {
        duration(field.value, path: field.path, minimum: minimum, maximum: maximum)
    }

    /// Same, for a list element.
    func duration(
        _ node: YAMLNode, path: String, minimum: (Duration, String), maximum: (Duration, String)? = nil
    ) -> Duration? {
        guard let text = node.wordText else {
            typeProblem(expected: "a duration (100ms, 5s, 5m, 2h, 30d)", node, path: path)
            return nil
        }
        guard let duration = DurationText.duration(in: text) else {
            problem("invalid duration \"\(text)\": expected a whole number followed by ms, s, m, h or d (100ms, 5s, 5m, 2h, 30d)",
                    at: node, path: path)
            return nil
        }
        if let maximum, duration < minimum.0 || duration > maximum.0 {
            problem("must be from \(minimum.1) to \(maximum.1)", at: node, path: path)
            return nil
        }
        guard duration >= minimum.0 else {
            problem("must be at least \(minimum.1)", at: node, path: path)
            return nil
        }
        return duration
    }
}
