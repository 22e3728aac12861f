import AffiliateCore
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
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

        func url(for path: String) -> String {
            switch self {
            case .unix(let socket):
                let absolute = socket.hasPrefix("/") ? socket : FileManager.default.currentDirectoryPath + "/" + socket
                let host = absolute.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? absolute
                return "http+unix://\(host)\(path)"
            case .http(let base):
                return base + path
            }
        }
    }

    public struct Reply: Sendable {
        public let status: Int
        public let body: JSONValue
    }

    public let address: Address
    public let token: String?

    public init(address: Address, token: String? = nil) {
        self.address = address
        self.token = token
    }

    public func get(_ path: String) async throws -> Reply { try await send(.GET, path) }
    public func post(_ path: String) async throws -> Reply { try await send(.POST, path) }

    /// One request on a short-lived client: the CLI makes a handful of calls, and a client that
    /// does not retry connecting answers "not running" at once instead of after the deadline.
    private func send(_ method: HTTPMethod, _ path: String) async throws -> Reply {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(5)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            var request = HTTPClientRequest(url: address.url(for: path))
            request.method = method
            if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
            let response = try await client.execute(request, timeout: .seconds(120))
            let body = try await response.body.collect(upTo: 16 * 1024 * 1024)
            try await client.shutdown()
            let json = (try? JSONValue(parsing: Array(buffer: body))) ?? .string(String(buffer: body))
            return Reply(status: Int(response.status.code), body: json)
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    /// The admin address a configuration file names, read leniently: `affhost reload` must find
    /// the server even when the file it is about to reload is broken.
    ///
    /// The sections above a top-level `tenants:` line are read first, and the whole file only
    /// when they do not name the address: composing a thousand tenants to read one key was 70 of
    /// the 80 ms `affhost reload` took (bench/results/README.md).
    public static func address(fromConfigFile path: String) -> Address {
        let fallback = Address.unix(path: "data/admin.sock")
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return fallback }
        for candidate in [sectionsBeforeTenants(text), text] {
            guard let candidate, let document = try? Yams.compose(yaml: candidate),
                  let listen = document["admin"]?["listen"]?.string
            else { continue }
            return Address(listen) ?? fallback
        }
        return fallback
    }

    /// The text up to a `tenants:` key in the first column, which in block style ends every
    /// section before it.
    static func sectionsBeforeTenants(_ text: String) -> String? {
        text.range(of: "\ntenants:").map { String(text[..<$0.lowerBound]) }
    }
}
