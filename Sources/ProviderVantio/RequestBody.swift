import AffiliateCore
import Hummingbird
import NIOCore

/// The JSON object a POST or PUT sent, checked in the spec's order: media type, parse, object,
/// unknown fields.
///
/// The outcome is a `Result` rather than a throw because a PUT must first answer 404 for a
/// missing record, and only then complain about its body.
enum RequestBody {
    static func read(
        _ request: Request, context: TenantRequestContext, allowed: Set<String>
    ) async throws -> Result<JSONObject, VantioError> {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: context.maxBodyBytes)
        } catch is NIOTooManyBytesError {
            return .failure(.payloadTooLarge(limit: context.maxBodyBytes))
        }
        return parse(buffer.readableBytesView, contentType: request.headers[.contentType], allowed: allowed)
    }

    static func parse(
        _ bytes: some Collection<UInt8>, contentType: String?, allowed: Set<String>
    ) -> Result<JSONObject, VantioError> {
        guard let contentType, isJSON(contentType) else {
            return .failure(.badRequest("Content-Type must be application/json"))
        }
        guard bytes.contains(where: { !isWhitespace($0) }) else {
            return .failure(.badRequest("Request body must be a JSON object"))
        }
        let value: JSONValue
        do {
            value = try JSONValue(parsing: bytes)
        } catch {
            return .failure(.badRequest("Malformed JSON body"))
        }
        guard case .object(let object) = value else {
            return .failure(.badRequest("Request body must be a JSON object"))
        }
        let unknown = object.keys.filter { !allowed.contains($0) }
        if let first = unknown.min(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }) {
            return .failure(.badRequest("Unknown field: \(first)"))
        }
        return .success(object)
    }

    /// `application/json`, any case, any parameters (`; charset=utf-8`).
    static func isJSON(_ contentType: String) -> Bool {
        let mediaType = contentType.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false)[0]
        return mediaType.trimmingSpaces.lowercased() == "application/json"
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }
}

extension StringProtocol where SubSequence == Substring {
    /// Without surrounding spaces and tabs (header values, CSV cells).
    var trimmingSpaces: Substring {
        guard let start = firstIndex(where: { $0 != " " && $0 != "\t" }),
              let end = lastIndex(where: { $0 != " " && $0 != "\t" })
        else { return "" }
        return self[start...end]
    }
}
