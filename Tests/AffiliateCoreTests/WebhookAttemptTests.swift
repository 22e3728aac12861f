import AffiliateCore
import Testing

/// A stored attempt keeps at most 1,000 bytes of the answer (webhooks.md §5.2), whole characters only.
struct WebhookAttemptTests {
    @Test func aLongAnswerIsCutToTheLimitAtACharacterBoundary() {
        func stored(_ body: String) -> String? {
            WebhookAttempt(at: Timestamp(microseconds: 0), durationMicroseconds: 0, responseCode: 200, error: nil, responseBody: body)
                .responseBody
        }
        #expect(stored(String(repeating: "a", count: 1_000)) == String(repeating: "a", count: 1_000))
        #expect(stored(String(repeating: "a", count: 1_001)) == String(repeating: "a", count: 1_000))
        // "é" is two bytes: the 1,000th byte would be the first half of one.
        let odd = String(repeating: "a", count: 999) + String(repeating: "é", count: 10)
        #expect(stored(odd) == String(repeating: "a", count: 999))
        // "😀" is four bytes: 997 + 4 passes the limit by one.
        let emoji = String(repeating: "a", count: 997) + "😀😀"
        #expect(stored(emoji) == String(repeating: "a", count: 997))
        let exact = String(repeating: "a", count: 996) + "😀😀"
        #expect(stored(exact) == String(repeating: "a", count: 996) + "😀")
        #expect(stored(exact)?.utf8.count == 1_000)
        #expect(stored("") == "")
    }
}
