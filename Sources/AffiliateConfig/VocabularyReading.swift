import AffiliateCore

/// `statuses:` and `transitions:`: each resource's words, their phases and allowed moves.
extension ConfigReader {
    static let phaseList = Phase.allCases.map(\.rawValue).joined(separator: ", ")

    /// A policy for every resource of the dialect: the tenant's vocabulary or the dialect's
    /// default, with the tenant's transitions when given.
    func readStatusPolicies(
        statuses: Field?, transitions: Field?, dialect: DialectCatalog.Dialect?, tenant: Fields
    ) -> [String: StatusPolicy]? {
        var vocabularies: [String: Vocabulary] = [:]
        /// Resources whose vocabulary was wrong: their transitions are not checked against it.
        var unusable: Set<String> = []
        if let statuses, let fields = mapping(statuses.value, at: statuses.path,
                                              expected: "a mapping of resources to status words") {
            for field in fields.all where isResource(field, of: dialect) {
                if let vocabulary = readVocabulary(field, dialect: dialect) {
                    vocabularies[field.key] = vocabulary
                } else {
                    unusable.insert(field.key)
                }
            }
        }
        var allowedMoves: [String: Transitions] = [:]
        if let transitions, let fields = mapping(transitions.value, at: transitions.path,
                                                 expected: "a mapping of resources to transitions") {
            for field in fields.all where isResource(field, of: dialect) {
                let vocabulary = unusable.contains(field.key)
                    ? nil : vocabularies[field.key] ?? dialect?.defaultPolicies[field.key]?.vocabulary
                if let moves = readTransitions(field, vocabulary: vocabulary) { allowedMoves[field.key] = moves }
            }
        }
        guard let dialect else { return nil }
        var policies: [String: StatusPolicy] = [:]
        for resource in dialect.resourceNames {
            guard let vocabulary = vocabularies[resource] ?? dialect.defaultPolicies[resource]?.vocabulary else {
                if !unusable.contains(resource) {
                    problem("dialect \(dialect.provider.dialect) has no default vocabulary for \(resource): declare statuses.\(resource)",
                            at: statuses?.value ?? tenant.node, path: statuses?.path ?? tenant.path)
                }
                continue
            }
            policies[resource] = StatusPolicy(vocabulary: vocabulary, transitions: allowedMoves[resource])
        }
        return policies
    }

    private func isResource(_ field: Field, of dialect: DialectCatalog.Dialect?) -> Bool {
        guard let dialect else { return true }
        if dialect.resources[field.key] != nil { return true }
        let names = dialect.resourceNames
        let detail = Suggestion.closest(to: field.key, among: names).map { "did you mean \"\($0)\"?" }
            ?? "resources: \(names.joined(separator: ", "))"
        problem("unknown resource \"\(field.key)\" for dialect \(dialect.provider.dialect) (\(detail))",
                at: field.keyNode, path: field.path)
        return false
    }

    /// A list of words the dialect knows, or a mapping of words to phases. Without a dialect
    /// the shape is still checked; the words cannot be.
    private func readVocabulary(_ field: Field, dialect: DialectCatalog.Dialect?) -> Vocabulary? {
        let knownPhases = dialect?.knownPhases[field.key]
        var entries: [(word: String, phase: Phase)] = []
        var complete = true
        switch field.value.content {
        case .sequence(let sequence):
            var seen: [String] = []
            for (index, node) in sequence.enumerated() {
                let path = ConfigPath.index(field.path, index)
                guard let word = statusWord(node, path: path) else {
                    complete = false
                    continue
                }
                // Vocabularies are a handful of words: a scan beats hashing.
                guard !seen.contains(word) else {
                    problem("duplicate status word \"\(word)\"", at: node, path: path)
                    complete = false
                    continue
                }
                seen.append(word)
                guard let knownPhases else {
                    complete = false
                    continue
                }
                guard let phase = knownPhases[word] else {
                    let known = dialect?.resources[field.key]?.knownWords.map(\.word).joined(separator: ", ") ?? ""
                    problem("unknown status word \"\(word)\" (no phase given; known words: \(known))", at: node, path: path)
                    complete = false
                    continue
                }
                entries.append((word, phase))
            }
        case .mapping:
            guard let words = mapping(field.value, at: field.path) else { return nil }
            for entry in words.all {
                guard let text = entry.value.wordText else {
                    typeProblem(expected: "a phase (\(Self.phaseList))", entry.value, path: entry.path)
                    complete = false
                    continue
                }
                guard let phase = Phase(rawValue: text) else {
                    problem("unknown phase \"\(text)\" (phases: \(Self.phaseList))", at: entry.value, path: entry.path)
                    complete = false
                    continue
                }
                guard !entry.key.isBlank else {
                    problem("a status word must not be empty", at: entry.keyNode, path: entry.path)
                    complete = false
                    continue
                }
                entries.append((entry.key, phase))
            }
        default:
            typeProblem(expected: "a list of status words or a mapping of words to phases", field.value, path: field.path)
            return nil
        }
        if entries.isEmpty, complete {
            problem("a vocabulary needs at least one status word", at: field.value, path: field.path)
            return nil
        }
        return complete ? Vocabulary(entries) : nil
    }

    private func statusWord(_ node: YAMLNode, path: String) -> String? {
        guard let word = node.wordText else {
            typeProblem(expected: "a status word", node, path: path)
            return nil
        }
        guard !word.isBlank else {
            problem("a status word must not be empty", at: node, path: path)
            return nil
        }
        return word
    }

    /// `{ pending: [processing, completed], ... }`: words the tenant may move each word to.
    /// With `vocabulary == nil` (it was wrong or unknown) only the shape is checked.
    private func readTransitions(_ field: Field, vocabulary: Vocabulary?) -> Transitions? {
        guard let moves = mapping(field.value, at: field.path,
                                  expected: "a mapping of status words to the words they may move to")
        else { return nil }
        var allowed: [String: Set<String>] = [:]
        var complete = vocabulary != nil
        func check(_ word: String, at node: YAMLNode, path: String) {
            guard let vocabulary, !vocabulary.contains(word) else { return }
            problem("unknown status word \"\(word)\" for \(field.key) (words: \(vocabulary.listed))", at: node, path: path)
            complete = false
        }
        for move in moves.all {
            check(move.key, at: move.keyNode, path: move.path)
            guard let targets = list(move, expected: "a list of status words") else {
                complete = false
                continue
            }
            var destinations: Set<String> = []
            for (index, node) in targets.enumerated() {
                let path = ConfigPath.index(move.path, index)
                guard let word = statusWord(node, path: path) else {
                    complete = false
                    continue
                }
                check(word, at: node, path: path)
                destinations.insert(word)
            }
            allowed[move.key] = destinations
        }
        return complete ? Transitions(allowed) : nil
    }
}
