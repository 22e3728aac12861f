import AffiliateCore
import Foundation
import IndependentHMAC
import PostgresTestSupport
import Testing

/// Configurations and checks shared by the webhook delivery tests (webhooks.md §8).
enum Webhooks {
    /// The spec's test-vector secrets (bytes 0-31 and 32-63).
    static let current = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
    static let previous = "whsec_ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="
    static let files = ["crm.whsec": current + "\n", "crm.previous.whsec": previous + "\n"]

    /// A `webhook_delivery:` section with a short schedule, so retries happen within a test.
    static func delivery(schedule: String = "[200ms, 200ms, 200ms]", poll: String = "100ms") -> String {
        """
        webhook_delivery:
          retry_schedule: \(schedule)
          poll_interval: \(poll)

        """
    }

    /// One endpoint `crm`, signed with the current secret (and the previous one when `rotating`).
    static func endpoint(
        url: String, events: String = "[\"*\"]", timeout: String = "10s", enabled: Bool = true, rotating: Bool = false
    ) -> String {
        """
        webhooks:
          - id: crm
            url: \(url)
            events: \(events)
            secrets:
              - { file: $DIR/crm.whsec }\(rotating ? "\n      - { file: $DIR/crm.previous.whsec }" : "")
            timeout: \(timeout)
            enabled: \(enabled)
        """
    }

    /// Verifies a received request's signatures with ``IndependentHMAC``, which shares no code
    /// with the production signer: one `v1,` entry per secret, in order.
    static func expectSigned(
        _ request: WebhookReceiver.Received, secrets: [String] = [current], sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let id = request.headers["webhook-id"] ?? ""
        let timestamp = request.headers["webhook-timestamp"] ?? ""
        let expected = secrets.map { secret in
            IndependentHMAC.signature(
                id: id, timestamp: Int64(timestamp) ?? 0, body: request.body,
                key: Array(Data(base64Encoded: String(secret.dropFirst(6))) ?? Data())
            )
        }
        #expect(request.headers["webhook-signature"] == expected.joined(separator: " "), sourceLocation: sourceLocation)
        let now = Int64(Date().timeIntervalSince1970)
        #expect(Int64(timestamp).map { abs(now - $0) < 120 } == true, sourceLocation: sourceLocation)
        #expect(request.headers["content-type"] == "application/json", sourceLocation: sourceLocation)
    }
}


/// The stores the webhook acceptance tests run on: SQLite always, PostgreSQL where it is
/// installed (or required), each test on a database of its own.
struct WebhookStore: Sendable, CustomTestStringConvertible {
    let name: String
    /// Runs `body` with the `storage.url` to serve from (`$DIR` is the test's folder).
    let withStorage: @Sendable (@Sendable (String) async throws -> Void) async throws -> Void

    var testDescription: String { name }

    static let sqlite = WebhookStore(name: "sqlite") { body in try await body("sqlite:$DIR/affhost.sqlite") }
    static let postgres = WebhookStore(name: "postgres") { body in
        let cluster = try await PostgresTestCluster.shared()
        let database = try await cluster.createDatabase()
        do {
            try await body(cluster.url(database: database))
        } catch {
            try? await cluster.dropDatabase(database)
            throw error
        }
        try await cluster.dropDatabase(database)
    }

    static let all: [WebhookStore] = [.sqlite] + (PostgresTestCluster.shouldRun ? [.postgres] : [])

    /// `yaml` served from this store.
    func yaml(_ yaml: String, storage: String) -> String {
        yaml.replacingOccurrences(of: "sqlite:$DIR/affhost.sqlite", with: storage)
    }
}
