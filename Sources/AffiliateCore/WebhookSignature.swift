import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The `webhook-signature` header of Standard Webhooks (webhooks.md §4).
///
/// Signatures are made per attempt, because the signed text includes the attempt's timestamp,
/// and never stored. With two secrets (a rotation) the header carries two signatures, current
/// secret first, so receivers holding either secret accept the request.
public enum WebhookSignature {
    /// `v1,<sig1> v1,<sig2>`: one signature per secret, in the endpoint's order, space-separated.
    public static func header(id: String, timestamp: Int64, body: [UInt8], secrets: [WebhookSecret]) -> String {
        secrets.map { signature(id: id, timestamp: timestamp, body: body, key: $0.key) }.joined(separator: " ")
    }

    /// `v1,` + base64(HMAC-SHA256(key, "<id>.<timestamp>.<body>")), with the body's bytes exactly
    /// as sent.
    public static func signature(id: String, timestamp: Int64, body: [UInt8], key: [UInt8]) -> String {
        var hmac = HMAC<SHA256>(key: SymmetricKey(data: key))
        hmac.update(data: Array("\(id).\(timestamp).".utf8))
        hmac.update(data: body)
        return "v1," + Data(hmac.finalize()).base64EncodedString()
    }
}
