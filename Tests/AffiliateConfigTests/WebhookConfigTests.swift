import AffiliateConfig
import AffiliateCore
import Foundation
import Testing

/// Valid `webhooks:` and `webhook_delivery:`, as the reader hands them to the server.
@Suite struct WebhookConfigTests {
    @Test func endpointsAreReadWithTheirSecretsResolvedInYAMLOrder() throws {
        let directory = try ConfigTesting.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("acme-crm.previous.whsec")
        try Data((WebhookTesting.previous + "\n").utf8).write(to: file)
        let config = try WebhookTesting.load(ConfigTesting.acme("""
                webhooks:
                  - id: crm
                    url: https://crm.acme.example/hooks
                    events: [payout_status_changed, reward_created]
                    secrets:
                      - env: AFFHOST_WHSEC_ACME_CRM
                      - file: \(file.path)
                    timeout: 1500ms
                  - id: everything_2
                    url: http://127.0.0.1:9000/
                    events: ["*"]
                    secrets: [ { file: \(file.path) } ]
                    enabled: false

            """))
        let endpoints = try #require(config.tenantsByID["acme"]?.webhooks)
        #expect(endpoints.map(\.id) == ["crm", "everything_2"])
        let crm = endpoints[0]
        #expect(crm.url == "https://crm.acme.example/hooks")
        #expect(crm.events == .only(["payout_status_changed", "reward_created"]))
        #expect(crm.secrets.map(\.reference) == [.environment("AFFHOST_WHSEC_ACME_CRM"), .file(file.path)])
        #expect(crm.secrets.map(\.key) == [Array(0...31), Array(32...63)])
        #expect(crm.timeout == .milliseconds(1500))
        #expect(crm.enabled)
        #expect(crm.subscribes(to: "reward_created") && !crm.subscribes(to: "payout_created"))
        let all = endpoints[1]
        #expect(all.events == .all && all.subscribes(to: "payout_created"))
        #expect(all.timeout == .seconds(15))
        #expect(!all.enabled)
    }

    @Test func aTenantWithoutWebhooksHasNoEndpoints() throws {
        #expect(try WebhookTesting.load(ConfigTesting.acme()).tenants.first?.webhooks == [])
        #expect(try WebhookTesting.load(ConfigTesting.acme("    webhooks: []\n")).tenants.first?.webhooks == [])
    }

    @Test func vantioEventsAreVantiosNames() throws {
        let yaml = TenantProblemTests.campus("""
                webhooks:
                  - { id: ledger, url: "https://ledger.campus.example/in", events: [earning.status_changed, referral.created], secrets: [ { env: AFFHOST_WHSEC_ACME_CRM } ] }

            """)
        #expect(try WebhookTesting.load(yaml).tenants.first?.webhooks.first?.events
                == .only(["earning.status_changed", "referral.created"]))
    }

    @Test func deliveryDefaultsAreTheSpecs() throws {
        let settings = try WebhookTesting.load(ConfigTesting.acme()).webhookDelivery
        #expect(settings.retrySchedule == [
            .seconds(5), .seconds(300), .seconds(1800), .seconds(7200), .seconds(18_000), .seconds(36_000),
            .seconds(50_400), .seconds(72_000), .seconds(86_400),
        ])
        #expect(settings.maxInFlightPerEndpoint == 4)
        #expect(settings.maxInFlight == 64)
        #expect(settings.pollInterval == .seconds(1))
        #expect(settings.retention == .seconds(30 * 86_400))
        #expect(try WebhookTesting.load("webhook_delivery:\n" + ConfigTesting.acme()).webhookDelivery == settings)
    }

    @Test func deliverySettingsAreRead() throws {
        let config = try WebhookTesting.load("""
            webhook_delivery:
              retry_schedule: [100ms, 1s, 2m, 1h, 1d]
              max_in_flight_per_endpoint: 2
              max_in_flight: 10
              poll_interval: 250ms
              retention: 7d

            """ + ConfigTesting.acme())
        #expect(config.webhookDelivery == WebhookDeliverySettings(
            retrySchedule: [.milliseconds(100), .seconds(1), .seconds(120), .seconds(3600), .seconds(86_400)],
            maxInFlightPerEndpoint: 2, maxInFlight: 10, pollInterval: .milliseconds(250), retention: .seconds(7 * 86_400)))
    }
}
