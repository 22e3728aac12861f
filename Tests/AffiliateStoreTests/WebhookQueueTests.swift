import AffiliateCore
import AffiliateStorePostgres
import Foundation
import PostgresTestSupport
import Synchronization
import Testing

/// The webhook outbox and delivery queue (webhooks.md §5-6), the same on every store: what a
/// commit writes, how deliveries are leased, finished, paused, cancelled, retried and purged.
@Suite("Webhook queue", .timeLimit(.minutes(5)))
struct WebhookQueueTests {
    // MARK: Outbox

    /// One event, one pending delivery per endpoint (due at commit), listed newest first; the
    /// body carries the event's number and id; the commit rings the worker's signal.
    @Test(arguments: StoreKind.all)
    func commitWritesOneEventAndADeliveryPerEndpoint(kind: StoreKind) async throws {
        try await withQueue(kind) { store, queue in
            let observed = RecordingObserver()
            queue.webhookCommits.observe(observed)
            var batch = StoreSample.inserting([StoreSample.record("1")])
            batch.webhookEvents = [WebhookSample.draft("1", endpoints: ["crm", "erp", "ops"])]
            let before = Timestamp.now()
            try await store.commit(batch)
            let after = Timestamp.now()

            let listed = try await queue.deliveries(matching: WebhookDeliveryFilter(tenant: "acme"))
            #expect(listed.map(\.endpoint.endpoint) == ["ops", "erp", "crm"])
            #expect(listed.map(\.id) == listed.map(\.id).sorted(by: >))
            #expect(Set(listed.map(\.eventID)).count == 1)
            let first = try #require(listed.last)
            #expect(first.eventID.hasPrefix("evt_") && first.eventID.utf8.count == 20)
            #expect(first.createdAt >= before && first.createdAt <= after)
            for delivery in listed {
                #expect(delivery.endpoint.tenant == "acme")
                #expect(delivery.eventType == "payout_created")
                #expect(delivery.resource == "payouts" && delivery.recordID == "1")
                #expect(delivery.state == .pending && delivery.attempts == 0)
                #expect(delivery.nextAttemptAt == first.createdAt && delivery.createdAt == first.createdAt)
                #expect(delivery.lastAttemptAt == nil && delivery.deliveredAt == nil)
                #expect(delivery.responseCode == nil && delivery.lastError == nil)
            }

            let detail = try #require(await queue.delivery(id: first.id))
            #expect(detail.summary == first)
            #expect(detail.previousStatus == nil && detail.responseBody == nil && detail.attempts.isEmpty)
            let body = try JSONValue(parsing: detail.body)
            #expect(body["id"] == .string(first.eventID))
            #expect(body["at"]?.integerValue == first.createdAt.microseconds)
            #expect(body["type"] == .string("payout_created"))
            #expect(body["data"] == .object(["id": .string("1"), "read": .array([])]))
            let seq = try #require(body["seq"]?.integerValue)
            #expect(seq > 0)
            for delivery in listed { #expect(try await queue.delivery(id: delivery.id)?.body == detail.body) }

            #expect(observed.events == ["acme/payout_created"])
            let statistics = try await queue.queueStatistics()
            #expect(
                Set(statistics)
                    == Set(["crm", "erp", "ops"].map {
                        WebhookQueueStatistic(
                            endpoint: WebhookEndpointKey(tenant: "acme", endpoint: $0), state: .pending, count: 1,
                            oldest: first.createdAt
                        )
                    })
            )
        }
    }

