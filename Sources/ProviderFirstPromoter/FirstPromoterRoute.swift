import AffiliateCore
import Hummingbird

/// One request as an endpoint sees it: parameters already merged from query and body.
struct FirstPromoterCall: Sendable {
    let request: Request
    let context: TenantRequestContext
    let parameters: Parameters

    var engine: TenantEngine { context.engine }
    var tenant: TenantConfig { context.tenant }
}

typealias FirstPromoterEndpoint = @Sendable (FirstPromoterCall) async throws -> Response

extension Router<TenantRequestContext> {
    /// Registers an endpoint under `/api/v1/<path>` and `/api/v1/<path>.json`.
    ///
    /// Parameters are read after routing (a 404 beats a malformed body), and every failure a
    /// client can cause is rendered here in the vendor's shapes. Only `unavailable` (and bugs)
    /// escape, for the host to answer 503 (or 500 and log).
    func firstPromoter(_ method: HTTPRequest.Method, _ path: String, _ endpoint: @escaping FirstPromoterEndpoint) {
        for suffix in FirstPromoterRouteTable.suffixes {
            on(RouterPath(FirstPromoterRouteTable.prefix + path + suffix), method: method) { request, context in
                do {
                    let parameters = try await Parameters.read(from: request, context: context)
                    return try await endpoint(FirstPromoterCall(request: request, context: context, parameters: parameters))
                } catch let failure as FirstPromoterFailure {
                    return failure.response
                } catch let error as EngineError {
                    if case .unavailable = error { throw error }
                    return FirstPromoterFailure(escaped: error).response
                }
            }
        }
    }
}

extension FirstPromoterFailure {
    /// Engine refusals an endpoint did not translate itself: a unique value lost to a
    /// concurrent writer on every retry, or contention.
    init(escaped error: EngineError) {
        switch error {
        case .alreadyTaken(_, ClaimName.email, _):
            self = PromoterFieldErrors(email: PromoterFieldErrors.taken).failure
        case .alreadyTaken(_, ClaimName.custID, _):
            self = PromoterFieldErrors(custID: PromoterFieldErrors.taken).failure
        case .alreadyTaken(_, ClaimName.refID, _):
            self = PromoterFieldErrors(refID: PromoterFieldErrors.taken).failure
        case .alreadyTaken(_, ClaimName.eventID, _):
            self = .unprocessable("Event id has already been taken.")
        case .notFound:
            self = .notFound
        case .invalidStatus, .transitionNotAllowed:
            self = FirstPromoterFailure.status(error, noun: "record") ?? .busy
        case .alreadyTaken, .idempotencyConflict, .contention, .unavailable:
            self = .busy
        }
    }
}

/// Turns the router's not-found error (unknown path, or a served path with another method)
/// into the dialect's 404. Added before the endpoints so that it wraps the not-found responder.
struct FirstPromoterNotFoundMiddleware: RouterMiddleware {
    typealias Context = TenantRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound || error.status == .methodNotAllowed {
            return FirstPromoterFailure.notFound.response
        }
    }
}
