/// A position in a YAML file, 1-based like the marks libyaml reports.
struct Position: Sendable, Hashable, Comparable {
    var line: Int
    var column: Int

    static let start = Position(line: 1, column: 1)

    init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    static func < (lhs: Position, rhs: Position) -> Bool {
        (lhs.line, lhs.column) < (rhs.line, rhs.column)
    }
}

/// Collects problems while the whole file is walked, and hands them back in file order.
///
/// Checks run in dependency order rather than file order (a tenant's transitions need its
/// vocabulary, its settings need its dialect), so each problem keeps the position in the main
/// file it belongs under; fixture-file problems sort under the `fixtures:` line that named them.
final class ProblemLog {
    let file: String
    private var entries: [(anchor: Position, own: Position, sequence: Int, problem: ConfigProblem)] = []

    init(file: String) { self.file = file }

    var count: Int { entries.count }
    var isEmpty: Bool { entries.isEmpty }

    func add(_ message: String, at position: Position, path: String) {
        append(anchor: position, own: position, ConfigProblem(
            file: file, line: position.line, column: position.column, path: path, message: message))
    }

    func add(_ message: String, at node: YAMLNode, path: String) {
        add(message, at: node.position, path: path)
    }

    /// A problem inside another file (fixtures), listed where `anchor` sits in the main file.
    func add(_ message: String, inFile otherFile: String, at position: Position, path: String, anchor: Position) {
        append(anchor: anchor, own: position, ConfigProblem(
            file: otherFile, line: position.line, column: position.column, path: path, message: message))
    }

    private func append(anchor: Position, own: Position, _ problem: ConfigProblem) {
        entries.append((anchor, own, entries.count, problem))
    }

    var sortedProblems: [ConfigProblem] {
        entries.sorted { lhs, rhs in
            if lhs.anchor != rhs.anchor { return lhs.anchor < rhs.anchor }
            if lhs.own != rhs.own { return lhs.own < rhs.own }
            return lhs.sequence < rhs.sequence
        }.map(\.problem)
    }
}