    /// A batch's events are numbered in the order it staged them, and a later commit's after.
    @Test(arguments: StoreKind.all)
    func eventsAreNumberedInStagedAndCommitOrder(kind: StoreKind) async throws {
        try await withQueue(kind) { store, queue in
            try await store.commit(
                WebhookSample.batch(
                    WebhookSample.draft("1", type: "payout.updated"), WebhookSample.draft("1", type: "payout.completed")
                )
            )
            try await store.commit(WebhookSample.batch(WebhookSample.draft("1", type: "payout.updated")))
            let listed = try await queue.deliveries(matching: WebhookDeliveryFilter()).reversed()
            #expect(listed.map(\.eventType) == ["payout.updated", "payout.completed", "payout.updated"])
            var numbers: [Int64] = []
            for delivery in listed {
                let detail = try #require(await queue.delivery(id: delivery.id))
                numbers.append(try #require(try JSONValue(parsing: detail.body)["seq"]?.integerValue))
            }
            #expect(numbers == numbers.sorted() && Set(numbers).count == 3)
            #expect(Set(listed.map(\.eventID)).count == 3)
        }
    }

    @Test(arguments: StoreKind.all)
    func batchesWithoutDraftsQueueNothing(kind: StoreKind) async throws {
        try await withQueue(kind) { store, queue in
            let observed = RecordingObserver()
            queue.webhookCommits.observe(observed)
            try await StoreSample.insert([StoreSample.record("1"), StoreSample.record("2")], into: store)
            _ = try await store.change(WebhookSample.statusChange("1", to: "completed", drafts: []))
            #expect(try await store.record(tenant: "acme", resource: "payouts", id: "1")?.status == "completed")
            #expect(try await queue.deliveries(matching: WebhookDeliveryFilter()).isEmpty)
            #expect(try await queue.queueStatistics().isEmpty)
            #expect(observed.events.isEmpty)
        }
    }

    /// An event that cannot be rendered fails its commit: neither the change nor any event of
    /// the batch is written, whichever way the change is committed.
    @Test(arguments: StoreKind.all)
    func aDraftThatFailsToRenderFailsTheWholeCommit(kind: StoreKind) async throws {
        try await withQueue(kind) { store, queue in
            var batch = StoreSample.inserting([StoreSample.record("1")])
            batch.webhookEvents = [WebhookSample.draft("1"), WebhookSample.draft("1", type: "broken", fails: true)]
            await #expect(throws: StoreFailure.self) { try await store.commit(batch) }
            #expect(try await store.record(tenant: "acme", resource: "payouts", id: "1") == nil)

            try await StoreSample.insert([StoreSample.record("2")], into: store)
            for holdsRecord in [false, true] {
                var change = WebhookSample.statusChange(
                    "2", to: "completed", drafts: [WebhookSample.draft("2"), WebhookSample.draft("2", fails: true)]
                )
                change.holdsRecord = holdsRecord
                await #expect(throws: StoreFailure.self) { _ = try await store.change(change) }
                let stored = try await store.record(tenant: "acme", resource: "payouts", id: "2")
                #expect(stored?.status == "pending" && stored?.version == 1)
            }
            #expect(try await queue.deliveries(matching: WebhookDeliveryFilter()).isEmpty)
        }
    }

    /// A draft renders from the rows as the commit left them: the change's own read-back when
    /// it names the same rows, its own read otherwise; on either path of ``Store/change(_:)``.
    @Test(arguments: StoreKind.all)
    func draftsRenderFromWhatTheCommitWrote(kind: StoreKind) async throws {
        try await withQueue(kind) { store, queue in
            try await StoreSample.insert([StoreSample.record("1"), StoreSample.record("2", status: "processing")], into: store)
            for (index, holdsRecord) in [false, true].enumerated() {
                let status = "completed-\(index)"
                var change = WebhookSample.statusChange(
                    "1", to: status,
                    drafts: [
                        WebhookSample.draft("1", type: "same", previous: "before", readBack: ReadBack(records: [("payouts", "1")])),
                        WebhookSample.draft("1", type: "other", readBack: ReadBack(records: [("payouts", "2"), ("payouts", "9")])),
                    ]
                )
                change.holdsRecord = holdsRecord
                let outcome = try await store.change(change)
                #expect(outcome.related.records.map { $0?.status } == [status])
                let listed = try await queue.deliveries(matching: WebhookDeliveryFilter(limit: 2))
                #expect(listed.map(\.eventType) == ["other", "same"])
                let same = try #require(await queue.delivery(id: listed[1].id))
                let other = try #require(await queue.delivery(id: listed[0].id))
                #expect(same.previousStatus == "before")
                #expect(try JSONValue(parsing: same.body)["data"] == .object(["id": .string("1"), "read": .array([.string(status)])]))
                #expect(
                    try JSONValue(parsing: other.body)["data"]
                        == .object(["id": .string("1"), "read": .array([.string("processing"), .null])])
                )
            }
        }
    }

    // MARK: Leases and results

    @Test(arguments: StoreKind.all)
    func aLeasedDeliveryFinishedAsDeliveredIsListedWithItsAttempt(kind: StoreKind) async throws {
        try await withQueue(kind) { store, queue in
            try await store.commit(WebhookSample.batch(WebhookSample.draft("1", endpoints: ["crm", "erp"])))
            let queued = try #require(await queue.deliveries(matching: WebhookDeliveryFilter(endpoint: "crm")).first)
            let stored = try #require(await queue.delivery(id: queued.id))

            let leased = try await queue.leaseDeliveries(owner: "a", capacity: WebhookSample.capacity(crm: 4), limit: 10, lease: .seconds(60))
            #expect(leased.count == 1)
            let delivery = try #require(leased.first)
            #expect(delivery.id == queued.id && delivery.endpoint == WebhookSample.crm)
            #expect(delivery.eventID == queued.eventID && delivery.eventType == "payout_created")
            #expect(delivery.body == stored.body && delivery.committedAt == queued.createdAt)
            #expect(delivery.attempts == 0 && delivery.scheduledAttempts == 0 && !delivery.reclaimed)
            #expect(!delivery.token.isEmpty)
            // Leased: no one else gets it.
            #expect(try await queue.leaseDeliveries(owner: "b", capacity: WebhookSample.capacity(crm: 4), limit: 10, lease: .seconds(60)).isEmpty)

            let attempt = WebhookAttempt(at: .now(), durationMicroseconds: 1_500, responseCode: 200, error: nil, responseBody: "ok")
            #expect(try await queue.finish(delivery, result: WebhookAttemptResult(attempt: attempt, next: .delivered)))
            // The lease ended with the result: a second result is not stored.
            #expect(try await !queue.finish(delivery, result: WebhookAttemptResult(attempt: attempt, next: .delivered)))

            let delivered = try await queue.deliveries(matching: WebhookDeliveryFilter(state: .delivered))
            #expect(delivered.count == 1)
            let summary = try #require(delivered.first)
            #expect(summary.id == delivery.id && summary.attempts == 1 && summary.responseCode == 200)
            #expect(summary.lastAttemptAt == attempt.at && summary.nextAttemptAt == nil && summary.lastError == nil)
            #expect(summary.deliveredAt == Timestamp(microseconds: attempt.at.microseconds + 1_500))
            let detail = try #require(await queue.delivery(id: delivery.id))
            #expect(detail.attempts == [attempt])
            #expect(detail.responseBody == "ok" && detail.summary == summary)
            #expect(try await queue.deliveries(matching: WebhookDeliveryFilter(state: .pending)).map(\.endpoint.endpoint) == ["erp"])
            #expect(try await queue.delivery(id: delivery.id + 1_000) == nil)
        }
    }

