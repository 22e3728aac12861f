import AffiliateCore
import Hummingbird

extension AdminAPI {
    /// `GET /openapi/<dialect>`: the dialect's OpenAPI 3.1 document, the text `affhost openapi`
    /// prints. An unknown dialect is a 404 naming the known ones.
    func openAPIDocument(dialect: String) -> Response {
        guard let json = runtime.documents.json[dialect] else {
            let known = runtime.documents.dialects.joined(separator: ", ")
            return Response.json(.notFound, .object(["error": .string("unknown dialect '\(dialect)'; known dialects: \(known)")]))
        }
        return Response.json(.ok, bytes: json)
    }
}
