import AffiliateCore
import Hummingbird
import NIOCore

/// The operator's webhook endpoints (webhooks.md §6), on the admin listener only: the delivery
/// log, manual retry and replay, and lifting a 410 pause. Answers never show a secret: the
/// store holds none.
extension AdminAPI {
    func addWebhookRoutes(to router: Router<BasicRequestContext>) {
        router.get("/webhooks/deliveries") { request, _ in try await deliveries(request) }
        router.get("/webhooks/deliveries/:id") { _, context in try await delivery(id: context.parameters.get("id") ?? "") }
        router.post("/webhooks/deliveries/:id/retry") { _, context in
            try await retry(id: context.parameters.get("id") ?? "")
        }
        router.post("/webhooks/replay") { request, _ in try await replay(request) }
        router.post("/webhooks/endpoints/:tenant/:endpoint/resume") { _, context in
            try await resume(tenant: context.parameters.get("tenant") ?? "", endpoint: context.parameters.get("endpoint") ?? "")
        }
    }

    private var queue: (any WebhookQueue)? { runtime.webhookQueue }

    private static func failure(_ status: HTTPResponse.Status, _ message: String) -> Response {
        Response.json(status, .object(["error": .string(message)]))
    }

    private static let noQueue = failure(.notFound, "this store keeps no webhook queue")

    /// Runs a queue call, answering a store failure as 503.
    private func queued(_ body: (any WebhookQueue) async throws -> Response) async -> Response {
        guard let queue else { return Self.noQueue }
        do {
            return try await body(queue)
        } catch {
            return Self.failure(.serviceUnavailable, "storage unavailable: \(error)")
        }
    }

    private func deliveries(_ request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        var filter = WebhookDeliveryFilter()
        filter.tenant = query["tenant"].map(String.init)
        filter.endpoint = query["endpoint"].map(String.init)
        if let state = query["state"].map(String.init) {
            guard let parsed = WebhookDeliveryState(rawValue: state) else {
                let known = WebhookDeliveryState.allCases.map(\.rawValue).joined(separator: ", ")
                return Self.failure(.badRequest, "state '\(state)' is not one of: \(known)")
            }
            filter.state = parsed
        }
        for (name, keyPath) in [("since", \WebhookDeliveryFilter.since), ("until", \WebhookDeliveryFilter.until)] {
            guard let text = query[Substring(name)].map(String.init) else { continue }
            guard let time = Timestamp(iso8601: text) else {
                return Self.failure(.badRequest, "\(name) '\(text)' is not an ISO 8601 time such as 2024-09-12T14:02:53Z")
            }
            filter[keyPath: keyPath] = time
        }
        if let text = query["limit"].map(String.init) {
            guard let limit = Int(text), (1...WebhookDeliveryFilter.maximumLimit).contains(limit) else {
                return Self.failure(.badRequest, "limit must be a whole number from 1 to \(WebhookDeliveryFilter.maximumLimit)")
            }
            filter.limit = limit
        }
        if let text = query["after"].map(String.init) {
            guard let after = Int64(text) else { return Self.failure(.badRequest, "after must be a delivery id") }
            filter.before = after
        }
        return await queued { queue in
            let found = try await queue.deliveries(matching: filter)
            var answer: JSONObject = ["deliveries": .array(found.map { .object(Self.json($0)) })]
            answer["next_after"] = found.count == filter.limit ? found.last.map { .int($0.id) } ?? .null : .null
            return Response.json(.ok, .object(answer))
        }
    }

    private func delivery(id text: String) async throws -> Response {
        guard let id = Int64(text) else { return Self.failure(.notFound, "no delivery \(text)") }
        return await queued { queue in
            guard let detail = try await queue.delivery(id: id) else { return Self.failure(.notFound, "no delivery \(id)") }
            var object = Self.json(detail.summary)
            object["previous_status"] = detail.previousStatus.map(JSONValue.string) ?? .null
            object["response_body"] = detail.responseBody.map(JSONValue.string) ?? .null
            object["attempt_log"] = .array(detail.attempts.map { attempt in
                .object([
                    "at": .string(attempt.at.iso8601Milliseconds),
                    "duration_ms": .number(String(Double(attempt.durationMicroseconds) / 1000)),
                    "response_code": attempt.responseCode.map { .int(Int64($0)) } ?? .null,
                    "error": attempt.error.map(JSONValue.string) ?? .null,
                    "response_body": attempt.responseBody.map(JSONValue.string) ?? .null,
                ])
            })
            object["body"] = .string(String(decoding: detail.body, as: UTF8.self))
            return Response.json(.ok, .object(object))
        }
    }

