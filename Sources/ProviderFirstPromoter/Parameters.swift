import AffiliateCore
import Hummingbird
import NIOCore

/// A request's parameters from its query string and its form or JSON body (the body wins), all
/// as text, because FirstPromoter reads every parameter from any of the three on every verb.
struct Parameters: Sendable {
    private(set) var values: [String: String]

    init(_ values: [String: String] = [:]) { self.values = values }

    /// The value as sent, `""` included: data fields store what the client gave.
    subscript(name: String) -> String? { values[name] }

    /// Identifier, filter, paging and required parameters: an empty value counts as absent.
    func nonEmpty(_ name: String) -> String? {
        guard let value = values[name], !value.isEmpty else { return nil }
        return value
    }

    /// A boolean parameter is true only for `true`, in any case.
    func flag(_ name: String) -> Bool? {
        values[name].map { $0.lowercased() == "true" }
    }

    /// Reads the query string, then the body when its media type is form or JSON.
    ///
    /// - Throws: ``FirstPromoterFailure`` for a JSON body that is not an object, or a body over
    ///   the limit that the host did not catch already.
    static func read(from request: Request, context: TenantRequestContext) async throws -> Parameters {
        var values: [String: String] = [:]
        if let query = request.uri.query, !query.isEmpty {
            FormDecoding.decode(query.utf8, into: &values)
        }
        guard let mediaType = BodyMediaType(request.headers[.contentType]) else { return Parameters(values) }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: context.maxBodyBytes)
        } catch is NIOTooManyBytesError {
            throw FirstPromoterFailure.bodyTooLarge
        }
        let bytes = body.readableBytesView
        switch mediaType {
        case .form:
            FormDecoding.decode(bytes, into: &values)
        case .json:
            guard case .object(let object)? = try? JSONValue(parsing: bytes) else {
                throw FirstPromoterFailure.invalidJSONBody
            }
            for (name, value) in object {
                switch value {
                case .string(let text): values[name] = text
                case .number(let text): values[name] = text
                case .bool(let flag): values[name] = flag ? "true" : "false"
                case .null, .array, .object: continue
                }
            }
        }
        return Parameters(values)
    }
}

/// The body encodings FirstPromoter reads parameters from; any other body is ignored.
enum BodyMediaType {
    case form
    case json

    /// Compares the media type case-insensitively and ignores `charset` and other parameters.
    init?(_ contentType: String?) {
        guard let contentType else { return nil }
        let type = contentType.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        switch type.trimmingSpaces.lowercased() {
        case "application/x-www-form-urlencoded": self = .form
        case "application/json": self = .json
        default: return nil
        }
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        var text = self
        while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
        while let last = text.last, last == " " || last == "\t" { text.removeLast() }
        return text
    }
}
