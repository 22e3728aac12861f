import AffiliateCore
import Foundation
import Hummingbird
import NIOCore

/// The operator's API: reload, status and audit. Served only on `admin.listen` (a 0600 unix
/// socket by default), never on the public listener.
struct AdminAPI {
    let runtime: HostRuntime

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: AdminTokenMiddleware(tokenSHA256: { runtime.config.admin.tokenSHA256 }))
        router.post("/reload") { _, _ in
            let outcome = await runtime.reload()
            let status: HTTPResponse.Status = if case .refused = outcome { .unprocessableContent } else { .ok }
            return Response.json(status, outcome.json)
        }
        router.get("/status") { _, _ in Response.json(.ok, await status()) }
        router.get("/tenants") { _, _ in Response.json(.ok, .object(["tenants": tenants(runtime.config)])) }
        router.get("/audit") { request, _ in try await audit(request) }
        router.get("/metrics") { _, _ in metrics() }
        router.get("/openapi/:dialect") { _, context in openAPIDocument(dialect: context.parameters.get("dialect") ?? "") }
        addWebhookRoutes(to: router)
        return router
    }

    /// The Prometheus text exposition of ``HostMetrics``; only ever on this listener, so a
    /// tenant's traffic figures never reach the public one.
    private func metrics() -> Response {
        guard let metrics = runtime.metrics else {
            return Response.json(.notFound, .object(["error": .string("metrics are off (serve --metrics off)")]))
        }
        let bytes = metrics.exposition()
        return Response(
            status: .ok,
            headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .contentLength: String(bytes.count)],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes))
        )
    }

    private func status() async -> JSONValue {
        let snapshot = runtime.snapshots.snapshot
        let now = Timestamp.now()
        var last: JSONValue = .null
        if let (outcome, at) = await runtime.lastReload {
            var object = outcome.json.objectValue ?? [:]
            object["at"] = .string(at.iso8601Seconds)
            last = .object(object)
        }
        return .object([
            "config": .string(runtime.configPath),
            "digest": .string(snapshot.config.digest),
            "loaded_at": .string(snapshot.loadedAt.iso8601Seconds),
            "uptime_seconds": .int((now.microseconds - runtime.startedAt.microseconds) / 1_000_000),
            "listen": .string(snapshot.config.server.listen.description),
            "store": .string(runtime.store.description),
            "tenants": tenants(snapshot.config),
            "last_reload": last,
        ])
    }

    private func tenants(_ config: HostConfig) -> JSONValue {
        .array(config.tenants.map { tenant in
            .object([
                "id": .string(tenant.id), "name": .string(tenant.name), "dialect": .string(tenant.dialect),
                "keys": .array(tenant.apiKeys.map { .string($0.id) }),
            ])
        })
    }

    private func audit(_ request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        guard let tenant = query["tenant"].map(String.init), !tenant.isEmpty,
              let resource = query["resource"].map(String.init), !resource.isEmpty,
              let id = query["id"].map(String.init), !id.isEmpty
        else {
            return Response.json(.badRequest, .object(["error": .string("tenant, resource and id are required")]))
        }
        do {
            let events = try await runtime.store.auditTrail(tenant: tenant, resource: resource, recordID: id)
            return Response.json(.ok, .object([
                "tenant": .string(tenant), "resource": .string(resource), "id": .string(id),
                "events": .array(events.map { event in
                    .object([
                        "from": event.from.map(JSONValue.string) ?? .null, "to": .string(event.to),
                        "at": .string(event.at.iso8601Milliseconds), "key_id": .string(event.keyID),
                        "request_id": .string(event.requestID),
                    ])
                }),
            ]))
        } catch {
            return Response.json(.serviceUnavailable, .object(["error": .string("storage unavailable: \(error)")]))
        }
    }
}

/// Requires `Authorization: Bearer <token>` whose SHA-256 is `admin.token_sha256`, when one is
/// configured (always, for a TCP admin listener). Read per request so a reload can rotate it.
struct AdminTokenMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let tokenSHA256: @Sendable () -> String?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let expected = tokenSHA256() else { return try await next(request, context) }
        let header = request.headers[.authorization] ?? ""
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer", KeyDigest.sha256Hex(String(parts[1])) == expected else {
            return Response.json(.unauthorized, .object(["error": .string("admin token missing or wrong")]))
        }
        return try await next(request, context)
    }
}
