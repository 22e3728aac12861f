@testable import AffiliateServer
import Foundation
import Testing

/// The admin verbs' HTTP/1.1 response reading, byte by byte as it may arrive.
@Suite struct AdminExchangeTests {
    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func headersAreReadOnlyOnceTheBlankLineHasArrived() throws {
        #expect(try ResponseHead(parsing: bytes("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n")) == nil)
        let head = try #require(try ResponseHead(parsing: bytes("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")))
        #expect(head.status == 200)
        #expect(head.framing == .length(2))
        #expect(head.length == 38)
    }

    @Test func aContentLengthBodyIsCompleteAtItsLength() throws {
        let text = "HTTP/1.1 401 Unauthorized\r\ncontent-length: 13\r\nConnection: close\r\n\r\n"
        let head = try #require(try ResponseHead(parsing: bytes(text + "{\"error\"")))
        #expect(head.status == 401)
        #expect(try head.completeBody(in: bytes(text + "{\"error\"")) == nil)
        #expect(try head.completeBody(in: bytes(text + "{\"error\":1}\r\n")) == bytes("{\"error\":1}\r\n"))
    }

    @Test func aChunkedBodyIsJoinedOnceItsLastChunkHasArrived() throws {
        let text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        let head = try #require(try ResponseHead(parsing: bytes(text)))
        #expect(head.framing == .chunked)
        #expect(try head.completeBody(in: bytes(text + "5\r\n{\"a\":")) == nil)
        #expect(try head.completeBody(in: bytes(text + "5\r\n{\"a\":\r\na;ext=1\r\n\"b c d e\"}\r\n")) == nil)
        #expect(try head.completeBody(in: bytes(text + "5\r\n{\"a\":\r\na;ext=1\r\n\"b c d e\"}\r\n0\r\n")) == nil)
        let complete = text + "5\r\n{\"a\":\r\na;ext=1\r\n\"b c d e\"}\r\n0\r\n\r\n"
        #expect(try head.completeBody(in: bytes(complete)) == bytes("{\"a\":\"b c d e\"}"))
    }

    @Test func aBodyWithoutFramingRunsUntilTheServerCloses() throws {
        let head = try #require(try ResponseHead(parsing: bytes("HTTP/1.0 200 OK\r\n\r\nhello")))
        #expect(head.framing == .untilClose)
        #expect(try head.completeBody(in: bytes("HTTP/1.0 200 OK\r\n\r\nhello")) == nil)
    }

    @Test func aResponseThatIsNotHTTPIsNamedAsSuch() {
        #expect(throws: AdminExchange.Failure.self) { try ResponseHead(parsing: self.bytes("SSH-2.0-OpenSSH\r\n\r\n")) }
        #expect(throws: AdminExchange.Failure.self) {
            try ResponseHead(parsing: self.bytes("HTTP/1.1 200 OK\r\nContent-Length: ten\r\n\r\n"))
        }
        let chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"
        #expect(throws: AdminExchange.Failure.self) {
            try ResponseHead(parsing: self.bytes(chunked))?.completeBody(in: self.bytes(chunked))
        }
    }

    @Test func aTCPAddressIsSplitIntoHostAndPort() {
        func endpoint(_ text: String) -> String {
            guard case .tcp(let host, let port) = AdminClient.Address(text)?.exchange.endpoint else { return "not tcp" }
            return "\(host) \(port)"
        }
        #expect(endpoint("127.0.0.1:3001") == "127.0.0.1 3001")
        #expect(endpoint("http://localhost:3001/") == "localhost 3001")
        #expect(endpoint("http://[::1]:3001") == "::1 3001")
        #expect(endpoint("http://[::1]") == "::1 80")
    }

    /// `admin.listen` is found above `tenants:` without reading the tenants, below them in a file
    /// larger than the part read first, and in a file whose tenants are broken.
    @Test func theAdminAddressIsFoundWhereverTheFileNamesIt() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("affhost-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        func address(of text: String) throws -> AdminClient.Address {
            let path = folder.appendingPathComponent("affhost.yaml").path
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return AdminClient.address(fromConfigFile: path)
        }
        let manyTenants = (0..<2_000).map { "  t\($0):\n    name: Tenant number \($0)\n" }.joined()
        #expect(manyTenants.utf8.count > 65_536)
        #expect(try address(of: "admin:\n  listen: unix:first.sock\ntenants:\n" + manyTenants) == .unix(path: "first.sock"))
        #expect(try address(of: "tenants:\n" + manyTenants + "admin:\n  listen: 127.0.0.1:3009\n") == .http(baseURL: "http://127.0.0.1:3009"))
        #expect(try address(of: "admin: { listen: unix:broken.sock }\ntenants:\n  acme: [unclosed\n") == .unix(path: "broken.sock"))
        #expect(try address(of: "server: {}\n") == .unix(path: "data/admin.sock"))
        #expect(AdminClient.address(fromConfigFile: folder.appendingPathComponent("missing.yaml").path) == .unix(path: "data/admin.sock"))
    }

    /// Something listening on the admin socket that reads the request and hangs up without
    /// answering: a clear error, not a hang.
    @Test func aListenerThatHangsUpIsReportedAsSuch() async throws {
        let directory = try TestHost.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/hangs-up.sock"
        let listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        #expect(listener >= 0)
        defer { close(listener) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8) + [0]) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(bound == 0)
        #expect(listen(listener, 4) == 0)
        let hangUp = Thread {
            let connection = accept(listener, nil, nil)
            var received: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while received.firstRange(of: Array("\r\n\r\n".utf8)) == nil {
                let count = buffer.withUnsafeMutableBytes { read(connection, $0.baseAddress!, $0.count) }
                guard count > 0 else { break }
                received += buffer[..<count]
            }
            close(connection)
        }
        hangUp.start()
        let client = AdminClient(address: .unix(path: path))
        await #expect {
            try await client.post("/reload")
        } throws: { error in
            (error as? AdminExchange.Failure)?.description == "the connection was closed before a response arrived"
        }
    }

    @Test func aServerThatIsNotListeningIsReportedAtOnce() async throws {
        let client = AdminClient(address: .http(baseURL: "http://127.0.0.1:1"))
        await #expect(throws: AdminExchange.Failure.self) { try await client.get("/status") }
    }
}
