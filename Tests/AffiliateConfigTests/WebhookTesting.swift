import AffiliateConfig
import AffiliateCore
import Foundation

/// Loading files whose webhook secrets come from a known environment, never the test process's.
enum WebhookTesting {
    /// webhooks.md §4's two secrets (bytes 0-31, then 32-63).
    static let current = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
    static let previous = "whsec_ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="
    /// `whsec_` + base64 of "short": five bytes, too few.
    static let tooShort = "whsec_c2hvcnQ="

    static let environment = [
        "AFFHOST_WHSEC_ACME_CRM": current,
        "AFFHOST_TEST_BAD_SECRET": tooShort,
        "AFFHOST_TEST_NOT_WHSEC": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        "AFFHOST_TEST_EMPTY": "",
    ]
    static let loader = ConfigLoader(registry: FakeProvider.registry, environment: environment)

    static func load(_ yaml: String) throws -> HostConfig {
        try loader.load(yaml: yaml, path: ConfigTesting.file)
    }

    static func problems(_ yaml: String) -> [ConfigProblem] {
        do {
            _ = try loader.load(yaml: yaml, path: ConfigTesting.file)
            return []
        } catch {
            return error.problems
        }
    }

    /// An endpoint of `acme` at line 8 with `lines` (indented by eight spaces) after its id.
    static func acmeEndpoint(_ lines: String) -> String {
        ConfigTesting.acme("    webhooks:\n      - id: crm\n" + lines)
    }

    /// The usual url, events and secrets of an endpoint (lines 9 to 11).
    static let usualLines = """
                url: https://crm.acme.example/hooks
                events: [payout_status_changed]
                secrets: [ { env: AFFHOST_WHSEC_ACME_CRM } ]

        """
}
