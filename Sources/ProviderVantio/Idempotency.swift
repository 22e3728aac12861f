import AffiliateCore
import Hummingbird

/// A POST's `idempotency_key` and the digest of the rest of its payload.
///
/// "Same payload" means the same JSON value: the digest is taken over the canonical form (keys
/// in byte order, numbers by value), so whitespace, key order and `1.0` vs `1` do not matter.
struct IdempotencyRequest {
    static let field = "idempotency_key"

    let key: String
    let payloadDigest: String

    /// `nil` when the body carries no key.
    static func read(from body: JSONObject) throws(VantioError) -> IdempotencyRequest? {
        guard let value = body[field] else { return nil }
        // Length as JavaScript clients count it (UTF-16 units), the vendor's own runtime.
        guard case .string(let key) = value, !key.isEmpty, key.utf16.count <= 255 else {
            throw .badRequest("idempotency_key must be a non-empty string of at most 255 characters")
        }
        var payload = body
        payload[field] = nil
        let digest = KeyDigest.sha256Hex(bytes: JSONValue.object(payload).canonical.serializedBytes)
        return IdempotencyRequest(key: key, payloadDigest: digest)
    }
}

/// Creates a record at most once per idempotency key.
///
/// The key is checked and remembered inside the same optimistic transaction as the insert: of
/// two concurrent identical requests the store lets one commit, the other's transaction re-runs,
/// finds the remembered key and replays the first record.
enum IdempotentCreate {
    enum Outcome: Sendable {
        case created(Record)
        case replayed(Record)
    }

    /// `scope` is also the resource the key's records live in (`earnings`, `referrals`).
    static func run(
        engine: TenantEngine, scope: String, idempotency: IdempotencyRequest?,
        make: (inout Transaction) async throws -> Record
    ) async throws -> Response {
        let window = VantioSettings(engine.tenant).idempotencyWindow
        let outcome = try await engine.transaction { tx -> Outcome in
            if let idempotency,
               let entry = try await tx.engine.idempotencyEntry(scope: scope, key: idempotency.key),
               entry.expiresAt > tx.now {
                guard entry.payloadDigest == idempotency.payloadDigest,
                      let original = try await tx.engine.find(scope, id: entry.recordID)
                else { throw VantioError.idempotencyConflict }
                return .replayed(original)
            }
            let record = try await make(&tx)
            if let idempotency {
                tx.remember(
                    scope: scope, key: idempotency.key, payloadDigest: idempotency.payloadDigest,
                    recordID: record.id, window: window
                )
            }
            return .created(record)
        }
        switch outcome {
        case .created(let record):
            return Response.json(.created, .object(record.data))
        case .replayed(let record):
            return Response.json(.ok, .object(record.data), headers: [VantioHeader.idempotentReplayed: "true"])
        }
    }
}
