import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One blocking HTTP/1.1 request and its response over a unix or TCP socket: what the admin
/// verbs need, and nothing they do not.
///
/// `affhost reload` is timed against a 50 ms budget, most of it the command's own start-up.
/// An HTTP client with its event-loop group, connection pool and their generic types cost about
/// half of the command's CPU (thread start-up and Swift's first-use protocol conformance scans),
/// for one request on one socket that the server closes after answering.
struct AdminExchange: Sendable {
    enum Failure: Error, CustomStringConvertible {
        case socket(String, errno: Int32)
        case address(String)
        case timedOut(String)
        case malformedResponse(String)
        case closedEarly(before: String)
        case responseTooLarge(limit: Int)

        var description: String {
            switch self {
            case .socket(let step, let code): "\(step): \(String(cString: strerror(code)))"
            case .address(let text): text
            case .timedOut(let step): "\(step): timed out"
            case .malformedResponse(let why): "malformed HTTP response: \(why)"
            case .closedEarly(let before): "the connection was closed before \(before)"
            case .responseTooLarge(let limit): "response larger than \(limit) bytes"
            }
        }
    }

    enum Endpoint: Sendable {
        case unix(path: String)
        case tcp(host: String, port: String)
    }

    struct Response: Sendable {
        let status: Int
        let body: [UInt8]
    }

    static let connectTimeoutMilliseconds: Int32 = 5_000
    static let responseTimeoutSeconds = 120
    static let responseLimit = 16 * 1024 * 1024

    let endpoint: Endpoint
    let hostHeader: String

    /// Sends `method path` with the given extra header lines and reads the whole response.
    func perform(method: String, path: String, headers: [(String, String)], body: [UInt8] = []) throws -> Response {
        let socket = try openConnection()
        defer { close(socket) }
        try setTimeout(socket, option: SO_RCVTIMEO, seconds: Self.responseTimeoutSeconds)
        try setTimeout(socket, option: SO_SNDTIMEO, seconds: Self.responseTimeoutSeconds)
        var request = "\(method) \(path) HTTP/1.1\r\nHost: \(hostHeader)\r\n"
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        if !body.isEmpty { request += "Content-Type: application/json\r\n" }
        request += "Content-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        try writeAll(socket, Array(request.utf8) + body)
        return try readResponse(socket)
    }

    // MARK: Connecting

    private func openConnection() throws -> Int32 {
        switch endpoint {
        case .unix(let path): try connectUnix(path)
        case .tcp(let host, let port): try connectTCP(host: host, port: port)
        }
    }

    private func connectUnix(_ path: String) throws -> Int32 {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else {
            throw Failure.address("socket path \(path) is \(bytes.count) bytes long; at most \(capacity - 1) fit")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let socket = try openSocket(family: AF_UNIX)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socket, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard result == 0 else {
            let code = errno
            close(socket)
            throw Failure.socket("connect to \(path)", errno: code)
        }
        return socket
    }

    /// Tries every address the name resolves to, each with a connect deadline, so that an
    /// unreachable instance answers in seconds rather than after the kernel's retries.
    private func connectTCP(host: String, port: String) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_socktype = Self.streamType
        hints.ai_family = AF_UNSPEC
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, port, &hints, &list)
        guard status == 0, let first = list else {
            throw Failure.address("cannot resolve \(host): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(list) }
        var lastFailure = Failure.address("\(host) resolves to no address")
        var candidate: UnsafeMutablePointer<addrinfo>? = first
        while let info = candidate {
            candidate = info.pointee.ai_next
            do {
                return try connectWithDeadline(info.pointee)
            } catch let failure as Failure {
                lastFailure = failure
            }
        }
        throw lastFailure
    }

    private func connectWithDeadline(_ info: addrinfo) throws -> Int32 {
        let socket = try openSocket(family: info.ai_family)
        do {
            let flags = fcntl(socket, F_GETFL)
            _ = fcntl(socket, F_SETFL, flags | O_NONBLOCK)
            if connect(socket, info.ai_addr, info.ai_addrlen) != 0 {
                guard errno == EINPROGRESS else { throw Failure.socket("connect", errno: errno) }
                var writable = pollfd(fd: socket, events: Int16(POLLOUT), revents: 0)
                let ready = try retryingInterrupts { poll(&writable, 1, Self.connectTimeoutMilliseconds) }
                guard ready > 0 else { throw Failure.timedOut("connect") }
                var code: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(socket, SOL_SOCKET, SO_ERROR, &code, &length)
                guard code == 0 else { throw Failure.socket("connect", errno: code) }
            }
            _ = fcntl(socket, F_SETFL, flags)
            return socket
        } catch {
            close(socket)
            throw error
        }
    }

    private func openSocket(family: Int32) throws -> Int32 {
        let descriptor = socket(family, Self.streamType, 0)
        guard descriptor >= 0 else { throw Failure.socket("socket", errno: errno) }
        #if canImport(Darwin)
        var one: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_NOSIGPIPE, &one, socklen_t(MemoryLayout<Int32>.size))
        #endif
        return descriptor
    }

    /// A server that closes the connection early must be an error to report, not SIGPIPE
    /// ending the process (the CLI's, or a test runner's).
    private static var noSignal: Int32 {
        #if os(Linux)
        Int32(MSG_NOSIGNAL)
        #else
        0
        #endif
    }