    private func retry(id text: String) async throws -> Response {
        guard let id = Int64(text) else { return Self.failure(.notFound, "no delivery \(text)") }
        return await queued { queue in
            guard let detail = try await queue.delivery(id: id) else { return Self.failure(.notFound, "no delivery \(id)") }
            let existing = runtime.config.webhookEndpointKeys
            guard existing.contains(detail.summary.endpoint) else {
                return Self.failure(.conflict, "endpoint \(detail.summary.endpoint) is no longer configured")
            }
            _ = try await queue.retry(ids: [id], existing: existing)
            guard let retried = try await queue.delivery(id: id) else { return Self.failure(.notFound, "no delivery \(id)") }
            return Response.json(.ok, .object(Self.json(retried.summary)))
        }
    }

    private func replay(_ request: Request) async throws -> Response {
        var buffer = try await request.body.collect(upTo: 64 * 1024)
        let text = buffer.readString(length: buffer.readableBytes) ?? ""
        guard let body = try? JSONValue(parsing: text.isEmpty ? "{}" : text), case .object(let fields) = body else {
            return Self.failure(.badRequest, "the body must be a JSON object such as {\"since\": \"2024-09-12T00:00:00Z\"}")
        }
        let known: Set<String> = ["since", "until", "tenant", "endpoint", "all"]
        if let unknown = fields.keys.first(where: { !known.contains($0) }) {
            return Self.failure(.badRequest, "unknown field '\(unknown)'; known: all, endpoint, since, tenant, until")
        }
        let window: WebhookReplayWindow
        do {
            window = try Self.replayWindow(fields)
        } catch {
            return Self.failure(.badRequest, error.message)
        }
        let existing = runtime.config.webhookEndpointKeys
        return await queued { queue in
            let count = try await queue.replay(window, existing: existing)
            return Response.json(.ok, .object(["replayed": .int(Int64(count))]))
        }
    }

    private struct BadField: Error {
        let message: String
        init(_ message: String) { self.message = message }
    }

    private static func replayWindow(_ fields: JSONObject) throws(BadField) -> WebhookReplayWindow {
        func time(_ name: String) throws(BadField) -> Timestamp? {
            guard let value = fields[name], value != .null else { return nil }
            guard let text = value.stringValue, let time = Timestamp(iso8601: text) else {
                throw BadField("\(name) must be an ISO 8601 time such as 2024-09-12T14:02:53Z")
            }
            return time
        }
        guard let since = try time("since") else { throw BadField("since is required") }
        var window = WebhookReplayWindow(since: since, until: try time("until"))
        for name in ["tenant", "endpoint"] {
            guard let value = fields[name], value != .null else { continue }
            guard let text = value.stringValue else { throw BadField("\(name) must be a string") }
            if name == "tenant" { window.tenant = text } else { window.endpoint = text }
        }
        if let all = fields["all"], all != .null {
            guard case .bool(let flag) = all else { throw BadField("all must be true or false") }
            window.all = flag
        }
        return window
    }

    private func resume(tenant: String, endpoint: String) async throws -> Response {
        let key = WebhookEndpointKey(tenant: tenant, endpoint: endpoint)
        guard runtime.config.webhookEndpoints[key] != nil else {
            return Self.failure(.notFound, "no endpoint \(key) in the served configuration")
        }
        return await queued { queue in
            let resumed = try await queue.resume(key)
            return Response.json(.ok, .object(["endpoint": .string(key.description), "resumed": .bool(resumed)]))
        }
    }

    /// A delivery as the listing shows it (webhooks.md §6).
    static func json(_ delivery: WebhookDeliverySummary) -> JSONObject {
        func time(_ value: Timestamp?) -> JSONValue { value.map { .string($0.iso8601Milliseconds) } ?? .null }
        var object = JSONObject()
        object["id"] = .int(delivery.id)
        object["tenant"] = .string(delivery.endpoint.tenant)
        object["endpoint"] = .string(delivery.endpoint.endpoint)
        object["event_id"] = .string(delivery.eventID)
        object["event_type"] = .string(delivery.eventType)
        object["resource"] = .string(delivery.resource)
        object["record_id"] = .string(delivery.recordID)
        object["state"] = .string(delivery.state.rawValue)
        object["attempts"] = .int(Int64(delivery.attempts))
        object["next_attempt_at"] = time(delivery.nextAttemptAt)
        object["last_attempt_at"] = time(delivery.lastAttemptAt)
        object["response_code"] = delivery.responseCode.map { .int(Int64($0)) } ?? .null
        object["last_error"] = delivery.lastError.map(JSONValue.string) ?? .null
        object["created_at"] = time(delivery.createdAt)
        object["delivered_at"] = time(delivery.deliveredAt)
        return object
    }
}
