import AffiliateOpenAPI
import OpenAPIKit

/// The answers every Vantio endpoint may give besides its own, as `VantioProvider.response(for:)`
/// and `VantioError` render them (spec §1, §2, §4).
enum VantioResponses {
    typealias ResponseEntry = Either<OpenAPI.Reference<OpenAPI.Response>, OpenAPI.Response>

    static func json(_ description: String, _ schema: JSONSchema, headers: OpenAPI.Header.Map = HostHeaders.standard) -> ResponseEntry {
        .response(description: description, headers: headers, content: [OpenAPI.ContentType.json: .content(OpenAPI.Content(schema: schema))])
    }

    static func error(_ description: String, headers: OpenAPI.Header.Map = HostHeaders.standard) -> ResponseEntry {
        json(description, VantioSchemas.ref("Error"), headers: headers)
    }

    static func header(_ description: String, _ schema: JSONSchema = .string, required: Bool = true) -> Either<OpenAPI.Reference<OpenAPI.Header>, OpenAPI.Header> {
        .b(OpenAPI.Header(schema: schema, description: description, required: required))
    }

    static var common: OpenAPI.Response.Map {
        let requestIDOnly: OpenAPI.Header.Map = [HostHeaders.requestID: .b(HostHeaders.requestIDHeader)]
        var unauthorized = requestIDOnly
        unauthorized["WWW-Authenticate"] = header("Always `Bearer`.", .string(allowedValues: ["Bearer"]))
        var rateLimited = HostHeaders.standard
        rateLimited[HostHeaders.retryAfter] = .b(HostHeaders.retryAfterHeader("Seconds until the key may send again."))
        var unavailable = HostHeaders.standard
        unavailable[HostHeaders.retryAfter] = .b(HostHeaders.retryAfterHeader("Always 1."))
        return [
            401: error("Missing, malformed, unknown or expired bearer key: `Invalid or missing API key`.", headers: unauthorized),
            413: error("The body is over the server's `max_body_bytes`: `Request body exceeds <limit> bytes`.", headers: requestIDOnly),
            429: error("Over the tenant's per-key `rate_limit`: `Rate limit exceeded`.", headers: rateLimited),
            500: error("A bug, logged with the request id: `Internal server error`."),
            503: error("Storage unreachable or writers contending: `Service temporarily unavailable, please retry`.", headers: unavailable),
        ]
    }

    /// The endpoint's own responses followed by the common ones, ordered by status code.
    static func responses(_ own: OpenAPI.Response.Map) -> OpenAPI.Response.Map {
        own.adding(common: common)
    }
}
