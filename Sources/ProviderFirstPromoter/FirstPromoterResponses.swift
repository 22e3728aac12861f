import AffiliateOpenAPI
import OpenAPIKit

/// The answers every FirstPromoter v1 endpoint may give besides its own, in the order the host
/// checks them (spec §2): 413 body limit, 401 credential, 429 rate limit, 400 JSON body, then
/// 503 / 500 from the store or a bug. Bodies are the shapes `FirstPromoterProvider.response(for:)`
/// and `FirstPromoterFailure` render.
enum FirstPromoterResponses {
    static let jsonType = OpenAPI.ContentType.json

    static func json(_ description: String, _ schema: JSONSchema, headers: OpenAPI.Header.Map = HostHeaders.standard)
        -> Either<OpenAPI.Reference<OpenAPI.Response>, OpenAPI.Response>
    {
        .response(description: description, headers: headers, content: [jsonType: .content(OpenAPI.Content(schema: schema))])
    }

    static func error(_ description: String, headers: OpenAPI.Header.Map = HostHeaders.standard)
        -> Either<OpenAPI.Reference<OpenAPI.Response>, OpenAPI.Response>
    {
        json(description, FirstPromoterSchemas.ref("Error"), headers: headers)
    }

    /// `Total`, `Per-Page` and `Link` of the three list endpoints (spec §3).
    static var pagingHeaders: OpenAPI.Header.Map {
        var headers = HostHeaders.standard
        headers["Total"] = .b(OpenAPI.Header(schema: .integer(minimum: (0, exclusive: false)), description: "Rows matching the filters.", required: true))
        headers["Per-Page"] = .b(OpenAPI.Header(schema: .integer(minimum: (1, exclusive: false)), description: "The effective page size (per_page capped at 100).", required: true))
        headers["Link"] = .b(OpenAPI.Header(
            schema: .string,
            description: "api-pagination links `first`, `prev`, `last`, `next` with absolute URLs; absent when there is no other page."
        ))
        return headers
    }

    /// What any endpoint can answer before or around its own checks.
    static var common: OpenAPI.Response.Map {
        var rateLimited = HostHeaders.standard
        rateLimited[HostHeaders.retryAfter] = .b(HostHeaders.retryAfterHeader("Seconds until the key may send again."))
        return [
            400: error("The body is declared `application/json` but is not a JSON object: `Invalid JSON body.`"),
            401: json(
                "Missing, empty, unknown or expired `X-API-KEY`: the JSON string `\"Bad credentials\"`.",
                FirstPromoterSchemas.ref("BadCredentials"), headers: [HostHeaders.requestID: .b(HostHeaders.requestIDHeader)]
            ),
            413: error(
                "The body is over the server's `max_body_bytes`: `Request body too large.`",
                headers: [HostHeaders.requestID: .b(HostHeaders.requestIDHeader)]
            ),
            429: error("Over the tenant's per-key `rate_limit`: `Rate limit exceeded.`", headers: rateLimited),
            500: error("A bug, logged with the request id: `Internal server error.`"),
            503: error("Storage unreachable or writers contending; retry: `Service unavailable.`"),
        ]
    }

    /// The endpoint's own responses followed by the common ones, ordered by status code.
    static func responses(_ own: OpenAPI.Response.Map) -> OpenAPI.Response.Map {
        own.adding(common: common)
    }
}

/// Parameters and bodies: FirstPromoter reads every parameter from the query string, a form body
/// or a JSON object body, the body winning (spec §2). Reads document them as query parameters,
/// writes as a body in both media types.
enum FirstPromoterParameters {
    static func query(_ name: String, _ schema: JSONSchema, _ description: String, required: Bool = false) -> Either<OpenAPI.Reference<OpenAPI.Parameter>, OpenAPI.Parameter> {
        .parameter(OpenAPI.Parameter(name: name, context: .query(required: required, schema: schema), description: description))
    }

    static let paging: OpenAPI.Parameter.Array = [
        query("page", .integer(minimum: (1, exclusive: false)), "Page number, from 1 (default 1); anything else is a 422."),
        query(
            "per_page", .integer(minimum: (1, exclusive: false)),
            "Page size (default 20, values above 100 become 100); anything else is a 422."
        ),
    ]

    /// A write's parameters as one object, accepted form-encoded or as JSON.
    static func body(_ properties: OrderedDictionary<String, JSONSchema>, description: String) -> OpenAPI.Request {
        var optional: OrderedDictionary<String, JSONSchema> = [:]
        for (name, schema) in properties { optional[name] = schema.optionalSchemaObject() }
        let schema = JSONSchema.object(properties: optional)
        return OpenAPI.Request(
            description: description + " Each parameter may also be sent in the query string; the body wins.",
            content: [
                OpenAPI.ContentType.form: .content(OpenAPI.Content(schema: schema)),
                OpenAPI.ContentType.json: .content(OpenAPI.Content(schema: schema)),
            ]
        )
    }

    static let id = JSONSchema.integer
    static let email = JSONSchema.string(format: .email)
}
