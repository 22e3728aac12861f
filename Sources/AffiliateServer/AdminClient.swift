import AffiliateCore
import Foundation
import NIOPosix
import Yams

/// Talks to a running affhost's admin API, over its unix socket or loopback TCP.
public struct AdminClient: Sendable {
    public enum Address: Sendable, Hashable, CustomStringConvertible {
        case unix(path: String)
        case http(baseURL: String)

        /// `unix:data/admin.sock`, `unix:/run/affhost/admin.sock`, `127.0.0.1:3001` or `http://127.0.0.1:3001`.
        public init?(_ text: String) {
            if text.hasPrefix("unix:") {
                let path = String(text.dropFirst("unix:".count))
                guard !path.isEmpty else { return nil }
                self = .unix(path: path)
            } else if text.hasPrefix("http://") {
                self = .http(baseURL: String(text.hasSuffix("/") ? text.dropLast() : Substring(text)))
            } else if text.contains(":"), !text.contains("/") {
                self = .http(baseURL: "http://" + text)
            } else {
                return nil
            }
        }

        public var description: String {
            switch self {
            case .unix(let path): "unix:\(path)"
            case .http(let base): base
            }
        }

        /// Where to connect, and the Host header to send there.
        var exchange: AdminExchange {
            switch self {
            case .unix(let path):
                return AdminExchange(endpoint: .unix(path: path), hostHeader: "localhost")
            case .http(let base):
                let url = URLComponents(string: base)
                let written = url?.percentEncodedHost ?? ""
                let host = written.hasPrefix("[") && written.hasSuffix("]") ? String(written.dropFirst().dropLast()) : written
                let port = url?.port
                return AdminExchange(
                    endpoint: .tcp(host: host, port: String(port ?? 80)),
                    hostHeader: written + (port.map { ":\($0)" } ?? ""))
            }
        }
    }

    public struct Reply: Sendable {
        public let status: Int
        public let body: JSONValue

        /// What to tell the operator about an answer that is not a success: the admin API's own
        /// error, or, from something else listening there, its HTTP status.
        public var problem: String {
            if let error = body["error"]?.stringValue { return error }
            if case .string(let text) = body {
                return text.isEmpty ? "HTTP \(status) with an empty body; is this an affhost admin address?" : "HTTP \(status): \(text)"
            }
            return "HTTP \(status): \(body.serialized)"
        }
    }

    public let address: Address
    public let token: String?

    public init(address: Address, token: String? = nil) {
        self.address = address
        self.token = token
    }

    public func get(_ path: String) async throws -> Reply { try await send("GET", path) }
    public func post(_ path: String) async throws -> Reply { try await send("POST", path) }
    /// A POST with a JSON body.
    public func post(_ path: String, json: JSONValue) async throws -> Reply {
        try await send("POST", path, body: json.serializedBytes)
    }

    /// One request on its own connection, on a thread that may block: the server closes the
    /// connection after answering, and a server that is not running is reported at once.
    private func send(_ method: String, _ path: String, body: [UInt8] = []) async throws -> Reply {
        let exchange = address.exchange
        let headers = token.map { [("Authorization", "Bearer \($0)")] } ?? []
        let response = try await NIOThreadPool.singleton.runIfActive {
            try exchange.perform(method: method, path: path, headers: headers, body: body)
        }
        let json = (try? JSONValue(parsing: response.body)) ?? .string(String(decoding: response.body, as: UTF8.self))
        return Reply(status: response.status, body: json)
    }

    /// The admin address a configuration file names, read leniently: `affhost reload` must find
    /// the server even when the file it is about to reload is broken.
    ///
    /// The sections above a top-level `tenants:` line are read first, from the file's first
    /// 64 KiB, and the whole file only when they do not name the address: composing a thousand
    /// tenants to read one key was 70 of the 80 ms `affhost reload` took, and reading them was
    /// still a tenth of the command's CPU (bench/results/README.md).
    public static func address(fromConfigFile path: String) -> Address {
        let fallback = Address.unix(path: "data/admin.sock")
        guard let file = FileHandle(forReadingAtPath: path) else { return fallback }
        defer { try? file.close() }
        guard let head = try? file.read(upToCount: 65_536) ?? Data() else { return fallback }
        if let sections = sectionsBeforeTenants(String(decoding: head, as: UTF8.self)),
           let listen = adminListen(in: sections) {
            return Address(listen) ?? fallback
        }
        guard let rest = try? file.readToEnd() ?? Data(), let listen = adminListen(in: String(decoding: head + rest, as: UTF8.self))
        else { return fallback }
        return Address(listen) ?? fallback
    }

    private static func adminListen(in text: String) -> String? {
        guard let document = try? Yams.compose(yaml: text, .basic) else { return nil }
        return value(of: "listen", in: value(of: "admin", in: document))?.string
    }

    /// Looks `key` up by its text. The lookup is written out, like the `.basic` resolver above,
    /// because Yams' default resolver compiles its regular expressions on first use, which was
    /// a fifth of the command's CPU for one plain string.
    private static func value(of key: String, in node: Node?) -> Node? {
        node?.mapping?.first { $0.key.string == key }?.value
    }

    /// The text up to a `tenants:` key in the first column, which in block style ends every
    /// section before it.
    static func sectionsBeforeTenants(_ text: String) -> String? {
        text.range(of: "\ntenants:").map { String(text[..<$0.lowerBound]) }
    }
}