    @Test(arguments: StoreKind.all)
    func aStaleTokensResultIsNotStored(kind: StoreKind) async throws {
        try await withQueue(kind) { store, queue in
            try await store.commit(WebhookSample.batch(WebhookSample.draft("1")))
            let delivery = try #require(
                await queue.leaseDeliveries(owner: "a", capacity: WebhookSample.capacity(crm: 1), limit: 1, lease: .seconds(60)).first
            )
            var stale = delivery
            stale.token = "not-the-lease"
            #expect(try await !queue.finish(stale, result: WebhookSample.result(.delivered)))
            let summary = try #require(await queue.deliveries(matching: WebhookDeliveryFilter()).first)
            #expect(summary.state == .pending && summary.attempts == 0)
            #expect(try await queue.delivery(id: delivery.id)?.attempts.isEmpty == true)
            #expect(try await queue.finish(delivery, result: WebhookSample.result(.delivered)))
        }
    }

    /// A failed attempt waits for its next try; once due it is leased again, one attempt on.
    @Test(arguments: StoreKind.all)
    func aRetryWaitsUntilItsTime(kind: StoreKind) async throws {
        try await withQueue(kind) { store, queue in
            try await store.commit(WebhookSample.batch(WebhookSample.draft("1")))
            let capacity = WebhookSample.capacity(crm: 4)
            let first = try #require(await queue.leaseDeliveries(owner: "a", capacity: capacity, limit: 4, lease: .seconds(60)).first)
            let later = Timestamp(microseconds: Timestamp.now().microseconds + 3_600_000_000)
            let failed = WebhookAttempt(at: .now(), durationMicroseconds: 900, responseCode: 503, error: nil, responseBody: "busy")
            #expect(try await queue.finish(first, result: WebhookAttemptResult(attempt: failed, next: .retry(at: later))))
            let waiting = try #require(await queue.deliveries(matching: WebhookDeliveryFilter()).first)
            #expect(waiting.state == .retrying && waiting.nextAttemptAt == later && waiting.attempts == 1)
            #expect(waiting.responseCode == 503 && waiting.lastAttemptAt == failed.at && waiting.deliveredAt == nil)
            #expect(try await queue.leaseDeliveries(owner: "a", capacity: capacity, limit: 4, lease: .seconds(60)).isEmpty)
            #expect(try await queue.queueStatistics().map(\.state) == [.retrying])

            // Due now: leased again, the schedule one step on.
            let timedOut = WebhookAttempt(at: .now(), durationMicroseconds: 10, responseCode: nil, error: "timeout", responseBody: nil)
            let retry = try #require(await queue.retry(ids: [first.id], existing: [WebhookSample.crm]).first)
            #expect(retry == first.id)
            let second = try #require(await queue.leaseDeliveries(owner: "a", capacity: capacity, limit: 4, lease: .seconds(60)).first)
            #expect(second.attempts == 1 && second.scheduledAttempts == 0)
            let past = Timestamp(microseconds: Timestamp.now().microseconds - 1_000)
            #expect(try await queue.finish(second, result: WebhookAttemptResult(attempt: timedOut, next: .retry(at: past))))
            let third = try #require(await queue.leaseDeliveries(owner: "a", capacity: capacity, limit: 4, lease: .seconds(60)).first)
            #expect(third.id == first.id && third.attempts == 2 && third.scheduledAttempts == 1)
            #expect(try await queue.finish(third, result: WebhookAttemptResult(attempt: timedOut, next: .failed)))
            let done = try #require(await queue.deliveries(matching: WebhookDeliveryFilter()).first)
            #expect(done.state == .failed && done.attempts == 3 && done.nextAttemptAt == nil && done.lastError == "timeout")
            #expect(done.responseCode == nil)
            #expect(try await queue.delivery(id: first.id)?.attempts.map(\.responseCode) == [503, nil, nil])
            #expect(try await queue.queueStatistics().isEmpty)
        }
    }

    /// Per (endpoint, record), commit order: a record's later event waits while an earlier one
    /// is pending or retrying; other records and other endpoints do not wait.
    @Test(arguments: StoreKind.all)
    func aRecordsLaterEventWaitsForTheEarlierOne(kind: StoreKind) async throws {
        try await withQueue(kind) { store, queue in
            try await store.commit(WebhookSample.batch(WebhookSample.draft("1", type: "first", endpoints: ["crm", "erp"])))
            try await store.commit(WebhookSample.batch(WebhookSample.draft("1", type: "second", endpoints: ["crm"])))
            try await store.commit(WebhookSample.batch(WebhookSample.draft("2", type: "other", endpoints: ["crm"])))
            let capacity = WebhookSample.capacity(crm: 10, erp: 10)
            let leased = try await queue.leaseDeliveries(owner: "a", capacity: capacity, limit: 10, lease: .seconds(60))
            #expect(leased.map(\.eventType).sorted() == ["first", "first", "other"])
            #expect(try await queue.leaseDeliveries(owner: "a", capacity: capacity, limit: 10, lease: .seconds(60)).isEmpty)

            let crmFirst = try #require(leased.first { $0.eventType == "first" && $0.endpoint == WebhookSample.crm })
            let past = Timestamp(microseconds: Timestamp.now().microseconds - 1_000)
            #expect(try await queue.finish(crmFirst, result: WebhookSample.result(.retry(at: past), code: 500)))
            // Retrying and due: the first goes again, the second still waits.
            let again = try await queue.leaseDeliveries(owner: "a", capacity: capacity, limit: 10, lease: .seconds(60))
            #expect(again.map(\.id) == [crmFirst.id])
            #expect(try await queue.finish(again[0], result: WebhookSample.result(.delivered)))
            let second = try await queue.leaseDeliveries(owner: "a", capacity: capacity, limit: 10, lease: .seconds(60))
            #expect(second.map(\.eventType) == ["second"])
            #expect(second.first?.endpoint == WebhookSample.crm)
        }
    }

    @Test(arguments: StoreKind.all)
    func leasesRespectEachEndpointsSlotsAndTheLimit(kind: StoreKind) async throws {
        try await withQueue(kind) { store, queue in
            try await store.commit(
                WebhookSample.batch(
                    (1...5).map { WebhookSample.draft("\($0)", endpoints: ["crm", "erp", "ops"]) }
                )
            )
            let first = try await queue.leaseDeliveries(
                owner: "a", capacity: WebhookSample.capacity(crm: 2, erp: 1), limit: 10, lease: .seconds(60)
            )
            #expect(first.filter { $0.endpoint == WebhookSample.crm }.count == 2)
            #expect(first.filter { $0.endpoint == WebhookSample.erp }.count == 1)
            #expect(first.count == 3)
            // Oldest first: records 1 and 2 for crm, record 1 for erp.
            let ids = try await queue.deliveries(matching: WebhookDeliveryFilter(limit: 500)).reversed().map(\.id)
            #expect(Set(first.map(\.id)) == Set([ids[0], ids[3], ids[1]]))
            let limited = try await queue.leaseDeliveries(
                owner: "a", capacity: WebhookSample.capacity(crm: 5, erp: 5), limit: 2, lease: .seconds(60)
            )
            #expect(limited.count == 2)
            #expect(try await queue.leaseDeliveries(owner: "a", capacity: WebhookSample.capacity(crm: 0), limit: 9, lease: .seconds(60)).isEmpty)
            #expect(try await queue.leaseDeliveries(owner: "a", capacity: [:], limit: 9, lease: .seconds(60)).isEmpty)
            #expect(try await queue.leaseDeliveries(owner: "a", capacity: WebhookSample.capacity(crm: 9), limit: 0, lease: .seconds(60)).isEmpty)
            // ops was never in the capacity: its five wait.
            let rest = try await queue.leaseDeliveries(
                owner: "a", capacity: WebhookSample.capacity(crm: 9, erp: 9), limit: 20, lease: .seconds(60)
            )
            #expect(rest.count == 10 - 3 - 2)
            #expect(!rest.contains { $0.endpoint.endpoint == "ops" })
            #expect(try await queue.deliveries(matching: WebhookDeliveryFilter(endpoint: "ops")).count == 5)
        }
    }

    /// A 410 pauses the endpoint at the URL that answered it: its deliveries wait while the
    /// endpoint keeps that URL, go to a new URL, and go again once resumed.
    @Test(arguments: StoreKind.all)
    func aPauseHoldsOnlyAtItsURLUntilResumed(kind: StoreKind) async throws {
        try await withQueue(kind) { store, queue in
            try await store.commit(WebhookSample.batch(WebhookSample.draft("1"), WebhookSample.draft("2")))
            let old = "https://crm.example/hooks"
            let new = "https://crm.example/v2/hooks"
            let capacity = [WebhookSample.crm: WebhookEndpointCapacity(url: old, slots: 5)]
            let delivery = try #require(await queue.leaseDeliveries(owner: "a", capacity: capacity, limit: 1, lease: .seconds(60)).first)
            let gone = WebhookAttempt(at: .now(), durationMicroseconds: 5, responseCode: 410, error: nil, responseBody: "gone")
            #expect(try await queue.finish(delivery, result: WebhookAttemptResult(attempt: gone, next: .paused(url: old))))
            #expect(try await queue.pausedEndpoints() == [WebhookSample.crm: old])
            let waiting = try #require(await queue.delivery(id: delivery.id))
            #expect(waiting.summary.state == .retrying && waiting.summary.nextAttemptAt == gone.at && waiting.summary.attempts == 1)

            #expect(try await queue.leaseDeliveries(owner: "a", capacity: capacity, limit: 5, lease: .seconds(60)).isEmpty)
            let moved = [WebhookSample.crm: WebhookEndpointCapacity(url: new, slots: 5)]
            #expect(try await queue.leaseDeliveries(owner: "b", capacity: moved, limit: 5, lease: .seconds(60)).count == 2)
            try await queue.releaseLeases(owner: "b")

            #expect(try await queue.resume(WebhookSample.crm))
            #expect(try await !queue.resume(WebhookSample.crm))
            #expect(try await queue.pausedEndpoints().isEmpty)
            let resumed = try await queue.leaseDeliveries(owner: "a", capacity: capacity, limit: 5, lease: .seconds(60))
            #expect(resumed.count == 2 && !resumed.contains(where: \.reclaimed))
        }
    }

    // MARK: Operator

    /// Removed endpoints' queued deliveries are cancelled, others stay; a result arriving for a
    /// cancelled delivery is kept without reviving it.
    @Test(arguments: StoreKind.all)
    func cancellingKeepsTheListedEndpointsOnly(kind: StoreKind) async throws {
        try await withQueue(kind) { store, queue in
            try await store.commit(
                WebhookSample.batch(WebhookSample.draft("1", endpoints: ["crm", "erp"]), WebhookSample.draft("2", endpoints: ["crm", "erp"]))
            )
            let inFlight = try #require(
                await queue.leaseDeliveries(owner: "a", capacity: WebhookSample.capacity(erp: 1), limit: 1, lease: .seconds(60)).first
            )
            #expect(try await queue.cancelDeliveries(keeping: [WebhookSample.crm]) == 2)
            #expect(try await queue.cancelDeliveries(keeping: [WebhookSample.crm]) == 0)
            let erp = try await queue.deliveries(matching: WebhookDeliveryFilter(endpoint: "erp"))
            #expect(erp.map(\.state) == [.cancelled, .cancelled] && erp.allSatisfy { $0.nextAttemptAt == nil })
            let crm = try await queue.deliveries(matching: WebhookDeliveryFilter(endpoint: "crm"))
            #expect(crm.map(\.state) == [.pending, .pending])

            let attempt = WebhookAttempt(at: .now(), durationMicroseconds: 7, responseCode: 200, error: nil, responseBody: nil)
            #expect(try await queue.finish(inFlight, result: WebhookAttemptResult(attempt: attempt, next: .delivered)))
            let kept = try #require(await queue.delivery(id: inFlight.id))
            #expect(kept.summary.state == .cancelled && kept.summary.attempts == 1 && kept.summary.deliveredAt == nil)
            #expect(kept.summary.responseCode == 200 && kept.attempts == [attempt])
            #expect(try await queue.leaseDeliveries(owner: "a", capacity: WebhookSample.capacity(erp: 5), limit: 5, lease: .seconds(60)).isEmpty)
            #expect(try await queue.cancelDeliveries(keeping: []) == 2)
        }
    }

    /// Retried deliveries are due now on a fresh schedule, attempts still counted; only those
    /// of existing endpoints, returned in the order asked.
    @Test(arguments: StoreKind.all)
    func retryRestartsOnlyDeliveriesOfExistingEndpoints(kind: StoreKind) async throws {
        try await withQueue(kind) { store, queue in
            try await store.commit(WebhookSample.batch(WebhookSample.draft("1", endpoints: ["crm", "erp"]), WebhookSample.draft("2")))
            let leased = try await queue.leaseDeliveries(
                owner: "a", capacity: WebhookSample.capacity(crm: 2, erp: 1), limit: 3, lease: .seconds(60)
            )
            #expect(leased.count == 3)
            for delivery in leased { #expect(try await queue.finish(delivery, result: WebhookSample.result(.failed, code: 500))) }
            let ids = try await queue.deliveries(matching: WebhookDeliveryFilter()).reversed().map(\.id)
            let (crm1, erp1, crm2) = (ids[0], ids[1], ids[2])

            let retried = try await queue.retry(ids: [crm2, erp1, 999_999, crm1], existing: [WebhookSample.crm])
            #expect(retried == [crm2, crm1])
            let listed = try await queue.deliveries(matching: WebhookDeliveryFilter())
            #expect(listed.map(\.state) == [.pending, .failed, .pending])
            #expect(listed.allSatisfy { $0.attempts == 1 })
            #expect(listed.filter { $0.state == .pending }.allSatisfy { $0.nextAttemptAt != nil })
            let again = try await queue.leaseDeliveries(owner: "a", capacity: WebhookSample.capacity(crm: 5, erp: 5), limit: 5, lease: .seconds(60))
            #expect(Set(again.map(\.id)) == [crm1, crm2])
            #expect(again.allSatisfy { $0.attempts == 1 && $0.scheduledAttempts == 0 })
            #expect(try await queue.retry(ids: [erp1], existing: []).isEmpty)
            #expect(try await queue.retry(ids: [], existing: [WebhookSample.erp]).isEmpty)
        }
    }

    /// Replay retries the deliveries of events committed in the window: failed and cancelled
    /// ones, or all with `all`; narrowed by tenant and endpoint; never those of missing endpoints.
    @Test(arguments: StoreKind.all)
    func replayRetriesTheWindowsDeliveries(kind: StoreKind) async throws {
        try await withQueue(kind) { store, queue in
            let before = Timestamp(microseconds: Timestamp.now().microseconds - 1)
            try await store.commit(
                WebhookSample.batch(WebhookSample.draft("1", endpoints: ["crm", "erp"]), WebhookSample.draft("2", endpoints: ["crm", "erp"]))
            )
            let after = Timestamp(microseconds: Timestamp.now().microseconds + 1)
            let leased = try await queue.leaseDeliveries(owner: "a", capacity: WebhookSample.capacity(crm: 2), limit: 2, lease: .seconds(60))
            #expect(leased.count == 2)
            #expect(try await queue.finish(leased[0], result: WebhookSample.result(.delivered)))
            #expect(try await queue.finish(leased[1], result: WebhookSample.result(.failed, code: 500)))
            #expect(try await queue.cancelDeliveries(keeping: [WebhookSample.crm]) == 2)
            let both: Set = [WebhookSample.crm, WebhookSample.erp]

            #expect(try await queue.replay(WebhookReplayWindow(since: after), existing: both) == 0)
            #expect(try await queue.replay(WebhookReplayWindow(since: before, until: before), existing: both) == 0)
            #expect(try await queue.replay(WebhookReplayWindow(since: before, tenant: "other", all: true), existing: both) == 0)
            #expect(try await queue.replay(WebhookReplayWindow(since: before, all: true), existing: []) == 0)
            #expect(try await queue.replay(WebhookReplayWindow(since: before), existing: [WebhookSample.crm]) == 1)
            #expect(try await queue.replay(WebhookReplayWindow(since: before, until: after, tenant: "acme"), existing: both) == 2)
            #expect(try await queue.replay(WebhookReplayWindow(since: before), existing: both) == 0)
            let states = try await queue.deliveries(matching: WebhookDeliveryFilter()).map(\.state)
            #expect(states.sorted { $0.rawValue < $1.rawValue } == [.delivered, .pending, .pending, .pending])

            #expect(try await queue.replay(WebhookReplayWindow(since: before, endpoint: "crm", all: true), existing: both) == 2)
            let crm = try await queue.deliveries(matching: WebhookDeliveryFilter(endpoint: "crm"))
            #expect(crm.allSatisfy { $0.state == .pending && $0.deliveredAt == nil && $0.attempts == 1 })
        }
    }

    @Test(arguments: StoreKind.all)
    func purgeDeletesOnlyFinishedDeliveries(kind: StoreKind) async throws {
        try await withQueue(kind) { store, queue in
            try await store.commit(WebhookSample.batch(WebhookSample.draft("1", endpoints: ["crm", "erp"]), WebhookSample.draft("2")))
            let leased = try await queue.leaseDeliveries(owner: "a", capacity: WebhookSample.capacity(crm: 1), limit: 1, lease: .seconds(60))
            #expect(try await queue.finish(try #require(leased.first), result: WebhookSample.result(.delivered)))
            #expect(try await queue.cancelDeliveries(keeping: [WebhookSample.crm]) == 1)
            let past = Timestamp(microseconds: Timestamp.now().microseconds - 60_000_000)
            #expect(try await queue.purgeFinishedDeliveries(before: past) == 0)
            let soon = Timestamp(microseconds: Timestamp.now().microseconds + 1_000_000)
            #expect(try await queue.purgeFinishedDeliveries(before: soon) == 2)
            #expect(try await queue.purgeFinishedDeliveries(before: soon) == 0)
            let left = try await queue.deliveries(matching: WebhookDeliveryFilter())
            #expect(left.map(\.recordID) == ["2"] && left.map(\.state) == [.pending])
            #expect(try await queue.delivery(id: leased[0].id) == nil)
            #expect(try await queue.delivery(id: left[0].id) != nil)
        }
    }

    /// An expired lease is taken over (and said to be); the old holder's result is refused.
    @Test(arguments: StoreKind.all)
    func anExpiredLeaseIsReclaimed(kind: StoreKind) async throws {
        try await withQueue(kind) { store, queue in
            try await store.commit(WebhookSample.batch(WebhookSample.draft("1")))
            let capacity = WebhookSample.capacity(crm: 1)
            let first = try #require(await queue.leaseDeliveries(owner: "a", capacity: capacity, limit: 1, lease: .milliseconds(100)).first)
            try await Task.sleep(for: .milliseconds(400))
            let taken = try #require(await queue.leaseDeliveries(owner: "b", capacity: capacity, limit: 1, lease: .seconds(60)).first)
            #expect(taken.id == first.id && taken.reclaimed && taken.token != first.token)
            #expect(try await !queue.finish(first, result: WebhookSample.result(.delivered)))
            #expect(try await queue.finish(taken, result: WebhookSample.result(.delivered)))
            #expect(try await queue.delivery(id: first.id)?.attempts.count == 1)
        }
    }

    /// An owner's leases are freed; freeing all (`nil`) is what SQLite does at start, while on
    /// PostgreSQL, where other live instances hold leases, it frees nothing.
    @Test(arguments: StoreKind.all)
    func releasingLeases(kind: StoreKind) async throws {
        try await withQueue(kind) { store, queue in
            try await store.commit(WebhookSample.batch(WebhookSample.draft("1")))
            let capacity = WebhookSample.capacity(crm: 1)
            #expect(try await queue.leaseDeliveries(owner: "a", capacity: capacity, limit: 1, lease: .seconds(60)).count == 1)
            try await queue.releaseLeases(owner: "b")
            #expect(try await queue.leaseDeliveries(owner: "c", capacity: capacity, limit: 1, lease: .seconds(60)).isEmpty)
            try await queue.releaseLeases(owner: "a")
            let again = try await queue.leaseDeliveries(owner: "c", capacity: capacity, limit: 1, lease: .seconds(60))
            #expect(again.count == 1 && again.first?.reclaimed == false)
            try await queue.releaseLeases(owner: nil)
            let afterAll = try await queue.leaseDeliveries(owner: "d", capacity: capacity, limit: 1, lease: .seconds(60))
            #expect(afterAll.count == (kind.name == "postgres" ? 0 : 1))
        }
    }

    // MARK: Several instances

    /// Two instances on one database, each with two workers leasing a few at a time: no
    /// delivery is leased by two at once, each is delivered exactly once, and a record's second
    /// event is leased only after its first was finished.
    @Test(.postgresInstalled)
    func twoInstancesNeverLeaseOneDeliveryTwice() async throws {
        try await withPlace(.postgres) { place in
            let stores = [try await place.open(), try await place.open()]
            let queues = stores.compactMap { $0 as? PostgresStore }
            try #require(queues.count == 2)
            let records = 100
            try await stores[0].commit(WebhookSample.batch((1...records).map { WebhookSample.draft("\($0)", type: "first") }))
            try await stores[1].commit(WebhookSample.batch((1...records).map { WebhookSample.draft("\($0)", type: "second") }))
            let listed = try await queues[0].deliveries(matching: WebhookDeliveryFilter(limit: 500))
            #expect(listed.count == 2 * records)

            let ledger = Locked(LeaseLedger())
            let deadline = ContinuousClock.now + .seconds(120)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<4 {
                    let queue = queues[worker % 2]
                    group.addTask {
                        while ContinuousClock.now < deadline, ledger.withLock({ $0.delivered }) < 2 * records {
                            let leased = try await queue.leaseDeliveries(
                                owner: "instance-\(worker % 2)", capacity: WebhookSample.capacity(crm: 4), limit: 3,
                                lease: .seconds(120)
                            )
                            ledger.withLock { $0.leased(leased.map(\.id), by: worker % 2) }
                            if leased.isEmpty {
                                try await Task.sleep(for: .milliseconds(2))
                                continue
                            }
                            for delivery in leased {
                                await Task.yield()
                                ledger.withLock { $0.finishing(delivery.id) }
                                let stored = try await queue.finish(delivery, result: WebhookSample.result(.delivered))
                                ledger.withLock { $0.finished(delivery.id, stored: stored) }
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }

            let final = ledger.withLock { $0 }
            #expect(final.doubleLeases.isEmpty)
            #expect(final.refused.isEmpty)
            #expect(final.delivered == 2 * records)
            #expect(final.finishes.count == 2 * records && final.finishes.values.allSatisfy { $0 == 1 })
            #expect(final.leasesBy[0, default: 0] > 0 && final.leasesBy[1, default: 0] > 0)
            let delivered = try await queues[1].deliveries(matching: WebhookDeliveryFilter(state: .delivered, limit: 500))
            #expect(delivered.count == 2 * records && delivered.allSatisfy { $0.attempts == 1 })
            for (_, pair) in Dictionary(grouping: listed, by: \.recordID) {
                let ordered = pair.sorted { $0.id < $1.id }
                #expect(ordered.map(\.eventType) == ["first", "second"])
                let finishing = final.finishingStep[ordered[0].id] ?? .max
                let leasedAt = final.leaseStep[ordered[1].id] ?? .min
                #expect(finishing < leasedAt, "record \(ordered[0].recordID)")
            }
            for store in stores { try await store.close() }
        }
    }
}

/// A value shared by the tasks of a test (a ``Mutex`` cannot be captured by them itself).
private final class Locked<Value: Sendable>: Sendable {
    private let value: Mutex<Value>
    init(_ value: Value) { self.value = Mutex(value) }
    func withLock<Result: Sendable>(_ body: (inout Value) -> Result) -> Result { value.withLock { body(&$0) } }
}

/// What the instances of ``WebhookQueueTests/twoInstancesNeverLeaseOneDeliveryTwice()`` did,
/// in one order: a step number per lease and per result.
private struct LeaseLedger: Sendable {
    var step = 0
    var inFlight: Set<Int64> = []
    var doubleLeases: [Int64] = []
    var refused: [Int64] = []
    var delivered = 0
    var finishes: [Int64: Int] = [:]
    var leaseStep: [Int64: Int] = [:]
    var finishingStep: [Int64: Int] = [:]
    var leasesBy: [Int: Int] = [:]

    mutating func leased(_ ids: [Int64], by instance: Int) {
        for id in ids {
            step += 1
            leaseStep[id] = step
            if !inFlight.insert(id).inserted { doubleLeases.append(id) }
        }
        leasesBy[instance, default: 0] += ids.count
    }

    /// Noted before the result is sent: it is still leased until it commits.
    mutating func finishing(_ id: Int64) {
        step += 1
        finishingStep[id] = step
        inFlight.remove(id)
    }

    mutating func finished(_ id: Int64, stored: Bool) {
        if stored {
            finishes[id, default: 0] += 1
            delivered += 1
        } else {
            refused.append(id)
        }
    }
}

/// Opens a fresh store of `kind` with its webhook queue.
private func withQueue(_ kind: StoreKind, _ body: (any Store, any WebhookQueue) async throws -> Void) async throws {
    try await withStore(kind) { store in
        let queue = try #require(store as? any WebhookQueue)
        try await body(store, queue)
    }
}

/// Drafts, batches and results the suite writes.
enum WebhookSample {
    static let crm = WebhookEndpointKey(tenant: "acme", endpoint: "crm")
    static let erp = WebhookEndpointKey(tenant: "acme", endpoint: "erp")

    struct RenderFailed: Error {}

    /// A payout's event. Its `data` names the record and the statuses its read-back found
    /// (`null` for a missing record); the envelope carries the stamp.
    static func draft(
        _ recordID: String, type: String = "payout_created", previous: String? = nil, endpoints: [String] = ["crm"],
        readBack: ReadBack = .none, fails: Bool = false
    ) -> WebhookEventDraft {
        WebhookEventDraft(
            tenant: "acme", type: type, resource: "payouts", recordID: recordID, previousStatus: previous, status: "pending",
            endpoints: endpoints, readBack: readBack,
            render: { related in
                if fails { throw RenderFailed() }
                let statuses = related.records.map { record in record.map { JSONValue.string($0.status ?? "") } ?? .null }
                return .object(["id": .string(recordID), "read": .array(statuses)])
            },
            envelope: { stamp, data in
                JSONValue.object([
                    "id": .string(stamp.publicID), "seq": .int(stamp.seq), "at": .int(stamp.at.microseconds),
                    "type": .string(type), "data": data,
                ]).serializedBytes
            }
        )
    }

    static func batch(_ drafts: WebhookEventDraft...) -> WriteBatch { batch(drafts) }

    static func batch(_ drafts: [WebhookEventDraft]) -> WriteBatch {
        var batch = WriteBatch()
        batch.webhookEvents = drafts
        return batch
    }

    /// Sets a stored payout's status and stages `drafts`, reading the payout back.
    static func statusChange(_ id: String, to status: String, drafts: [WebhookEventDraft]) -> RecordChange<Void> {
        RecordChange(tenant: "acme", resource: "payouts", id: id) { stored in
            guard var record = stored else { throw StoreFailure("payout \(id) is missing") }
            record.status = status
            var batch = WriteBatch()
            batch.records = [record]
            batch.webhookEvents = drafts
            return PlannedChange(batch: batch, readBack: ReadBack(records: [("payouts", id)]), value: ())
        }
    }

    static func capacity(crm: Int? = nil, erp: Int? = nil) -> [WebhookEndpointKey: WebhookEndpointCapacity] {
        var capacity: [WebhookEndpointKey: WebhookEndpointCapacity] = [:]
        if let crm { capacity[Self.crm] = WebhookEndpointCapacity(url: "https://crm.example/hooks", slots: crm) }
        if let erp { capacity[Self.erp] = WebhookEndpointCapacity(url: "https://erp.example/hooks", slots: erp) }
        return capacity
    }

    static func result(_ next: WebhookAttemptResult.Next, code: Int = 200) -> WebhookAttemptResult {
        WebhookAttemptResult(
            attempt: WebhookAttempt(at: .now(), durationMicroseconds: 1_000, responseCode: code, error: nil, responseBody: nil),
            next: next
        )
    }
}

/// Every committed event the doorbell reports, as `tenant/type`.
private final class RecordingObserver: WebhookCommitObserver {
    private let seen = Locked<[String]>([])
    var events: [String] { seen.withLock { $0 } }
    func committed(tenant: String, type: String) { seen.withLock { $0.append("\(tenant)/\(type)") } }
}
