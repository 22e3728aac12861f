import IndependentHMAC
import AffiliateCore
import Testing

@Suite struct WebhookSignatureTests {
    /// webhooks.md §4's test vector: bytes 0-31 and 32-63 as the two secrets.
    static let current = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
    static let previous = "whsec_ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="
    static let id = "evt_7Kq2mXa9Tb4Wc1Zd"
    static let timestamp: Int64 = 1_700_000_000
    static let body = Array(#"{"id":"evt_7Kq2mXa9Tb4Wc1Zd","type":"earning.status_changed","timestamp":"2023-11-14T22:13:20Z","previous_status":"processing","data":{"id":"earn_123abc","status":"paid"}}"#.utf8)
    static let currentSignature = "v1,xccE4OUj1G1bQ+NTVv+r1u3u/Tpto3N4ZnHPrdMu2eo="
    static let previousSignature = "v1,T3NeI46QvhjG1ibnLmlEAJtroADa0HVmVzeFNutYNkw="

    static func secret(_ text: String, _ name: String) throws -> WebhookSecret {
        WebhookSecret(reference: .environment(name), key: try WebhookSecret.key(fromText: text).get())
    }

    @Test func theSpecsVectorGivesBothSignaturesInOrder() throws {
        #expect(Self.body.count == 171)
        let secrets = [try Self.secret(Self.current, "CURRENT"), try Self.secret(Self.previous, "PREVIOUS")]
        #expect(secrets[0].key == Array(0...31) && secrets[1].key == Array(32...63))
        #expect(WebhookSignature.header(id: Self.id, timestamp: Self.timestamp, body: Self.body, secrets: secrets)
                == "\(Self.currentSignature) \(Self.previousSignature)")
        #expect(WebhookSignature.header(id: Self.id, timestamp: Self.timestamp, body: Self.body, secrets: secrets.reversed())
                == "\(Self.previousSignature) \(Self.currentSignature)")
        #expect(WebhookSignature.header(id: Self.id, timestamp: Self.timestamp, body: Self.body, secrets: [secrets[0]])
                == Self.currentSignature)
    }

    @Test func theTestLocalHMACAgreesWithTheSpecsVector() {
        #expect(IndependentHMAC.signature(id: Self.id, timestamp: Self.timestamp, body: Self.body, key: Array(0...31))
                == Self.currentSignature)
        #expect(IndependentHMAC.signature(id: Self.id, timestamp: Self.timestamp, body: Self.body, key: Array(32...63))
                == Self.previousSignature)
        // RFC 4231 test case 2, and test case 6 (a key longer than a block).
        let jefe = IndependentHMAC.hmacSHA256(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))
        #expect(Self.hex(jefe) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        let longKey = IndependentHMAC.hmacSHA256(
            key: [UInt8](repeating: 0xaa, count: 131),
            message: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8))
        #expect(Self.hex(longKey) == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef")
        return String(bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] })
    }

    /// Random keys of every allowed size, ids, timestamps and bodies (empty, binary, non-ASCII,
    /// longer than a block): the production signer and the test-local HMAC agree on each.
    @Test func theSignerAgreesWithAnIndependentHMACOnRandomInput() {
        var generator = SystemRandomNumberGenerator()
        for round in 0..<200 {
            let key = (0..<Int.random(in: 24...64, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let body = (0..<[0, 1, 55, 56, 64, 171, 1000][round % 7]).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let id = "evt_\(round)_é"
            let timestamp = Int64.random(in: 0...4_000_000_000, using: &generator)
            let secret = WebhookSecret(reference: .file("k"), key: key)
            #expect(WebhookSignature.header(id: id, timestamp: timestamp, body: body, secrets: [secret])
                    == IndependentHMAC.signature(id: id, timestamp: timestamp, body: body, key: key))
        }
    }
}
