import AffiliateCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// A real HTTP receiver for webhook tests, on a free loopback port: it keeps every request's
/// raw bytes and headers and answers as the test says (webhooks.md §8).
final class WebhookReceiver: Sendable {
    struct Received: Sendable {
        let path: String
        let headers: [String: String]
        let body: [UInt8]
        let at: ContinuousClock.Instant

        var json: JSONValue { (try? JSONValue(parsing: String(decoding: body, as: UTF8.self))) ?? .null }
        var webhookID: String { headers["webhook-id"] ?? "" }
    }

    /// How to answer one request.
    enum Answer: Sendable {
        case status(Int, headers: [String: String] = [:])
        /// Never answers within any timeout a test uses.
        case hang
        /// Answers `status` after `delay`.
        case delayed(Duration, status: Int)
    }

    let port: Int
    private let requests = Mutex<[Received]>([])
    private let answering = Mutex<@Sendable (Received) -> Answer>({ _ in .status(204) })
    /// Requests in progress per `webhook-id`, and how often one arrived while another request
    /// with the same id was still in progress (two senders at once).
    private let inProgress = Mutex<(byID: [String: Int], overlaps: Int)>(([:], 0))

    var overlappingDeliveries: Int { inProgress.withLock { $0.overlaps } }

    private init(port: Int) { self.port = port }

    var url: String { "http://127.0.0.1:\(port)/hooks" }
    var received: [Received] { requests.withLock { $0 } }
    /// Requests to `/hooks` only (a redirect target is another path).
    var hooks: [Received] { received.filter { $0.path == "/hooks" } }

    func answer(_ answer: @escaping @Sendable (Received) -> Answer) {
        answering.withLock { $0 = answer }
    }

    /// Waits until `condition` holds for the requests received so far, or fails after `timeout`.
    func wait(
        timeout: Duration = .seconds(20), _ what: String = "requests", until condition: ([Received]) -> Bool
    ) async throws -> [Received] {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let now = hooks
            if condition(now) { return now }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw ReceiverTimeout(what: what, received: hooks.count)
    }

    func wait(count: Int, timeout: Duration = .seconds(20)) async throws -> [Received] {
        try await wait(timeout: timeout, "\(count) requests") { $0.count >= count }
    }

    struct ReceiverTimeout: Error, CustomStringConvertible {
        let what: String
        let received: Int
        var description: String { "receiver waited in vain for \(what); got \(received)" }
    }

    private func handle(_ request: Request) async throws -> Response {
        var collected = try await request.body.collect(upTo: 1 << 20)
        let bytes = collected.readBytes(length: collected.readableBytes) ?? []
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        let received = Received(path: request.uri.path, headers: headers, body: bytes, at: .now)
        requests.withLock { $0.append(received) }
        let id = received.webhookID
        inProgress.withLock { state in
            if state.byID[id, default: 0] > 0 { state.overlaps += 1 }
            state.byID[id, default: 0] += 1
        }
        defer { inProgress.withLock { $0.byID[id, default: 1] -= 1 } }
        let answer = answering.withLock { $0 }(received)
        switch answer {
        case .delayed(let delay, let code):
            try await Task.sleep(for: delay)
            return Response(status: HTTPResponse.Status(code: code))
        case .hang:
            try await Task.sleep(for: .seconds(3600))
            return Response(status: .ok)
        case .status(let code, let extra):
            var fields = HTTPFields()
            for (name, value) in extra {
                if let field = HTTPField.Name(name) { fields.append(HTTPField(name: field, value: value)) }
            }
            return Response(status: HTTPResponse.Status(code: code), headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(string: "ok")))
        }
    }

    /// Runs a receiver for the duration of `body`.
    static func run<T: Sendable>(_ body: (WebhookReceiver) async throws -> T) async throws -> T {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let holder = Mutex<WebhookReceiver?>(nil)
        let router = Router()
        router.post("/hooks") { request, _ in
            guard let receiver = holder.withLock({ $0 }) else { return Response(status: .serviceUnavailable) }
            return try await receiver.handle(request)
        }
        router.post("/elsewhere") { request, _ in
            guard let receiver = holder.withLock({ $0 }) else { return Response(status: .serviceUnavailable) }
            return try await receiver.handle(request)
        }
        var logger = Logger(label: "affhost.test.receiver")
        logger.logLevel = .critical
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) }, logger: logger
        )
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var port = 0
            for await value in ports {
                port = value
                break
            }
            continuation.finish()
            let receiver = WebhookReceiver(port: port)
            holder.withLock { $0 = receiver }
            do {
                let result = try await body(receiver)
                await group.triggerGracefulShutdown()
                tasks.cancelAll()
                return result
            } catch {
                await group.triggerGracefulShutdown()
                tasks.cancelAll()
                throw error
            }
        }
    }
}
