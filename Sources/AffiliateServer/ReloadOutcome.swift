import AffiliateCore

/// The synchronous answer to a reload, as `affhost reload` prints it.
public enum ReloadOutcome: Sendable, Hashable {
    /// The file's bytes are the ones already serving: nothing was done.
    case unchanged(digest: String)
    case applied(digest: String, changes: ConfigChanges, milliseconds: Double)
    /// Nothing was applied; the previous configuration keeps serving.
    case refused(problems: [String])

    /// `unchanged`, `applied` or `refused`: the admin API's `result` and the reload metric's label.
    public var result: String {
        switch self {
        case .unchanged: "unchanged"
        case .applied: "applied"
        case .refused: "refused"
        }
    }

    public var json: JSONValue {
        switch self {
        case .unchanged(let digest):
            .object(["result": .string(result), "digest": .string(digest)])
        case .applied(let digest, let changes, let milliseconds):
            .object([
                "result": .string(result), "digest": .string(digest), "changes": changes.json,
                "milliseconds": .number(String(format: milliseconds)),
            ])
        case .refused(let problems):
            .object(["result": .string(result), "errors": .array(problems.map(JSONValue.string))])
        }
    }

    static let results = ["applied", "unchanged", "refused"]

    /// Lines for a terminal or the log.
    public var summary: [String] {
        switch self {
        case .unchanged:
            return ["configuration unchanged; nothing to do"]
        case .applied(_, let changes, let milliseconds):
            var lines = ["configuration applied in \(String(format: milliseconds)) ms"]
            func add(_ label: String, _ items: [String]) {
                if !items.isEmpty { lines.append("  \(label): \(items.joined(separator: ", "))") }
            }
            add("tenants added", changes.tenantsAdded)
            add("tenants removed", changes.tenantsRemoved)
            add("tenants changed", changes.tenantsChanged)
            add("keys added", changes.keysAdded)
            add("keys revoked", changes.keysRevoked)
            add("dialects changed", changes.dialectChanges.map { "\($0.tenant) \($0.from) -> \($0.to)" })
            if changes.isEmpty { lines.append("  (file changed; no tenant or key changed)") }
            return lines
        case .refused(let problems):
            return ["configuration refused; the previous configuration keeps serving"] + problems.map { "  " + $0 }
        }
    }
}

private func String(format milliseconds: Double) -> String {
    let rounded = (milliseconds * 10).rounded() / 10
    return Swift.String(rounded)
}
