import AffiliateCore
import Testing

@Suite struct TimestampTests {
    @Test func formatsBothPrecisions() throws {
        let t = try #require(Timestamp(iso8601: "2024-09-12T14:02:53.135Z"))
        #expect(t.iso8601Milliseconds == "2024-09-12T14:02:53.135Z")
        #expect(t.iso8601Seconds == "2024-09-12T14:02:53Z")
        #expect(t.startOfDay.adding(days: 29).iso8601Milliseconds == "2024-10-11T00:00:00.000Z")
    }

    @Test func parsesOffsetsIntoUTC() throws {
        #expect(Timestamp(iso8601: "2024-01-16T15:20:00+01:00")?.iso8601Seconds == "2024-01-16T14:20:00Z")
        #expect(Timestamp(iso8601: "2024-01-16")?.iso8601Seconds == "2024-01-16T00:00:00Z")
    }

    @Test(arguments: ["2024-02-30T00:00:00Z", "2024-13-01T00:00:00Z", "yesterday", "2024-01-16T10:00:00", "2024-01-16T25:00:00Z"])
    func refusesImpossibleOrIncompleteTimes(_ text: String) {
        #expect(Timestamp(iso8601: text) == nil)
    }

    @Test func sortableTextOrdersLikeTime() throws {
        let early = try #require(Timestamp(iso8601: "1969-12-31T23:59:59Z"))
        let late = try #require(Timestamp(iso8601: "2024-01-01T00:00:00Z"))
        #expect(early.sortableText < late.sortableText)
        #expect(early.sortableText.count == late.sortableText.count)
    }
}
