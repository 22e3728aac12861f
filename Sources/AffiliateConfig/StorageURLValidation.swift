/// Checks a `storage.url` without echoing it: a PostgreSQL URL may carry a password.
enum StorageURLValidation {
    /// `nil` when the URL is one affhost can open; otherwise what is wrong with it.
    static func problem(in url: String) -> String? {
        for prefix in ["sqlite://", "sqlite:"] where url.hasPrefix(prefix) {
            return url.count > prefix.count ? nil : "sqlite url needs a file path (sqlite:data/affhost.sqlite)"
        }
        for prefix in ["postgres://", "postgresql://"] where url.hasPrefix(prefix) {
            return postgresProblem(in: url.dropFirst(prefix.count))
        }
        guard let colon = url.firstIndex(of: ":"), colon != url.startIndex else {
            return "storage url needs a scheme: sqlite:PATH or postgres://user@host[:port]/database"
        }
        return "unsupported storage url scheme \"\(url[..<colon])\" (expected sqlite:PATH or postgres://user@host[:port]/database)"
    }

    private static func postgresProblem(in rest: Substring) -> String? {
        let example = "postgres://user@host[:port]/database"
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        let hostPort = authority.lastIndex(of: "@").map { authority[authority.index(after: $0)...] } ?? authority
        var host = hostPort
        var port: Substring?
        if hostPort.hasPrefix("[") {
            guard let close = hostPort.firstIndex(of: "]") else { return "postgres url has an unclosed \"[\" in its host" }
            host = hostPort[hostPort.index(after: hostPort.startIndex)..<close]
            let after = hostPort[hostPort.index(after: close)...]
            if after.hasPrefix(":") { port = after.dropFirst() } else if !after.isEmpty {
                return "postgres url has text after its IPv6 host"
            }
        } else if let colon = hostPort.lastIndex(of: ":") {
            host = hostPort[..<colon]
            port = hostPort[hostPort.index(after: colon)...]
        }
        guard !host.isEmpty else { return "postgres url needs a host (\(example))" }
        if let port {
            guard !port.isEmpty, port.count <= 5, port.allSatisfy(\.isASCIIDigit), let number = Int(port),
                  (1...65535).contains(number)
            else { return "postgres url has an invalid port (1...65535)" }
        }
        guard authorityEnd < rest.endIndex, rest[authorityEnd] == "/" else {
            return "postgres url needs a database name (\(example))"
        }
        let afterSlash = rest[rest.index(after: authorityEnd)...]
        let database = afterSlash.prefix { $0 != "?" && $0 != "#" }
        guard !database.isEmpty else { return "postgres url needs a database name (\(example))" }
        return nil
    }
}
