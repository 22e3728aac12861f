/// "Did you mean" hints for misspelt keys, words and dialects.
enum Suggestion {
    /// The closest candidate within a small edit distance (a transposition counts as one
    /// edit, so `nmae` finds `name`), or `nil` when nothing is close enough to be a typo.
    /// A word of four or more letters that starts a candidate (`expires` for `expires_at`)
    /// counts as close too.
    static func closest(to word: String, among candidates: some Sequence<String>) -> String? {
        let lowered = word.lowercased()
        let target = Array(lowered.unicodeScalars)
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            if target.count >= 4, candidate.lowercased().hasPrefix(lowered), best == nil { best = (candidate, 2) }
            let scalars = Array(candidate.lowercased().unicodeScalars)
            let limit = min(2, max(1, scalars.count / 3))
            guard abs(scalars.count - target.count) <= limit else { continue }
            let distance = editDistance(target, scalars)
            if distance <= limit, distance < (best?.distance ?? .max) {
                best = (candidate, distance)
            }
        }
        return best?.candidate
    }

    /// ` (did you mean "name"?)`, or nothing.
    static func hint(for word: String, among candidates: some Sequence<String>) -> String {
        closest(to: word, among: candidates).map { " (did you mean \"\($0)\"?)" } ?? ""
    }

    /// Optimal string alignment distance: insertions, deletions, substitutions and adjacent
    /// transpositions.
    static func editDistance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previousPrevious = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                var value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    value = min(value, previousPrevious[j - 2] + 1)
                }
                current[j] = value
            }
            (previousPrevious, previous, current) = (previous, current, previousPrevious)
        }
        return previous[b.count]
    }
}