    private static var streamType: Int32 {
        #if os(Linux)
        Int32(SOCK_STREAM.rawValue)
        #else
        SOCK_STREAM
        #endif
    }

    private func setTimeout(_ socket: Int32, option: Int32, seconds: Int) throws {
        var time = timeval(tv_sec: seconds, tv_usec: 0)
        guard setsockopt(socket, SOL_SOCKET, option, &time, socklen_t(MemoryLayout<timeval>.size)) == 0 else {
            throw Failure.socket("setsockopt", errno: errno)
        }
    }

    // MARK: Writing and reading

    private func writeAll(_ socket: Int32, _ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let count = try retryingInterrupts {
                bytes.withUnsafeBytes { send(socket, $0.baseAddress! + sent, bytes.count - sent, Self.noSignal) }
            }
            guard count >= 0 else { throw Self.failure("send the request", errno: errno) }
            sent += count
        }
    }

    /// Reads until the response is complete: by its Content-Length, its last chunk, or the
    /// server closing the connection (the request asked it to).
    private func readResponse(_ socket: Int32) throws -> Response {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var head: ResponseHead?
        while true {
            if head == nil, let parsed = try ResponseHead(parsing: received) { head = parsed }
            if let head, let body = try head.completeBody(in: received) {
                return Response(status: head.status, body: body)
            }
            let count = try retryingInterrupts {
                buffer.withUnsafeMutableBytes { read(socket, $0.baseAddress!, $0.count) }
            }
            guard count >= 0 else { throw Self.failure("read the response", errno: errno) }
            if count == 0 {
                guard let head else { throw Failure.closedEarly(before: "a response arrived") }
                guard head.framing == .untilClose else { throw Failure.closedEarly(before: "the response was complete") }
                return Response(status: head.status, body: Array(received[head.length...]))
            }
            received.append(contentsOf: buffer[..<count])
            guard received.count <= Self.responseLimit else { throw Failure.responseTooLarge(limit: Self.responseLimit) }
        }
    }

    private static func failure(_ step: String, errno code: Int32) -> Failure {
        code == EAGAIN || code == EWOULDBLOCK ? .timedOut(step) : .socket(step, errno: code)
    }

    private func retryingInterrupts<Result: BinaryInteger>(_ call: () -> Result) throws -> Result {
        while true {
            let result = call()
            if result < 0, errno == EINTR { continue }
            return result
        }
    }
}

/// The status line and the framing headers of an HTTP/1.1 response.
struct ResponseHead: Equatable {
    enum Framing: Equatable {
        case length(Int)
        case chunked
        case untilClose
    }

    let status: Int
    let framing: Framing
    /// Bytes up to and including the blank line that ends the headers.
    let length: Int

    private static let headerEnd: [UInt8] = Array("\r\n\r\n".utf8)

    /// nil while the headers have not all arrived.
    init?(parsing bytes: [UInt8]) throws {
        guard let end = bytes.firstRange(of: Self.headerEnd) else { return nil }
        let lines = String(decoding: bytes[..<end.lowerBound], as: UTF8.self)
            .split(separator: "\r\n", omittingEmptySubsequences: false)
        let statusLine = lines[0].split(separator: " ", maxSplits: 2)
        guard statusLine.count >= 2, statusLine[0].hasPrefix("HTTP/1."), let status = Int(statusLine[1]) else {
            throw AdminExchange.Failure.malformedResponse("status line \(lines[0])")
        }
        var framing = Framing.untilClose
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if name == "transfer-encoding", value.lowercased().hasSuffix("chunked") {
                framing = .chunked
            } else if name == "content-length", framing != .chunked {
                guard let count = Int(value), count >= 0 else {
                    throw AdminExchange.Failure.malformedResponse("content-length \(value)")
                }
                framing = .length(count)
            }
        }
        self.status = status
        self.framing = framing
        self.length = end.upperBound
    }

    /// The body once all of it is in `bytes`; nil while more is to come.
    func completeBody(in bytes: [UInt8]) throws -> [UInt8]? {
        switch framing {
        case .length(let count):
            return bytes.count >= length + count ? Array(bytes[length..<(length + count)]) : nil
        case .chunked:
            return try Self.dechunk(bytes[length...])
        case .untilClose:
            return nil
        }
    }

    /// The decoded body of a complete chunked encoding; nil while the last chunk is missing.
    private static func dechunk(_ bytes: ArraySlice<UInt8>) throws -> [UInt8]? {
        var body: [UInt8] = []
        var position = bytes.startIndex
        let lineEnd: [UInt8] = [13, 10]
        while true {
            guard let sizeEnd = bytes[position...].firstRange(of: lineEnd) else { return nil }
            let sizeText = String(decoding: bytes[position..<sizeEnd.lowerBound], as: UTF8.self)
            guard let size = Int(sizeText.prefix { $0 != ";" }.trimmingCharacters(in: .whitespaces), radix: 16),
                  size >= 0
            else { throw AdminExchange.Failure.malformedResponse("chunk size \(sizeText)") }
            let dataStart = sizeEnd.upperBound
            if size == 0 { return bytes[dataStart...].firstRange(of: lineEnd) == nil ? nil : body }
            guard bytes.endIndex >= dataStart + size + 2 else { return nil }
            body.append(contentsOf: bytes[dataStart..<(dataStart + size)])
            position = dataStart + size + 2
        }
    }
}
