import Logging

/// What the host learned about one request on its way through: who was served, by which
/// dialect and route. The access log and the request metrics both read it.
struct ServedRequest: Sendable {
    var tenant = RequestSeries.none
    var dialect = RequestSeries.none
    /// The key's id from the configuration; never the key or its digest.
    var keyID: String?
    var route = RequestSeries.unmatched
}

/// One line per answered request, as nginx and Caddy write by default (`serve --access-log off`
/// turns it off for benchmarks).
///
/// The line names the route template, not the raw path: paths carry record ids and whatever a
/// client typed, while templates are few and safe to aggregate. It never carries a key, a key
/// digest or a body.
struct AccessLog: Sendable {
    let logger: Logger

    func write(method: String, status: Int, durationMicroseconds: Int, bytesOut: Int, served: ServedRequest, requestID: String) {
        logger.info(
            "\(method) \(served.route) \(status)",
            metadata: [
                "method": .string(method), "route": .string(served.route), "status": .stringConvertible(status),
                "duration_us": .stringConvertible(durationMicroseconds), "bytes_out": .stringConvertible(bytesOut),
                "tenant": .string(served.tenant), "dialect": .string(served.dialect),
                "key_id": .string(served.keyID ?? "-"), "request_id": .string(requestID),
            ]
        )
    }
}
