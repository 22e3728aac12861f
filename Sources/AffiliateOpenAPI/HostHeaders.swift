public import OpenAPIKit

/// Response headers the host adds whatever the dialect: the request id on every answer, the
/// rate-limit counters while a tenant has a limit, `Retry-After` on 429 and 503.
public enum HostHeaders {
    public static let requestID = "X-Request-Id"
    public static let rateLimitLimit = "X-RateLimit-Limit"
    public static let rateLimitRemaining = "X-RateLimit-Remaining"
    public static let rateLimitReset = "X-RateLimit-Reset"
    public static let retryAfter = "Retry-After"

    /// On every response: the id the audit trail and the log carry for this request.
    public static var requestIDHeader: OpenAPI.Header {
        OpenAPI.Header(
            schema: .string(minLength: 1), description: "The request's id, as logged and written to the audit trail.",
            required: true
        )
    }

    /// `X-RateLimit-*`: present on every authenticated response while the tenant configures a
    /// per-key `rate_limit`, absent otherwise.
    public static var rateLimitHeaders: OpenAPI.Header.Map {
        [
            rateLimitLimit: .b(OpenAPI.Header(
                schema: .integer(minimum: (1, exclusive: false)),
                description: "Requests allowed per window for this key (only while the tenant sets rate_limit)."
            )),
            rateLimitRemaining: .b(OpenAPI.Header(
                schema: .integer(minimum: (0, exclusive: false)),
                description: "Requests left in the current window (only while the tenant sets rate_limit)."
            )),
            rateLimitReset: .b(OpenAPI.Header(
                schema: .integer(), description: "Unix time, in seconds, when the window resets (only while the tenant sets rate_limit)."
            )),
        ]
    }

    /// The headers of an authenticated answer: the request id and the rate-limit counters.
    public static var standard: OpenAPI.Header.Map {
        var headers: OpenAPI.Header.Map = [requestID: .b(requestIDHeader)]
        for (name, header) in rateLimitHeaders { headers[name] = header }
        return headers
    }

    /// `Retry-After` in whole seconds, at least 1.
    public static func retryAfterHeader(_ description: String) -> OpenAPI.Header {
        OpenAPI.Header(schema: .integer(minimum: (1, exclusive: false)), description: description, required: true)
    }
}
