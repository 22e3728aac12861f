import AffiliateCore

/// The promoter validation answer: one 422 hash of every failing attribute, in the vendor's
/// attribute names (`company_user.user.email`, nested `promotions[].ref_id`).
struct PromoterFieldErrors: Sendable {
    var email: String?
    var custID: String?
    var refID: String?
    var createdAt: String?

    init(email: String? = nil, custID: String? = nil, refID: String? = nil, createdAt: String? = nil) {
        self.email = email
        self.custID = custID
        self.refID = refID
        self.createdAt = createdAt
    }

    var isEmpty: Bool { email == nil && custID == nil && refID == nil && createdAt == nil }

    var failure: FirstPromoterFailure {
        var body = JSONObject()
        if let email { body["company_user.user.email"] = .array([.string(email)]) }
        if let custID { body["cust_id"] = .array([.string(custID)]) }
        if let refID { body["promotions"] = .array([.object(["ref_id": .array([.string(refID)])])]) }
        if let createdAt { body["created_at"] = .array([.string(createdAt)]) }
        return FirstPromoterFailure(.unprocessableContent, body: .object(body))
    }

    static let blank = "can't be blank"
    static let invalid = "is invalid"
    static let taken = "has already been taken"
}

/// The formats promoter fields must have.
enum PromoterFormat {
    /// One `@`, a non-empty local part, a dotted domain without empty labels, no whitespace.
    static func isValidEmail(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !text.unicodeScalars.contains(where: \.properties.isWhitespace)
        else { return false }
        let labels = parts[1].split(separator: ".", omittingEmptySubsequences: false)
        return labels.count >= 2 && labels.allSatisfy { !$0.isEmpty }
    }

    /// `[a-z0-9_-]`, non-empty.
    static func isValidRefID(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy(isRefByte)
    }

    static func isRefByte(_ byte: UInt8) -> Bool {
        (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte == UInt8(ascii: "_")
            || byte == UInt8(ascii: "-")
    }

    /// The default ref id's stem: the first name lower-cased, every other character dropped.
    static func refStem(firstName: String?) -> String {
        String(decoding: (firstName ?? "").lowercased().utf8.filter(isRefByte), as: UTF8.self)
    }

    /// `pref`: 7 characters `[a-z0-9]`.
    static func isValidPref(_ text: String) -> Bool {
        text.utf8.count == 7 && text.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) }
    }

    /// `auth_token`: 32 characters `[A-Za-z0-9_-]`.
    static func isValidAuthToken(_ text: String) -> Bool {
        text.utf8.count == 32 && text.utf8.allSatisfy { byte in
            isRefByte(byte) || (byte >= 0x41 && byte <= 0x5A)
        }
    }
}

/// Random identifiers for new promoters.
enum RandomText {
    static let lowerAlphanumerics = Array("abcdefghijklmnopqrstuvwxyz0123456789".utf8)
    static let tokenAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-".utf8)

    static func make(_ count: Int, from alphabet: [UInt8]) -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count)
        for _ in 0..<count { bytes.append(alphabet.randomElement(using: &generator)!) }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func pref() -> String { make(7, from: lowerAlphanumerics) }
    static func authToken() -> String { make(32, from: tokenAlphabet) }
}
