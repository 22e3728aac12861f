public import OpenAPIKit

extension OpenAPI.Response.Map {
    /// An operation's own responses plus the dialect's host-level ones (401, 413, 429, 500,
    /// 503) it does not override, ordered by status code so documents diff cleanly.
    public func adding(common: OpenAPI.Response.Map) -> OpenAPI.Response.Map {
        var all = self
        for (status, response) in common where all[status] == nil { all[status] = response }
        var sorted: OpenAPI.Response.Map = [:]
        for status in all.keys.sorted(by: { $0.rawValue < $1.rawValue }) { sorted[status] = all[status] }
        return sorted
    }
}
