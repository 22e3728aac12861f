/// A resource's status words in configured order, each with its phase.
///
/// Order matters: the first word is the initial status and error texts list words in this order.
public struct Vocabulary: Sendable, Hashable {
    public let words: [String]
    private let phaseByWord: [String: Phase]

    /// Builds a vocabulary from ordered (word, phase) pairs. Callers validate that the list is
    /// non-empty and the words distinct; the config module reports those problems with positions.
    public init(_ entries: [(word: String, phase: Phase)]) {
        precondition(!entries.isEmpty, "a vocabulary needs at least one word")
        self.words = entries.map(\.word)
        var phases: [String: Phase] = [:]
        for entry in entries where phases[entry.word] == nil { phases[entry.word] = entry.phase }
        self.phaseByWord = phases
    }

    public var initial: String { words[0] }
    public func phase(of word: String) -> Phase? { phaseByWord[word] }
    public func contains(_ word: String) -> Bool { phaseByWord[word] != nil }
    /// The words as error messages list them: `pending, processing, completed`.
    public var listed: String { words.joined(separator: ", ") }

    public static func == (lhs: Vocabulary, rhs: Vocabulary) -> Bool {
        lhs.words == rhs.words && lhs.phaseByWord == rhs.phaseByWord
    }
    public func hash(into hasher: inout Hasher) { hasher.combine(words) }
}

/// Allowed moves between status words; `nil` on ``StatusPolicy`` means any move is allowed.
public struct Transitions: Sendable, Hashable {
    public let allowed: [String: Set<String>]
    public init(_ allowed: [String: Set<String>]) { self.allowed = allowed }
    public func allows(from: String, to: String) -> Bool { allowed[from]?.contains(to) ?? false }
}

/// What a tenant allows for one resource's status: its vocabulary and optional transitions.
public struct StatusPolicy: Sendable, Hashable {
    public let vocabulary: Vocabulary
    public let transitions: Transitions?

    public init(vocabulary: Vocabulary, transitions: Transitions? = nil) {
        self.vocabulary = vocabulary
        self.transitions = transitions
    }

    /// Checks a move and describes it; `nil` means the record already has that status (a no-op).
    ///
    /// `from == nil` is a creation: any word of the vocabulary is accepted, because transitions
    /// constrain moves, not the status a record is born with.
    public func move(resource: String, from: String?, to word: String) throws(EngineError) -> StatusChange? {
        guard let toPhase = vocabulary.phase(of: word) else {
            throw .invalidStatus(resource: resource, word: word, allowed: vocabulary.words)
        }
        guard let from else {
            return StatusChange(from: nil, to: word, fromPhase: nil, toPhase: toPhase)
        }
        if from == word { return nil }
        if let transitions, !transitions.allows(from: from, to: word) {
            throw .transitionNotAllowed(resource: resource, from: from, to: word)
        }
        return StatusChange(from: from, to: word, fromPhase: vocabulary.phase(of: from), toPhase: toPhase)
    }
}

/// A validated status move, with the phases that decide its side effects.
public struct StatusChange: Sendable, Hashable {
    public let from: String?
    public let to: String
    /// `nil` when the record is new, or when its stored word left the vocabulary.
    public let fromPhase: Phase?
    public let toPhase: Phase

    public init(from: String?, to: String, fromPhase: Phase?, toPhase: Phase) {
        self.from = from
        self.to = to
        self.fromPhase = fromPhase
        self.toPhase = toPhase
    }

    public var entersSettled: Bool { toPhase == .settled && fromPhase != .settled }
    public var leavesSettled: Bool { fromPhase == .settled && toPhase != .settled }
}
