import AffiliateCore
import Hummingbird

/// An answer the dialect gives instead of the requested object: a status and the vendor's body.
///
/// Thrown from anywhere inside an endpoint (transaction bodies included) and rendered by the
/// route wrapper, so that checks read top to bottom in the order the spec lists them.
struct FirstPromoterFailure: Error, Sendable {
    let status: HTTPResponse.Status
    let body: JSONValue

    init(_ status: HTTPResponse.Status, body: JSONValue) {
        self.status = status
        self.body = body
    }

    /// `{"error": "<text>"}`, the shape of every error but 401 and promoter field validation.
    init(_ status: HTTPResponse.Status, _ text: String) {
        self.init(status, body: .object(["error": .string(text)]))
    }

    static func unprocessable(_ text: String) -> FirstPromoterFailure { FirstPromoterFailure(.unprocessableContent, text) }

    var response: Response { .json(status, body) }

    static let notFound = FirstPromoterFailure(.notFound, "Not found.")
    static let invalidJSONBody = FirstPromoterFailure(.badRequest, "Invalid JSON body.")
    static let bodyTooLarge = FirstPromoterFailure(.contentTooLarge, "Request body too large.")
    static let promoterNotFound = FirstPromoterFailure(.notFound, "Promoter not found.")
    static let campaignNotFound = unprocessable("Campaign not found.")
    static let promotionNotFound = unprocessable("Promotion not found.")
    /// Engine contention: writers kept racing on the same records; the client may retry.
    static let busy = FirstPromoterFailure(.serviceUnavailable, "Service unavailable.")

    /// A status the engine refused, in the dialect's words (`payout`, `reward`).
    static func status(_ error: EngineError, noun: String) -> FirstPromoterFailure? {
        switch error {
        case .invalidStatus(_, _, let allowed):
            unprocessable("Invalid status. Must be one of: " + allowed.joined(separator: ", "))
        case .transitionNotAllowed(_, let from, let to):
            unprocessable("Cannot change \(noun) status from \(from) to \(to).")
        default:
            nil
        }
    }
}
