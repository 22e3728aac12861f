import Foundation
import PostgresTestSupport
import Testing

/// The built `affhost` executable, run as operators run it.
enum AffhostProcess {
    struct Result {
        let status: Int32
        let standardOutput: String
        let standardError: String
    }

    /// Next to the test bundle (`swift test` builds the executable the tests depend on).
    static var executable: String {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("affhost").path,
            TestHost.repositoryRoot + "/.build/debug/affhost",
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[1]
    }

    /// Reads a pipe to its end, retrying reads a signal interrupted. (Foundation's
    /// `readDataToEndOfFile` traps on EINTR, which other tests' child processes cause.)
    static func readAll(_ descriptor: Int32) -> [UInt8] {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count > 0 {
                data.append(contentsOf: buffer[0..<count])
            } else if count == 0 || errno != EINTR {
                return data
            }
        }
    }

    /// Runs a command to completion in `directory`, with `environment` added to this process's.
    static func run(
        _ arguments: [String], in directory: String, input: String? = nil, environment: [String: String] = [:]
    ) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let output = Pipe()
        // Standard error goes to a file so that only one pipe needs draining.
        let errorPath = FileManager.default.temporaryDirectory.path + "/affhost-stderr-" + UUID().uuidString
        FileManager.default.createFile(atPath: errorPath, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: errorPath) }
        let error = try FileHandle(forWritingTo: URL(fileURLWithPath: errorPath))
        defer { try? error.close() }
        let stdin = Pipe()
        process.standardOutput = output
        process.standardError = error
        process.standardInput = stdin
        try ProcessLaunch.run(process)
        if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
        try stdin.fileHandleForWriting.close()
        try? output.fileHandleForWriting.close()
        let outData = readAll(output.fileHandleForReading.fileDescriptor)
        process.waitUntilExit()
        let err = FileManager.default.contents(atPath: errorPath) ?? Data()
        return Result(
            status: process.terminationStatus, standardOutput: String(decoding: outData, as: UTF8.self),
            standardError: String(decoding: err, as: UTF8.self)
        )
    }

    /// A free loopback port (bound and released; the server binds it right after).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Int32 in
                guard bind(fd, pointer, length) == 0 else { return -1 }
                return getsockname(fd, pointer, &length)
            }
        }
        guard bound == 0 else { throw TestHostError.serverDidNotStart }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// `affhost serve` as a child process; stopped with SIGTERM by ``stop()``.
    final class Server: @unchecked Sendable {
        let process = Process()
        let port: Int
        let logFile: String

        init(config: String, in directory: String, port: Int, arguments: [String] = []) throws {
            self.port = port
            self.logFile = directory + "/serve.log"
            FileManager.default.createFile(atPath: logFile, contents: nil)
            process.executableURL = URL(fileURLWithPath: AffhostProcess.executable)
            process.arguments = ["serve", "--config", config] + arguments
            process.currentDirectoryURL = URL(fileURLWithPath: directory)
            let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logFile))
            process.standardOutput = log
            process.standardError = log
            try ProcessLaunch.run(process)
        }

        var log: String { (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "" }

        /// Waits until `/healthz` answers (at most 30 s).
        func waitUntilServing() async throws {
            let deadline = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < deadline {
                if let response = try? await TestHost.send(port: port, .get, "/healthz"), response.status == 200 { return }
                guard process.isRunning else { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            Issue.record("affhost serve did not start:\n\(log)")
            throw TestHostError.serverDidNotStart
        }

        func signal(_ number: Int32) { kill(process.processIdentifier, number) }

        func stop() {
            guard process.isRunning else { return }
            signal(SIGTERM)
            process.waitUntilExit()
        }
    }
}
