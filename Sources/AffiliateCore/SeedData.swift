/// Records a tenant starts with (fixtures, imports), already validated and shaped by its dialect.
///
/// Loading is idempotent: a record whose id exists is left as it is, so restarting or reloading
/// never overwrites what clients changed since.
public struct SeedData: Sendable, Hashable {
    public var records: [Record]
    public var claims: [UniqueClaim]
    /// Sequences to raise so that new ids exceed every seeded one.
    public var sequenceFloors: [String: Int64]

    public init(records: [Record] = [], claims: [UniqueClaim] = [], sequenceFloors: [String: Int64] = [:]) {
        self.records = records
        self.claims = claims
        self.sequenceFloors = sequenceFloors
    }

    public var isEmpty: Bool { records.isEmpty && claims.isEmpty && sequenceFloors.isEmpty }
}

/// A problem in seed input, located by its path inside the fixture document
/// (`payouts[0].promoter_id`), which the config module turns into file:line:col.
public struct SeedProblem: Error, Sendable, Hashable {
    public var path: [PathComponent]
    public var message: String

    public init(path: [PathComponent], message: String) {
        self.path = path
        self.message = message
    }

    public enum PathComponent: Sendable, Hashable, CustomStringConvertible {
        case key(String)
        case index(Int)
        public var description: String {
            switch self {
            case .key(let key): key
            case .index(let index): "[\(index)]"
            }
        }
    }

    /// `payouts[0].promoter_id`
    public var pathText: String { SeedProblem.render(path) }

    public static func render(_ path: [PathComponent]) -> String {
        var text = ""
        for component in path {
            switch component {
            case .key(let key): text += text.isEmpty ? key : "." + key
            case .index(let index): text += "[\(index)]"
            }
        }
        return text
    }
}

/// Every problem found in one seed document; validation reports them all, not the first.
public struct SeedProblems: Error, Sendable, Hashable {
    public var problems: [SeedProblem]
    public init(_ problems: [SeedProblem]) { self.problems = problems }
}
