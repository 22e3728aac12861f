/// One thing wrong with a configuration, located well enough for an operator to fix it
/// without reading the whole file: file, line and column (1-based) and the key path.
public struct ConfigProblem: Sendable, Hashable, CustomStringConvertible {
    public let file: String
    public let line: Int
    public let column: Int
    /// `tenants.acme.statuses.payouts[3]`; empty when the problem is about the document itself.
    public let path: String
    public let message: String

    public init(file: String, line: Int, column: Int, path: String, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.path = path
        self.message = message
    }

    /// `config/affhost.yaml:14:9 tenants.acme.statuses.payouts[3]: unknown status word "done" (...)`,
    /// the shape editors and terminals turn into a link to the position.
    public var description: String {
        let location = "\(file):\(line):\(column)"
        return path.isEmpty ? "\(location): \(message)" : "\(location) \(path): \(message)"
    }
}

/// Every problem found in one configuration, in file order: `check` and `reload` show them
/// all at once so that one edit can fix them all.
public struct ConfigErrors: Error, Sendable, CustomStringConvertible {
    public let problems: [ConfigProblem]

    public init(problems: [ConfigProblem]) { self.problems = problems }

    /// One line per problem.
    public var description: String { problems.map(\.description).joined(separator: "\n") }
}
