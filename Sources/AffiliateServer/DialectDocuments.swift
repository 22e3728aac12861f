/// The OpenAPI document of each compiled-in dialect, already rendered as JSON.
///
/// The executable builds them, since only it knows the dialect modules; the server just serves
/// the bytes, so it depends on no dialect and on no OpenAPI library.
public struct DialectDocuments: Sendable {
    /// Document text by dialect id (`firstpromoter-v1`).
    public let json: [String: [UInt8]]

    public init(json: [String: [UInt8]]) { self.json = json }

    public var dialects: [String] { json.keys.sorted() }
}
