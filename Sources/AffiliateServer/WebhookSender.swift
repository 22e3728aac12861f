import AffiliateCore
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Sends one attempt of one delivery: a signed POST, never following a redirect, ended by the
/// endpoint's timeout from connect to the response's end (webhooks.md §4, §5.2).
struct WebhookSender: Sendable {
    let client: HTTPClient
    let userAgent: String

    /// At most this much of an answer is read; the rest is left unread.
    static let maximumResponseBytes = 64 * 1024

    /// Creates the one pooled client the worker shares between endpoints.
    static func makeClient() -> HTTPClient {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        configuration.connectionPool = .init(idleTimeout: .seconds(60))
        configuration.decompression = .disabled
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }

    /// What came back, with the stored form of the attempt.
    func send(_ delivery: LeasedDelivery, to endpoint: WebhookEndpoint) async -> (WebhookResponse, WebhookAttempt) {
        let started = Timestamp.now()
        let clock = ContinuousClock.now
        var request = HTTPClientRequest(url: endpoint.url)
        request.method = .POST
        let timestamp = started.secondsSinceEpoch
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: userAgent)
        request.headers.add(name: "webhook-id", value: delivery.eventID)
        request.headers.add(name: "webhook-timestamp", value: String(timestamp))
        request.headers.add(
            name: "webhook-signature",
            value: WebhookSignature.header(id: delivery.eventID, timestamp: timestamp, body: delivery.body, secrets: endpoint.secrets)
        )
        request.body = .bytes(ByteBuffer(bytes: delivery.body))
        let timeout = endpoint.timeout
        let response: WebhookResponse
        var code: Int?
        var failure: String?
        var text: String?
        do {
            let prepared = request
            let answer = try await Self.within(timeout) { [client] in
                let response = try await client.execute(prepared, timeout: TimeAmount.microseconds(timeout.wholeMicroseconds))
                var kept: [UInt8] = []
                for try await chunk in response.body {
                    kept.append(contentsOf: chunk.readableBytesView.prefix(Self.maximumResponseBytes - kept.count))
                    if kept.count >= Self.maximumResponseBytes { break }
                }
                return (Int(response.status.code), response.headers.first(name: "Retry-After"), kept)
            }
            code = answer.0
            text = String(decoding: answer.2.prefix(WebhookAttempt.maximumStoredBody), as: UTF8.self)
            response = .status(answer.0, retryAfter: answer.1.flatMap(Self.retryAfter))
            if (300...399).contains(answer.0) { failure = "redirect not followed" }
        } catch is WebhookTimeout {
            response = .timeout
            failure = "timed out after \(timeout)"
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            response = .timeout
            failure = "timed out after \(timeout)"
        } catch {
            response = .networkError
            failure = String(describing: error)
        }
        let elapsed = ContinuousClock.now - clock
        let attempt = WebhookAttempt(
            at: started, durationMicroseconds: elapsed.wholeMicroseconds, responseCode: code, error: failure,
            responseBody: text
        )
        return (response, attempt)
    }

    /// `Retry-After` as seconds or an HTTP date.
    static func retryAfter(_ value: String) -> Duration? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Int(trimmed), seconds >= 0 { return .seconds(seconds) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: trimmed) else { return nil }
        return .seconds(max(0, Int(date.timeIntervalSinceNow.rounded(.up))))
    }

    /// Runs `body`, throwing ``WebhookTimeout`` if it has not finished within `limit` (which
    /// cancels it): the client's own deadline covers the request, this the body too.
    static func within<T: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: limit)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else { throw WebhookTimeout() }
            return value
        }
    }
}

struct WebhookTimeout: Error {}
