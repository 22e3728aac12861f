#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One signing secret of a webhook endpoint: where the configuration says it comes from, and
/// its key bytes once resolved.
///
/// The key lives in memory only. Every way Swift turns a value into text (`description`,
/// `debugDescription`, `dump`, string interpolation of an enclosing struct) shows the reference
/// (`env:AFFHOST_WHSEC_ACME_CRM`, `file:secrets/acme.whsec`) and never the key, so a secret
/// cannot reach a log, an admin answer or an error message by being printed.
public struct WebhookSecret: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    /// Where a secret is read from; the YAML never holds the value itself.
    public enum Reference: Sendable, Hashable, CustomStringConvertible {
        /// An environment variable of the affhost process, read at start (a reload sees the
        /// same environment).
        case environment(String)
        /// A file, read at start and at every reload, so a rotated file takes effect on reload.
        case file(String)

        public var description: String {
            switch self {
            case .environment(let name): "env:\(name)"
            case .file(let path): "file:\(path)"
            }
        }

        public var isFile: Bool { if case .file = self { true } else { false } }
    }

    public let reference: Reference
    /// The HMAC key: the secret's text after `whsec_`, base64-decoded.
    public let key: [UInt8]

    public init(reference: Reference, key: [UInt8]) {
        self.reference = reference
        self.key = key
    }

    public var description: String { reference.description }
    public var debugDescription: String { "WebhookSecret(\(reference))" }
    public var customMirror: Mirror { Mirror(self, children: ["reference": reference], displayStyle: .struct) }

    /// `whsec_` in front of every secret, as Standard Webhooks writes them.
    public static let prefix = "whsec_"
    /// Standard Webhooks keys are 24 to 64 random bytes.
    public static let keySizes = 24...64

    /// Why a secret's text is unusable, in words that never repeat it.
    public enum TextProblem: Error, Sendable, Hashable, CustomStringConvertible {
        case empty
        case missingPrefix
        case notBase64
        case wrongSize(Int)

        public var description: String {
            switch self {
            case .empty: "is empty"
            case .missingPrefix: "does not start with whsec_"
            case .notBase64: "is not base64 after whsec_"
            case .wrongSize(let count): "decodes to \(count) bytes"
            }
        }
    }

    /// The key bytes of `whsec_<base64>` (standard alphabet, padded), or why they are unusable.
    public static func key(fromText text: String) -> Result<[UInt8], TextProblem> {
        guard !text.isEmpty else { return .failure(.empty) }
        guard text.hasPrefix(prefix) else { return .failure(.missingPrefix) }
        guard let data = Data(base64Encoded: String(text.dropFirst(prefix.count))) else { return .failure(.notBase64) }
        guard keySizes.contains(data.count) else { return .failure(.wrongSize(data.count)) }
        return .success(Array(data))
    }

    /// A new secret's text: `whsec_` + base64 of 32 bytes from the system's CSPRNG.
    public static func newText() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return prefix + Data(bytes).base64EncodedString()
    }
}
