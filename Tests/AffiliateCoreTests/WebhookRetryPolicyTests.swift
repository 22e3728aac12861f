import AffiliateCore
import Testing

/// webhooks.md §5.2-5.3: what each answer leads to, and the jittered schedule.
@Suite struct WebhookRetryPolicyTests {
    let policy = WebhookRetryPolicy(schedule: [.seconds(5), .seconds(300)])
    let now = Timestamp(microseconds: 1_700_000_000_000_000)

    func delay(_ next: WebhookAttemptResult.Next) -> Double? {
        guard case .retry(let at) = next else { return nil }
        return Double(at.microseconds - now.microseconds) / 1_000_000
    }

    @Test func answersMapToOutcomesAndNextSteps() {
        let url = "https://crm.example/hooks"
        func next(_ response: WebhookResponse, tried: Int = 0) -> (String, WebhookAttemptResult.Next) {
            policy.next(after: response, at: now, scheduledAttempts: tried, url: url)
        }
        #expect(next(.status(200, retryAfter: nil)) == ("success", .delivered))
        #expect(next(.status(204, retryAfter: nil)) == ("success", .delivered))
        #expect(next(.status(410, retryAfter: nil)) == ("gone", .paused(url: url)))
        #expect(next(.status(302, retryAfter: nil)).0 == "redirect")
        #expect(next(.status(404, retryAfter: nil)).0 == "client_error")
        #expect(next(.status(500, retryAfter: nil)).0 == "server_error")
        #expect(next(.status(429, retryAfter: nil)).0 == "rate_limited")
        #expect(next(.timeout).0 == "timeout")
        #expect(next(.networkError).0 == "network_error")
        // The schedule used up: failed.
        #expect(next(.status(500, retryAfter: nil), tried: 2).1 == .failed)
    }

    @Test func delaysAreJitteredWithinTenPercent() {
        for _ in 0..<200 {
            let first = delay(policy.next(after: .timeout, at: now, scheduledAttempts: 0, url: "u").next) ?? 0
            let second = delay(policy.next(after: .timeout, at: now, scheduledAttempts: 1, url: "u").next) ?? 0
            #expect((4.5...5.5).contains(first))
            #expect((270...330).contains(second))
        }
    }

    @Test func retryAfterIsHonouredUpToADay() {
        let longer = policy.next(after: .status(429, retryAfter: .seconds(60)), at: now, scheduledAttempts: 0, url: "u")
        #expect(delay(longer.next) == 60)
        let shorter = policy.next(after: .status(503, retryAfter: .seconds(1)), at: now, scheduledAttempts: 0, url: "u")
        #expect((4.5...5.5).contains(delay(shorter.next) ?? 0))
        let huge = policy.next(after: .status(429, retryAfter: .seconds(7 * 86_400)), at: now, scheduledAttempts: 0, url: "u")
        #expect(delay(huge.next) == 86_400)
    }
}

/// No wall-clock upper bounds here (a busy test machine can stall any task for seconds): a wait
/// that a ring failed to end would run to its hour-long timeout and trip the time limit.
@Suite(.timeLimit(.minutes(1))) struct WebhookCommitSignalTests {
    @Test func aRingBeforeTheWaitIsKeptAndRingsCoalesce() async {
        let signal = WebhookCommitSignal()
        signal.ring()
        signal.ring()
        await signal.wait(timeout: .seconds(3600))
        // Both rings were one: the next wait runs to its timeout.
        let second = ContinuousClock.now
        await signal.wait(timeout: .milliseconds(200))
        #expect(ContinuousClock.now - second >= .milliseconds(190))
    }

    @Test func aRingWakesAWaiter() async {
        let signal = WebhookCommitSignal()
        async let woken: Void = signal.wait(timeout: .seconds(3600))
        try? await Task.sleep(for: .milliseconds(50))
        signal.ring()
        await woken
    }
}
