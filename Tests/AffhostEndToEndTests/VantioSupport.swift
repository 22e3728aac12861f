import AffiliateCore
import Foundation
import Hummingbird
import Testing

/// Configurations, keys and assertions shared by the vantio-v1 end-to-end tests.
enum Vantio {
    /// The key of the spec's §9 examples; tenant `campus` below.
    static let key = "sk_demo_4f9a"
    /// Tenant `rival`: another Vantio program on the same server, for isolation.
    static let rivalKey = "sk_rival_91c2"
    /// The demo fixtures, which the spec's and the vendor docs' examples run against.
    static let demoFixtures: String = {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return try! String(contentsOf: repository.appendingPathComponent("config/fixtures/campus.yaml"), encoding: .utf8)
    }()

    /// A server with tenant `campus` (the demo fixtures, key ``key``) and tenant `rival`
    /// (no records, key ``rivalKey``). `campus` lines are appended under the tenant (settings,
    /// statuses, transitions), indented by the caller's YAML.
    static func config(campus extra: String = "", rival rivalExtra: String = "", maxBodyBytes: Int = 1_048_576) -> String {
        """
        server:
          listen: 127.0.0.1:3000
          max_body_bytes: \(maxBodyBytes)
        admin:
          listen: unix:$DIR/admin.sock
        storage:
          url: sqlite:$DIR/affhost.sqlite
        tenants:
          campus:
            name: Campus Ambassadors
            dialect: vantio-v1
            currency: USD
            api_keys:
              - { id: campus-main, sha256: \(KeyDigest.sha256Hex(key)) }
            fixtures: $DIR/campus.yaml
        \(indented(extra))
          rival:
            name: Rival Ambassadors
            dialect: vantio-v1
            currency: EUR
            api_keys:
              - { id: rival-main, sha256: \(KeyDigest.sha256Hex(rivalKey)) }
        \(indented(rivalExtra))
        """
    }

    private static func indented(_ lines: String) -> String {
        lines.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }.joined(separator: "\n")
    }

    /// Runs `body` against a fresh server with ``config(campus:rival:maxBodyBytes:)``.
    /// `topLevel` goes before the configuration (a `webhook_delivery:` section, say).
    static func run(
        campus: String = "", rival: String = "", maxBodyBytes: Int = 1_048_576, files: [String: String] = [:],
        topLevel: String = "", _ body: (TestHost) async throws -> Void
    ) async throws {
        var allFiles = files
        allFiles["campus.yaml"] = allFiles["campus.yaml"] ?? demoFixtures
        try await TestHost.run(
            yaml: topLevel + config(campus: campus, rival: rival, maxBodyBytes: maxBodyBytes), files: allFiles, body
        )
    }

    /// `{"error": ..., "message": ...}` exactly as Vantio renders it.
    static func errorBody(_ error: String, _ message: String) -> String {
        JSONValue.object(["error": .string(error), "message": .string(message)]).serialized
    }

    static func badRequest(_ message: String) -> String { errorBody("Bad Request", message) }

    /// The compact form of a JSON text, for comparing bodies byte for byte with the spec's
    /// pretty-printed examples.
    static func compact(_ json: String) -> String {
        try! JSONValue(parsing: json).serialized
    }
}

extension TestHost {
    /// A request as a Vantio client sends it: Bearer key, and a JSON content type with a body.
    func vantio(
        _ method: HTTPRequest.Method, _ path: String, key: String = Vantio.key, json body: String? = nil,
        headers extra: [String: String] = [:]
    ) async throws -> TestResponse {
        var headers = ["Authorization": "Bearer \(key)"]
        if body != nil { headers["Content-Type"] = "application/json" }
        headers.merge(extra) { _, new in new }
        return try await send(method, path, headers: headers, body: body)
    }
}

extension TestResponse {
    /// The parsed body as an object (an empty one when it is not).
    var object: JSONObject { (try? json().objectValue) ?? [:] }
}

/// Asserts a response is exactly Vantio's error: status, body and JSON content type.
func expectError(
    _ response: TestResponse, _ status: Int, _ error: String, _ message: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(response.status == status, sourceLocation: sourceLocation)
    #expect(response.body == Vantio.errorBody(error, message), sourceLocation: sourceLocation)
    #expect(response.header("Content-Type") == "application/json; charset=utf-8", sourceLocation: sourceLocation)
}

func expectBadRequest(_ response: TestResponse, _ message: String, sourceLocation: SourceLocation = #_sourceLocation) {
    expectError(response, 400, "Bad Request", message, sourceLocation: sourceLocation)
}

/// Compares an object field by field (and key order) with a documented example; `generated`
/// fields (ids and instants affhost makes) are only checked for presence here and returned for
/// the caller's own checks.
@discardableResult
func expectObject(
    _ actual: JSONObject, matches expectedText: String, except generated: Set<String> = [],
    sourceLocation: SourceLocation = #_sourceLocation
) -> JSONObject {
    let expected = try! JSONValue(parsing: expectedText).objectValue!
    #expect(actual.keys == expected.keys, sourceLocation: sourceLocation)
    for key in expected.keys where !generated.contains(key) {
        #expect(actual[key] == expected[key], "field \(key)", sourceLocation: sourceLocation)
    }
    return actual
}

/// An instant affhost rendered: second precision, UTC, and within a minute of now.
func expectRecent(_ value: JSONValue?, sourceLocation: SourceLocation = #_sourceLocation) {
    guard let text = value?.stringValue, let instant = Timestamp(iso8601: text) else {
        Issue.record("not a timestamp: \(String(describing: value))", sourceLocation: sourceLocation)
        return
    }
    #expect(text == instant.iso8601Seconds, "second precision with Z", sourceLocation: sourceLocation)
    #expect(abs(instant.secondsSinceEpoch - Timestamp.now().secondsSinceEpoch) < 60, sourceLocation: sourceLocation)
}

/// `earn_` + 16 base62 characters.
func expectGeneratedID(_ value: JSONValue?, prefix: String, sourceLocation: SourceLocation = #_sourceLocation) {
    let text = value?.stringValue ?? ""
    let suffix = text.dropFirst(prefix.count)
    #expect(text.hasPrefix(prefix), sourceLocation: sourceLocation)
    #expect(suffix.count == 16 && suffix.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) }, "\(text)",
            sourceLocation: sourceLocation)
}
