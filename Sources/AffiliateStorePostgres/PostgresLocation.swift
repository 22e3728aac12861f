import AffiliateCore
import PostgresNIO

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Where the database is and how to log in, read from `storage.url`.
///
/// The URL follows libpq's form (`postgres://user[:password]@host[:port]/database[?sslmode=...]`)
/// so that operators can paste what their provider gives them. A host that is a folder
/// (`%2Fvar%2Frun%2Fpostgresql`, or `?host=/path`) means the server's unix socket in it.
struct PostgresLocation: Sendable, Equatable {
    enum Endpoint: Sendable, Equatable {
        case tcp(host: String, port: Int)
        /// The socket folder, as libpq takes it; the socket is `.s.PGSQL.<port>` inside.
        case socket(folder: String, port: Int)
    }

    /// libpq's `sslmode` values, which say both whether TLS is used and what is verified.
    enum TLSMode: String, Sendable, Equatable, CaseIterable {
        case disable, allow, prefer, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    var endpoint: Endpoint
    var user: String
    var password: String?
    var database: String
    var tlsMode: TLSMode
    var connectTimeout: Duration

    /// `host:port` or the socket path: what an operator needs to find the server an error is about.
    var serverName: String {
        switch endpoint {
        case .tcp(let host, let port): host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        case .socket(let folder, let port): socketPath(folder: folder, port: port)
        }
    }

    /// The URL without its password, for status output and logs.
    var redacted: String {
        let host: String
        switch endpoint {
        case .tcp(let name, let port): host = (name.contains(":") ? "[\(name)]" : Self.escape(name)) + ":\(port)"
        case .socket(let folder, let port): host = Self.escape(folder) + ":\(port)"
        }
        let query = tlsMode == .prefer ? "" : "?sslmode=\(tlsMode.rawValue)"
        return "postgres://\(Self.escape(user))@\(host)/\(Self.escape(database))\(query)"
    }

    func socketPath(folder: String, port: Int) -> String {
        (folder.hasSuffix("/") ? folder : folder + "/") + ".s.PGSQL.\(port)"
    }

    static let defaultPort = 5432
    static let passwordVariable = "AFFHOST_DATABASE_PASSWORD"

    /// Parses `url`, then takes the password from the URL, else from `passwordFile`, else from
    /// `AFFHOST_DATABASE_PASSWORD`: the explicit choice wins over the ambient one.
    static func parse(
        _ url: String, passwordFile: String? = nil, environment: [String: String] = [:]
    ) throws(StoreFailure) -> PostgresLocation {
        var location = try parse(url)
        if location.password == nil, let passwordFile {
            location.password = try readPassword(from: passwordFile)
        }
        if location.password == nil, let password = environment[passwordVariable], !password.isEmpty {
            location.password = password
        }
        return location
    }

