/// Ids affhost makes for new records: the vendor prefix plus 16 random base62 characters.
///
/// Random rather than sequential because Vantio ids are opaque and several affhost instances
/// may create records in one database without coordinating.
enum VantioIDs {
    private static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

    static func make(prefix: String) -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes = Array(prefix.utf8)
        bytes.reserveCapacity(bytes.count + 16)
        for _ in 0..<16 {
            bytes.append(alphabet[Int.random(in: 0..<alphabet.count, using: &generator)])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
