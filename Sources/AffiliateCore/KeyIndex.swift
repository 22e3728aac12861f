import Crypto

/// SHA-256 of presented keys -> owning tenant, built once per snapshot.
///
/// Lookups hash the presented key and index by the digest, so the comparison never touches a
/// plaintext key and takes the same time whatever prefix a guess shares with a real key.
public struct KeyIndex: Sendable {
    public struct Owner: Sendable, Hashable {
        public let tenantID: String
        public let keyID: String
        public let expiresAt: Timestamp?
    }

    private let owners: [String: Owner]

    init(tenants: [TenantConfig]) {
        var owners: [String: Owner] = [:]
        owners.reserveCapacity(tenants.reduce(0) { $0 + $1.apiKeys.count })
        for tenant in tenants {
            for key in tenant.apiKeys where owners[key.sha256] == nil {
                owners[key.sha256] = Owner(tenantID: tenant.id, keyID: key.id, expiresAt: key.expiresAt)
            }
        }
        self.owners = owners
    }

    public var count: Int { owners.count }

    /// The owner of a presented key, or `nil` when unknown or expired at `now`.
    public func owner(ofKey presented: String, at now: Timestamp) -> Owner? {
        guard let owner = owners[KeyDigest.sha256Hex(presented)] else { return nil }
        if let expiry = owner.expiresAt, expiry <= now { return nil }
        return owner
    }
}

public enum KeyDigest {
    public static func sha256Hex(_ text: String) -> String {
        sha256Hex(bytes: Array(text.utf8))
    }

    public static func sha256Hex(bytes: some Sequence<UInt8>) -> String {
        let digest = SHA256.hash(data: Array(bytes))
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in digest {
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
