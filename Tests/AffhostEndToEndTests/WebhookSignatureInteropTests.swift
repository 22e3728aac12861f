import AffiliateCore
import Foundation
import PostgresTestSupport
import Testing

/// webhooks.md §8 item 2: affhost's signatures verify with the PyPI `standardwebhooks` package,
/// the receivers' own library, run from Python. `.ci/run` installs it; elsewhere the test is
/// skipped, saying how to install it.
@Suite struct WebhookSignatureInteropTests {
    static let standardWebhooksInstalled: Bool = {
        (try? Python.run(script: "import standardwebhooks", input: []))?.status == 0
    }()

    /// Verifies the header with each secret and each signature alone with its own secret; checks
    /// that a signature fails with the other secret and that a changed body is refused; prints
    /// `verified N`.
    static let verifier = """
        import base64, json, sys
        from standardwebhooks.webhooks import Webhook, WebhookVerificationError
        case = json.load(sys.stdin)
        body = base64.b64decode(case["body"])
        headers = {"webhook-id": case["id"], "webhook-timestamp": str(case["timestamp"]),
                   "webhook-signature": case["header"]}
        signatures = case["header"].split(" ")
        assert len(signatures) == len(case["secrets"])
        for secret, signature in zip(case["secrets"], signatures):
            Webhook(secret).verify(body, headers, json_parse=False)
            Webhook(secret).verify(body, dict(headers, **{"webhook-signature": signature}), json_parse=False)
        for i, secret in enumerate(case["secrets"]):
            for j, other in enumerate(signatures):
                if i != j:
                    try:
                        Webhook(secret).verify(body, dict(headers, **{"webhook-signature": other}), json_parse=False)
                        sys.exit("a signature verified with the other secret")
                    except WebhookVerificationError:
                        pass
        try:
            Webhook(case["secrets"][0]).verify(body + b" ", headers, json_parse=False)
            sys.exit("a changed body verified")
        except WebhookVerificationError:
            pass
        print("verified", len(signatures))
        """

    @Test(.enabled(if: WebhookSignatureInteropTests.standardWebhooksInstalled,
                   "PyPI standardwebhooks is not installed for python3: pip install standardwebhooks (.ci/run does)"))
    func pythonStandardWebhooksVerifiesEverySignature() throws {
        let texts = [WebhookSecret.newText(), WebhookSecret.newText()]
        let secrets = try texts.enumerated().map { index, text in
            WebhookSecret(reference: .environment("SECRET_\(index)"), key: try WebhookSecret.key(fromText: text).get())
        }
        let id = "evt_7Kq2mXa9Tb4Wc1Zd"
        let timestamp = Int64(Date().timeIntervalSince1970)
        let body = Array(#"{"id":"evt_7Kq2mXa9Tb4Wc1Zd","type":"earning.status_changed","data":{"id":"earn_1","name":"Zoë 😀"}}"#.utf8)
        for count in 1...2 {
            let header = WebhookSignature.header(id: id, timestamp: timestamp, body: body, secrets: Array(secrets.prefix(count)))
            let input: [String: Any] = [
                "id": id, "timestamp": Int(timestamp), "body": Data(body).base64EncodedString(),
                "secrets": Array(texts.prefix(count)), "header": header,
            ]
            let result = try Python.run(script: Self.verifier, input: Array(try JSONSerialization.data(withJSONObject: input)))
            #expect(result.status == 0, "\(result.standardError)")
            #expect(result.standardOutput == "verified \(count)\n")
        }
    }
}

/// `python3 -c SCRIPT` with bytes on standard input.
enum Python {
    static func run(script: String, input: [UInt8]) throws -> AffhostProcess.Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
        let output = Pipe()
        let errors = Pipe()
        let stdin = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = stdin
        try ProcessLaunch.run(process)
        stdin.fileHandleForWriting.write(Data(input))
        try stdin.fileHandleForWriting.close()
        try? output.fileHandleForWriting.close()
        try? errors.fileHandleForWriting.close()
        let out = AffhostProcess.readAll(output.fileHandleForReading.fileDescriptor)
        // Errors are a traceback at most: small enough for the pipe while stdout is drained.
        let err = AffhostProcess.readAll(errors.fileHandleForReading.fileDescriptor)
        process.waitUntilExit()
        return AffhostProcess.Result(
            status: process.terminationStatus, standardOutput: String(decoding: out, as: UTF8.self),
            standardError: String(decoding: err, as: UTF8.self))
    }
}
