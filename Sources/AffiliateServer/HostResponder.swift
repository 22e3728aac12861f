import AffiliateCore
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// The public listener: health check, then key -> tenant -> the tenant's dialect routes.
///
/// Checks run in the order both dialect specs fix: body size (413), credential (401), rate
/// limit (429), then the dialect's own routing and validation.
struct HostResponder: HTTPResponder {
    typealias Context = BasicRequestContext

    let snapshots: SnapshotCell
    let registry: ProviderRegistry
    let dialectResponders: [String: RouterResponder<TenantRequestContext>]
    let store: any Store
    let rateLimiter: RateLimiter
    let metrics: HostMetrics?
    let accessLog: AccessLog?

    static let requestIDField = HTTPField.Name("X-Request-Id")!
    static let healthBody = ByteBuffer(string: "ok")

    init(snapshots: SnapshotCell, registry: ProviderRegistry, store: any Store, metrics: HostMetrics?, accessLog: AccessLog?) {
        self.snapshots = snapshots
        self.registry = registry
        self.store = store
        self.metrics = metrics
        self.accessLog = accessLog
        self.rateLimiter = RateLimiter()
        var responders: [String: RouterResponder<TenantRequestContext>] = [:]
        for provider in registry.providers {
            let router = Router(context: TenantRequestContext.self)
            provider.addRoutes(to: router)
            responders[provider.dialect] = router.buildResponder()
        }
        self.dialectResponders = responders
    }

    func respond(to request: Request, context: BasicRequestContext) async throws -> Response {
        let started = ContinuousClock.now
        var response: Response
        var served = ServedRequest()
        if request.uri.path == "/healthz", request.method == .get || request.method == .head {
            served.route = "/healthz"
            response = Response(
                status: .ok, headers: [.contentType: "text/plain; charset=utf-8", .contentLength: "2"],
                body: .init(byteBuffer: Self.healthBody)
            )
        } else {
            response = await dispatch(request, context: context, served: &served)
        }
        response.headers[Self.requestIDField] = context.id
        if metrics != nil || accessLog != nil {
            observe(request, response, served: served, duration: ContinuousClock.now - started, requestID: context.id)
        }
        return response
    }

    /// Counts the request and writes its access log line. Both come after the response is
    /// built, so neither can change what a client is answered.
    private func observe(_ request: Request, _ response: Response, served: ServedRequest, duration: Duration, requestID: String) {
        let method = request.method.rawValue
        let status = response.status.code
        metrics?.record(
            RequestSeries(
                tenant: served.tenant, dialect: served.dialect, method: method, route: served.route,
                statusClass: RequestSeries.statusClass(of: status)
            ),
            duration: duration
        )
        if let accessLog {
            let (seconds, attoseconds) = duration.components
            accessLog.write(
                method: method, status: status,
                durationMicroseconds: Int(seconds) * 1_000_000 + Int(attoseconds / 1_000_000_000_000),
                bytesOut: response.body.contentLength ?? 0, served: served, requestID: requestID
            )
        }
    }

    private func dispatch(_ incoming: Request, context: BasicRequestContext, served: inout ServedRequest) async -> Response {
        let snapshot = snapshots.snapshot
        let config = snapshot.config
        let style = styleProvider(for: incoming)
        served.dialect = style.dialect
        let limit = config.server.maxBodyBytes

        if let length = incoming.headers[.contentLength].flatMap({ Int($0) }), length > limit {
            return style.response(for: .payloadTooLarge(limit: limit))
        }
        var request = incoming
        do {
            _ = try await request.collectBody(upTo: limit)
        } catch {
            return style.response(for: .payloadTooLarge(limit: limit))
        }

        let now = Timestamp.now()
        guard let (provider, tenant, keyID) = authenticate(request, keys: config, now: now) else {
            context.logger.info("unauthorized", metadata: ["path": .string(request.uri.path)])
            return style.response(for: .unauthorized)
        }
        served.tenant = tenant.id
        served.dialect = provider.dialect
        served.keyID = keyID

        var rateState: RateLimitState?
        if let limit = tenant.rateLimit {
            let (allowed, state) = rateLimiter.count(key: tenant.id + "\u{0}" + keyID, limit: limit, now: now)
            rateState = state
            if !allowed {
                metrics?.countRateLimited(tenant: tenant.id)
                var response = provider.response(for: .rateLimited(state))
                Self.addRateLimitHeaders(state, to: &response)
                return response
            }
        }

        // Tenant and key id go on the lines this function logs, not into the logger: setting
        // metadata on a `Logger` re-renders all of it at once with `StreamLogHandler`, and that
        // cost 3-5% of a durable update's CPU for lines that are almost never written.
        let logger = context.logger
        let who: Logger.Metadata = ["tenant": .string(tenant.id), "key_id": .string(keyID)]
        let engine = TenantEngine(tenant: tenant, store: store, origin: ChangeOrigin(keyID: keyID, requestID: context.id))
        let tenantContext = TenantRequestContext(
            source: .init(logger: logger, engine: engine, requestID: context.id, maxBodyBytes: limit)
        )
        var response: Response
        do {
            guard let responder = dialectResponders[provider.dialect] else { return provider.response(for: .internalError) }
            response = try await responder.respond(to: request, context: tenantContext)
        } catch EngineError.unavailable(let reason) {
            logger.error("storage unavailable", metadata: who.merging(["reason": .string(reason)]) { $1 })
            response = provider.response(for: .unavailable)
        } catch let error as any HTTPResponseError {
            do {
                response = try error.response(from: request, context: tenantContext)
            } catch {
                response = provider.response(for: .internalError)
            }
        } catch {
            logger.error("request failed", metadata: who.merging(["error": .string(String(describing: error))]) { $1 })
            response = provider.response(for: .internalError)
        }
        if let endpoint = tenantContext.endpointPath, endpoint != "NotFound" { served.route = endpoint }
        if let rateState { Self.addRateLimitHeaders(rateState, to: &response) }
        return response
    }

    /// The provider whose credential header the request carries, else whose paths it uses;
    /// its error shapes answer the failures found before a tenant is known.
    private func styleProvider(for request: Request) -> any Provider {
        for provider in registry.providers where provider.credential(in: request) != .absent {
            return provider
        }
        return registry.providers.first { $0.recognizes(path: request.uri.path) } ?? registry.providers[0]
    }

    /// A key counts only when presented in its own tenant's dialect style, so a FirstPromoter
    /// client's header never opens a Vantio tenant.
    private func authenticate(_ request: Request, keys config: HostConfig, now: Timestamp) -> (any Provider, TenantConfig, String)? {
        for provider in registry.providers {
            guard case .key(let key) = provider.credential(in: request),
                  let owner = config.keys.owner(ofKey: key, at: now),
                  let tenant = config.tenantsByID[owner.tenantID],
                  tenant.dialect == provider.dialect
            else { continue }
            return (provider, tenant, owner.keyID)
        }
        return nil
    }

    static let limitField = HTTPField.Name("X-RateLimit-Limit")!
    static let remainingField = HTTPField.Name("X-RateLimit-Remaining")!
    static let resetField = HTTPField.Name("X-RateLimit-Reset")!

    static func addRateLimitHeaders(_ state: RateLimitState, to response: inout Response) {
        response.headers[limitField] = String(state.limit)
        response.headers[remainingField] = String(state.remaining)
        response.headers[resetField] = String(state.resetAt)
    }
}
