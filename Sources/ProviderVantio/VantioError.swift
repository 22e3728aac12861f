import AffiliateCore
import Hummingbird

/// A failure in Vantio's error shape: `{"error": "<reason phrase>", "message": "<text>"}`.
///
/// Handlers throw it and Hummingbird's router renders it (it is an `HTTPResponseError`), so a
/// validation failure deep inside an engine transaction needs no plumbing back to the route.
struct VantioError: HTTPResponseError, Equatable {
    let status: HTTPResponse.Status
    /// The `error` text: the reason phrase Vantio sends, which is not always today's RFC one
    /// (413 is "Payload Too Large" there).
    let error: String
    let message: String
    var headers: HTTPFields

    init(_ status: HTTPResponse.Status, _ message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.error = status == .contentTooLarge ? "Payload Too Large" : status.reasonPhrase
        self.message = message
        self.headers = headers
    }

    static func badRequest(_ message: String) -> VantioError { VantioError(.badRequest, message) }

    static let routeNotFound = VantioError(.notFound, "Route not found")
    static let unauthorized = VantioError(.unauthorized, "Invalid or missing API key", headers: [.wwwAuthenticate: "Bearer"])
    static let idempotencyConflict = VantioError(.conflict, "idempotency_key was already used with a different request")
    static let unavailable = VantioError(
        .serviceUnavailable, "Service temporarily unavailable, please retry", headers: [.retryAfter: "1"]
    )
    static let internalError = VantioError(.internalServerError, "Internal server error")

    static func methodNotAllowed(allow: [HTTPRequest.Method]) -> VantioError {
        VantioError(.methodNotAllowed, "Method not allowed", headers: [.allow: allow.map(\.rawValue).joined(separator: ", ")])
    }

    static func payloadTooLarge(limit: Int) -> VantioError {
        VantioError(.contentTooLarge, "Request body exceeds \(limit) bytes")
    }

    static func rateLimited(_ state: RateLimitState) -> VantioError {
        var headers = HTTPFields()
        headers[.retryAfter] = String(max(1, state.retryAfterSeconds))
        headers[VantioHeader.rateLimitLimit] = String(state.limit)
        headers[VantioHeader.rateLimitRemaining] = "0"
        headers[VantioHeader.rateLimitReset] = String(state.resetAt)
        return VantioError(.tooManyRequests, "Rate limit exceeded", headers: headers)
    }

    /// The engine's refusals in Vantio's words. `unavailable` is not mapped here: the host
    /// answers and logs it.
    init(_ error: EngineError) {
        switch error {
        case .notFound(let resource):
            self.init(.notFound, "\(VantioResource.singular(resource).capitalizedFirst) not found")
        case .invalidStatus(_, _, let allowed):
            self = .invalidStatus(allowed: allowed)
        case .transitionNotAllowed(let resource, let from, let to):
            self = .badRequest("Cannot change \(VantioResource.singular(resource)) status from \(from) to \(to)")
        case .idempotencyConflict:
            self = .idempotencyConflict
        case .alreadyTaken(_, let field, _):
            self.init(.conflict, "\(field) is already taken")
        case .contention, .unavailable:
            self = .unavailable
        }
    }

    static func invalidStatus(allowed: [String]) -> VantioError {
        .badRequest("Invalid status value. Must be one of: \(allowed.joined(separator: ", "))")
    }

    public func response(from request: Request, context: some RequestContext) -> Response { response }

    var response: Response {
        let body: JSONValue = .object(["error": .string(error), "message": .string(message)])
        return Response.json(status, body, headers: headers)
    }
}

enum VantioHeader {
    /// HTTPTypes' `HTTPField.Name`, reached through the `HTTPFields` Hummingbird re-exports
    /// (this module depends on AffiliateCore alone).
    typealias Name = HTTPFields.Element.Name

    static let rateLimitLimit = Name("X-RateLimit-Limit")!
    static let rateLimitRemaining = Name("X-RateLimit-Remaining")!
    static let rateLimitReset = Name("X-RateLimit-Reset")!
    static let idempotentReplayed = Name("Idempotent-Replayed")!
}

extension String {
    var capitalizedFirst: String { prefix(1).uppercased() + dropFirst() }
}
