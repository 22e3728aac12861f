import AffiliateCore
import AffiliateServer
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import ServiceLifecycle

@testable import affhost

/// A real affhost for one test: real YAML file, real SQLite file in a fresh temporary folder,
/// the compiled-in dialects, listening on a free loopback port, spoken to over real HTTP.
struct TestHost: Sendable {
    let directory: String
    let port: Int
    /// The admin listener's port when it listens on TCP (0 for the default unix socket).
    let adminPort: Int
    let runtime: HostRuntime
    var store: any Store { runtime.store }

    /// The repository's root, for the demo configuration and its fixtures.
    static let repositoryRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// Starts the server with `yaml` (every `$DIR` replaced by the temporary folder, into which
    /// `files` are written first) and stops it after `body`. Unless the YAML sets them, storage
    /// goes to `$DIR/affhost.sqlite`, the public listener to a free port and the admin socket
    /// to `$DIR/admin.sock`.
    static func run(
        yaml: String, files: [String: String] = [:], _ body: (TestHost) async throws -> Void
    ) async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = try writeConfig(yaml, files: files, into: directory)
        try await serve(configPath: path, directory: directory, body)
    }

    /// Writes `files` and the configuration (with `$DIR` and the test defaults filled in) into
    /// `directory`; returns the configuration's path. For tests that serve one folder twice.
    static func writeConfig(_ yaml: String, files: [String: String] = [:], into directory: String) throws -> String {
        for (name, content) in files {
            try content.replacingOccurrences(of: "$DIR", with: directory)
                .write(toFile: directory + "/" + name, atomically: true, encoding: .utf8)
        }
        let text = withTestDefaults(yaml.replacingOccurrences(of: "$DIR", with: directory), directory: directory)
        let path = directory + "/affhost.yaml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The demo configuration with its real fixtures, storage in a fresh temporary folder.
    static func runDemo(_ body: (TestHost) async throws -> Void) async throws {
        let demo = try String(contentsOfFile: repositoryRoot + "/config/affhost.yaml", encoding: .utf8)
        let yaml = demo
            .replacingOccurrences(of: "listen: 127.0.0.1:3000", with: "listen: 127.0.0.1:0")
            .replacingOccurrences(of: "unix:data/admin.sock", with: "unix:$DIR/admin.sock")
            .replacingOccurrences(of: "sqlite:data/affhost.sqlite", with: "sqlite:$DIR/affhost.sqlite")
            .replacingOccurrences(of: "fixtures: config/", with: "fixtures: \(repositoryRoot)/config/")
        try await run(yaml: yaml, body)
    }

    /// Sends one request on its own connection, so tests may send many concurrently.
    func send(
        _ method: HTTPRequest.Method, _ path: String, headers: [String: String] = [:], body: String? = nil
    ) async throws -> TestResponse {
        try await TestHost.send(port: port, method, path, headers: headers, body: body)
    }

    /// Sends one request to any local affhost (also one started as a separate process).
    static func send(
        port: Int, _ method: HTTPRequest.Method, _ path: String, headers: [String: String] = [:], body: String? = nil
    ) async throws -> TestResponse {
        var fields = HTTPFields()
        for (name, value) in headers {
            guard let field = HTTPField.Name(name) else { continue }
            fields.append(HTTPField(name: field, value: value))
        }
        let request = TestClient.Request(
            path, method: method, authority: "127.0.0.1:\(port)", headers: fields,
            body: body.map { ByteBuffer(string: $0) }
        )
        let response = try await TestClient.withClient(host: "127.0.0.1", port: port) { client in
            try await client.execute(request)
        }
        return TestResponse(
            status: Int(response.status.code), headers: response.headers,
            body: response.body.map { String(buffer: $0) } ?? ""
        )
    }

    /// A client for this server's admin API, over its socket or TCP port.
    func adminClient(token: String? = nil) -> AdminClient {
        switch runtime.config.admin.listen {
        case .unix(let path): AdminClient(address: .unix(path: path), token: token)
        case .tcp(let host, _): AdminClient(address: .http(baseURL: "http://\(host):\(adminPort)"), token: token)
        }
    }

    /// Rewrites the configuration file the server was started with (for reload tests).
    func rewriteConfig(_ yaml: String) throws {
        let text = TestHost.withTestDefaults(yaml.replacingOccurrences(of: "$DIR", with: directory), directory: directory)
        try text.write(toFile: runtime.configPath, atomically: true, encoding: .utf8)
    }

    /// Serves an existing configuration file; the caller owns `directory` (restart tests run
    /// twice on one folder).
    static func serve(
        configPath: String, directory: String, logger: Logger? = nil, accessLog: AccessLog? = nil,
        _ body: (TestHost) async throws -> Void
    ) async throws {
        let logger = logger ?? {
            var logger = Logger(label: "affhost.test")
            logger.logLevel = .warning
            return logger
        }()
        let runtime = try await HostRuntime.start(
            configPath: configPath, registry: affhostProviders, documents: try affhostDocuments(), logger: logger,
            accessLog: accessLog
        )
        let (ports, portContinuation) = AsyncStream.makeStream(of: (String, Int).self)
        // Always a free port, whatever the YAML says, so tests never collide with each other.
        let app = runtime.publicApplication(listen: .tcp(host: "127.0.0.1", port: 0), onServerRunning: { channel in
            portContinuation.yield(("public", channel.localAddress?.port ?? 0))
        })
        let admin = try runtime.adminApplication(onServerRunning: { channel in
            portContinuation.yield(("admin", channel.localAddress?.port ?? 0))
        })
        var services: [any Service] = [app, admin]
        if let worker = runtime.webhookWorker() { services.append(worker) }
        let group = ServiceGroup(configuration: .init(services: services, logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var started: [String: Int] = [:]
            for await (name, port) in ports {
                started[name] = port
                if started.count == 2 { break }
            }
            portContinuation.finish()
            guard let port = started["public"] else { throw TestHostError.serverDidNotStart }
            let host = TestHost(directory: directory, port: port, adminPort: started["admin"] ?? 0, runtime: runtime)
            do {
                try await body(host)
            } catch {
                await group.triggerGracefulShutdown()
                try? await tasks.waitForAll()
                try? await runtime.store.close()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        try await runtime.store.close()
    }

    static func makeTemporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.path + "/affhost-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Adds storage, listen and admin blocks pointing into the test's folder unless present.
    static func withTestDefaults(_ yaml: String, directory: String) -> String {
        let topLevelKeys = Set(yaml.split(separator: "\n").compactMap { line -> String? in
            guard let first = line.first, first.isLetter, let colon = line.firstIndex(of: ":") else { return nil }
            return String(line[..<colon])
        })
        var prefix = ""
        if !topLevelKeys.contains("server") { prefix += "server:\n  listen: 127.0.0.1:0\n" }
        if !topLevelKeys.contains("admin") { prefix += "admin:\n  listen: unix:\(directory)/admin.sock\n" }
        if !topLevelKeys.contains("storage") { prefix += "storage:\n  url: sqlite:\(directory)/affhost.sqlite\n" }
        return prefix + yaml
    }
}

enum TestHostError: Error {
    case serverDidNotStart
}

struct TestResponse: Sendable {
    let status: Int
    let headers: HTTPFields
    let body: String

    func header(_ name: String) -> String? {
        HTTPField.Name(name).flatMap { headers[$0] }
    }

    func json() throws -> JSONValue {
        try JSONValue(parsing: body)
    }
}