    private static func parse(_ url: String) throws(StoreFailure) -> PostgresLocation {
        let shape = "postgres://user[:password]@host[:port]/database[?sslmode=disable]"
        func refuse(_ reason: String) -> StoreFailure {
            StoreFailure("storage.url is not a PostgreSQL URL (\(shape)): \(reason)")
        }
        var rest: Substring
        if url.hasPrefix("postgres://") {
            rest = url.dropFirst("postgres://".count)
        } else if url.hasPrefix("postgresql://") {
            rest = url.dropFirst("postgresql://".count)
        } else {
            throw refuse("it must start with postgres:// or postgresql://")
        }

        var queryText: Substring = ""
        if let mark = rest.firstIndex(of: "?") {
            queryText = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        var pathText: Substring = ""
        if let slash = rest.firstIndex(of: "/") {
            pathText = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
        }
        // The password may itself hold '@' when not escaped: the last '@' ends the user part.
        guard let at = rest.lastIndex(of: "@") else { throw refuse("the user name is missing") }
        let userInfo = rest[..<at]
        let hostPort = rest[rest.index(after: at)...]

        var password: String?
        let userText: Substring
        if let colon = userInfo.firstIndex(of: ":") {
            userText = userInfo[..<colon]
            password = try decode(userInfo[userInfo.index(after: colon)...], "the password", refuse)
        } else {
            userText = userInfo
        }
        let user = try decode(userText, "the user name", refuse)
        guard !user.isEmpty else { throw refuse("the user name is missing") }

        var host: String?
        var port: Int?
        if !hostPort.isEmpty {
            var hostText = hostPort
            if hostPort.hasPrefix("[") {
                guard let close = hostPort.firstIndex(of: "]") else { throw refuse("an IPv6 address lacks its ']'") }
                host = String(hostPort[hostPort.index(after: hostPort.startIndex)..<close])
                hostText = hostPort[hostPort.index(after: close)...]
                if !hostText.isEmpty {
                    guard hostText.hasPrefix(":") else { throw refuse("unexpected text after the IPv6 address") }
                    port = try parsePort(hostText.dropFirst(), refuse)
                }
            } else {
                if let colon = hostPort.lastIndex(of: ":") {
                    port = try parsePort(hostPort[hostPort.index(after: colon)...], refuse)
                    hostText = hostPort[..<colon]
                }
                host = try decode(hostText, "the host", refuse)
            }
        }

        let database = try decode(pathText, "the database name", refuse)
        guard !database.isEmpty else { throw refuse("the database name is missing") }

        var tlsMode = TLSMode.prefer
        var connectTimeout = Duration.seconds(10)
        for pair in queryText.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = try decode(parts[0], "a parameter name", refuse)
            let value = try decode(parts.count > 1 ? parts[1] : "", "the value of \(name)", refuse)
            switch name {
            case "sslmode":
                guard let mode = TLSMode(rawValue: value) else {
                    let known = TLSMode.allCases.map(\.rawValue).joined(separator: ", ")
                    throw refuse("sslmode \"\(value)\" is not one of \(known)")
                }
                tlsMode = mode
            case "host":
                guard !value.isEmpty else { throw refuse("host= is empty") }
                host = value
            case "port":
                port = try parsePort(Substring(value), refuse)
            case "connect_timeout":
                guard let seconds = Int(value), seconds > 0, seconds <= 3600 else {
                    throw refuse("connect_timeout must be a whole number of seconds between 1 and 3600")
                }
                connectTimeout = .seconds(seconds)
            default:
                throw refuse("unknown parameter \"\(name)\" (known: sslmode, host, port, connect_timeout)")
            }
        }

        guard let host, !host.isEmpty else { throw refuse("the host is missing") }
        let resolvedPort = port ?? defaultPort
        let endpoint: Endpoint = host.hasPrefix("/")
            ? .socket(folder: host, port: resolvedPort)
            : .tcp(host: host, port: resolvedPort)
        return PostgresLocation(
            endpoint: endpoint, user: user, password: password, database: database, tlsMode: tlsMode,
            connectTimeout: connectTimeout
        )
    }

    private static func parsePort(_ text: Substring, _ refuse: (String) -> StoreFailure) throws(StoreFailure) -> Int {
        guard let port = Int(text), (1...65535).contains(port) else {
            throw refuse("port \"\(text)\" is not a number between 1 and 65535")
        }
        return port
    }

    private static func decode(
        _ text: Substring, _ what: String, _ refuse: (String) -> StoreFailure
    ) throws(StoreFailure) -> String {
        guard let decoded = String(text).removingPercentEncoding else {
            throw refuse("\(what) has an invalid %-escape")
        }
        return decoded
    }

    /// RFC 3986 percent-encoding of everything but unreserved characters.
    private static func escape(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                 UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".unicodeScalars)
                out += "%"
                out.unicodeScalars.append(hex[Int(byte >> 4)])
                out.unicodeScalars.append(hex[Int(byte & 0xF)])
            }
        }
        return out
    }

    /// The file's first line: editors and `echo` add a final newline that is not part of it.
    private static func readPassword(from path: String) throws(StoreFailure) -> String {
        guard FileManager.default.fileExists(atPath: path) else {
            throw StoreFailure("the database password file \(path) does not exist")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw StoreFailure("the database password file \(path) cannot be read")
        }
        let text = String(decoding: data, as: UTF8.self)
        let password = String(text.prefix { !$0.isNewline })
        guard !password.isEmpty else { throw StoreFailure("the database password file \(path) is empty") }
        return password
    }
}
