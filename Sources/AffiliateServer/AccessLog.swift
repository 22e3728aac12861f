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
public struct AccessLog: Sendable {
    /// How the fields reach the log handler.
    public enum Layout: Sendable {
        /// Within the message, `PUT /api/v1/payouts/update 200 duration_us=… bytes_out=… …`,
        /// for text handlers: building, sorting and printing a metadata dictionary per request
        /// was a third of what a line cost.
        case message
        /// As metadata, for handlers that keep fields apart (`--log-format json`).
        case metadata
    }

    let logger: Logger
    let layout: Layout

    public init(logger: Logger, layout: Layout) {
        self.logger = logger
        self.layout = layout
    }

    func write(method: String, status: Int, durationMicroseconds: Int, bytesOut: Int, served: ServedRequest, requestID: String) {
        let keyID = served.keyID ?? "-"
        switch layout {
        case .message:
            logger.info(
                """
                \(method) \(served.route) \(status) duration_us=\(durationMicroseconds) bytes_out=\(bytesOut) \
                tenant=\(served.tenant) dialect=\(served.dialect) key_id=\(keyID) request_id=\(requestID)
                """
            )
        case .metadata:
            logger.info(
                "\(method) \(served.route) \(status)",
                metadata: [
                    "method": .string(method), "route": .string(served.route), "status": .stringConvertible(status),
                    "duration_us": .stringConvertible(durationMicroseconds), "bytes_out": .stringConvertible(bytesOut),
                    "tenant": .string(served.tenant), "dialect": .string(served.dialect),
                    "key_id": .string(keyID), "request_id": .string(requestID),
                ]
            )
        }
    }
}
