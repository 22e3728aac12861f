import AffiliateCore
import Foundation
import Testing

@Suite struct WebhookSecretTests {
    @Test func aSecretIsWhsecAndTheBase64OfTwentyFourToSixtyFourBytes() throws {
        let bytes24 = Data(repeating: 7, count: 24).base64EncodedString()
        let bytes64 = Data(repeating: 7, count: 64).base64EncodedString()
        #expect(try WebhookSecret.key(fromText: "whsec_" + bytes24).get() == [UInt8](repeating: 7, count: 24))
        #expect(try WebhookSecret.key(fromText: "whsec_" + bytes64).get().count == 64)
        #expect(WebhookSecret.key(fromText: "") == .failure(.empty))
        #expect(WebhookSecret.key(fromText: bytes24) == .failure(.missingPrefix))
        #expect(WebhookSecret.key(fromText: "whsec_not base64!") == .failure(.notBase64))
        #expect(WebhookSecret.key(fromText: "whsec_" + Data(repeating: 7, count: 23).base64EncodedString()) == .failure(.wrongSize(23)))
        #expect(WebhookSecret.key(fromText: "whsec_" + Data(repeating: 7, count: 65).base64EncodedString()) == .failure(.wrongSize(65)))
    }

    @Test func newSecretsAreThirtyTwoRandomBytes() throws {
        let first = WebhookSecret.newText()
        #expect(first.hasPrefix("whsec_") && first.count == 6 + 44)
        #expect(try WebhookSecret.key(fromText: first).get().count == 32)
        #expect(first != WebhookSecret.newText())
    }

    /// Every way of printing a secret, or an endpoint holding one, shows the reference only.
    @Test func printingNeverShowsTheKey() throws {
        let secretText = WebhookSecret.newText()
        let key = try WebhookSecret.key(fromText: secretText).get()
        let secret = WebhookSecret(reference: .environment("AFFHOST_WHSEC_ACME"), key: key)
        let endpoint = WebhookEndpoint(id: "crm", url: "https://crm.example.com/hooks", events: .all, secrets: [secret])
        var dumped = ""
        dump(endpoint, to: &dumped)
        let printed = [
            String(describing: secret), String(reflecting: secret), "\(secret)", String(describing: endpoint),
            String(reflecting: endpoint), "\([endpoint])", dumped,
        ]
        #expect(String(describing: secret) == "env:AFFHOST_WHSEC_ACME")
        for text in printed {
            #expect(text.contains("AFFHOST_WHSEC_ACME"))
            #expect(!text.contains(String(secretText.dropFirst(6))))
            #expect(!text.contains(key.map(String.init).joined(separator: ", ")))
        }
    }
}
