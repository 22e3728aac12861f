import AffiliateCore
import Hummingbird

/// Query parameters of the list endpoints: exact-match filters, `status`, `limit` and `offset`.
///
/// Unknown parameters (including a filter in the other casing) are ignored, as the spec says.
struct ListQuery {
    static let defaultLimit = 50
    static let maximumLimit = 100

    let parameters: Parameters

    init(_ request: Request) { parameters = request.uri.queryParameters }

    /// Tags for the filters present, each `(query parameter, tag name)`.
    func tags(_ filters: [(parameter: Substring, tag: String)]) -> [Tag] {
        filters.compactMap { filter in parameters[filter.parameter].map { Tag(filter.tag, String($0)) } }
    }

    /// The `status` filter, refused when the tenant's vocabulary lacks it.
    func status(in vocabulary: Vocabulary) throws(VantioError) -> String? {
        guard let value = parameters["status"] else { return nil }
        let word = String(value)
        guard vocabulary.contains(word) else { throw .invalidStatus(allowed: vocabulary.words) }
        return word
    }

    func page() throws(VantioError) -> (offset: Int, limit: Int) {
        var limit = Self.defaultLimit
        if let text = parameters["limit"] {
            guard let value = Self.count(text), value >= 1 else { throw .badRequest("limit must be a positive integer") }
            limit = min(value, Self.maximumLimit)
        }
        var offset = 0
        if let text = parameters["offset"] {
            guard let value = Self.count(text) else { throw .badRequest("offset must be a non-negative integer") }
            offset = value
        }
        return (offset, limit)
    }

    /// Plain decimal digits, saturating instead of failing on huge values (`limit=99999999999999999999`
    /// is a valid, merely large, limit).
    static func count(_ text: Substring) -> Int? {
        guard !text.isEmpty else { return nil }
        var value = 0
        for byte in text.utf8 {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let (scaled, overflow) = value.multipliedReportingOverflow(by: 10)
            value = overflow ? Int.max : min(scaled, Int.max - 9) + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }

    /// `{"<resource>": [...]}`: the stored objects are the objects Vantio shows.
    static func render(_ resource: String, _ page: RecordDataPage) -> Response {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(page.json.count + resource.utf8.count + 8)
        bytes.append(contentsOf: "{\"\(resource)\":".utf8)
        bytes.append(contentsOf: page.json)
        bytes.append(UInt8(ascii: "}"))
        return Response.json(.ok, bytes: bytes)
    }
}
