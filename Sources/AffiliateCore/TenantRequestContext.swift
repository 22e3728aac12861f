public import Hummingbird
public import Logging
import NIOCore

/// The request context a dialect's routes run in: the request already authenticated and bound
/// to one tenant of one configuration snapshot.
public struct TenantRequestContext: RequestContext {
    public struct Source: RequestContextSource {
        public let logger: Logger
        public let engine: TenantEngine
        public let requestID: String
        public let maxBodyBytes: Int
        public init(logger: Logger, engine: TenantEngine, requestID: String, maxBodyBytes: Int) {
            self.logger = logger
            self.engine = engine
            self.requestID = requestID
            self.maxBodyBytes = maxBodyBytes
        }
    }

    public var coreContext: CoreRequestContextStorage
    /// The tenant's engine: every read and write through it is scoped to this tenant.
    public let engine: TenantEngine
    public let requestID: String
    public let maxBodyBytes: Int

    public init(source: Source) {
        self.coreContext = .init(source: source)
        self.engine = source.engine
        self.requestID = source.requestID
        self.maxBodyBytes = source.maxBodyBytes
    }

    public var tenant: TenantConfig { engine.tenant }
    public var maxUploadSize: Int { maxBodyBytes }
}

extension Response {
    /// A JSON response with the charset both vendors send.
    public static func json(_ status: HTTPResponse.Status, _ value: JSONValue, headers: HTTPFields = [:]) -> Response {
        json(status, bytes: value.serializedBytes, headers: headers)
    }

    public static func json(_ status: HTTPResponse.Status, bytes: [UInt8], headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        fields[.contentLength] = String(bytes.count)
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
