@testable import AffiliateStorePostgres
import Testing

/// A call past its deadline answers with the deadline, never with the cancellation the
/// deadline caused in the work it gave up on.
@Suite struct DeadlineTests {
    @Test func aCallPastItsDeadlineAlwaysAnswersWithTheDeadline() async throws {
        for _ in 0..<200 {
            await #expect(throws: DeadlineExceeded.self) {
                try await withDeadline(.milliseconds(1), serverName: "db.example:5432") {
                    try await Task.sleep(for: .seconds(30))
                }
            }
        }
    }

    @Test func aCallThatEndsInTimeAnswersItself() async throws {
        let answer = try await withDeadline(.seconds(30), serverName: "db.example:5432") { 42 }
        #expect(answer == 42)
    }
}
