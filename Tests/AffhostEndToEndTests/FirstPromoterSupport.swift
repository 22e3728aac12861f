import AffiliateCore
import Foundation
import Hummingbird
import Testing

/// Configurations, the spec's example fragments and assertions shared by the firstpromoter-v1
/// end-to-end tests.
enum FirstPromoter {
    /// The key of the spec's §8 examples; tenant `acme` below.
    static let key = "fpk_demo"
    /// Tenant `rival`: another FirstPromoter program on the same server, for isolation.
    static let rivalKey = "fpk_rival_7d2e"
    static let json = "application/json"
    static let form = "application/x-www-form-urlencoded"

    /// The spec's example state (§8): promoter 8262622 with promotion 9441115 (ref `avery`),
    /// reward 5101001 attached to pending payout 2709870, reward 5101002 pending.
    static let specFixtures = """
        promoters:
          - id: 8262622
            email: avery.lee@example.com
            cust_id: ""
            created_at: "2024-05-27T17:43:38.935Z"
            pref: k3m9x2a
            auth_token: Qm7vT2xLp9_RkW4cZy8NbH3dJf6sGa1E
            profile: { id: 8310400, first_name: Avery, last_name: Lee }
            promotions:
              - { id: 9441115, campaign_id: 15161, ref_id: avery }
        rewards:
          - { id: 5101001, promotion_id: 9441115, status: approved, amount: 20000, created_at: "2024-08-01T12:00:00.000Z", payout_id: 2709870 }
          - { id: 5101002, promotion_id: 9441115, status: pending, amount: 1500, created_at: "2024-09-09T08:30:00.000Z", event_id: in_1PqR5tAbCdEf }
        payouts:
          - { id: 2709870, promoter_id: 8262622, status: pending, amount: 20000, created_at: "2024-08-12T09:00:00.000Z" }
        """

    /// The repository's demo fixtures (the spec's state after 8.9 and 8.2).
    static let demoFixtures: String = {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return try! String(contentsOf: repository.appendingPathComponent("config/fixtures/acme.yaml"), encoding: .utf8)
    }()

    /// A server with tenant `acme` (campaign 15161, `payout_due_days: 29`, fixtures from
    /// `acme.yaml`, key ``key``) and tenant `rival` (same campaign id, no records, key
    /// ``rivalKey``). `acme` lines (statuses, transitions, rate_limit) go under the tenant.
    static func config(acme extra: String = "", maxBodyBytes: Int = 1_048_576) -> String {
        """
        server:
          listen: 127.0.0.1:3000
          max_body_bytes: \(maxBodyBytes)
        admin:
          listen: unix:$DIR/admin.sock
        storage:
          url: sqlite:$DIR/affhost.sqlite
        tenants:
          acme:
            name: Acme Affiliates
            dialect: firstpromoter-v1
            api_keys:
              - { id: acme-main, sha256: \(KeyDigest.sha256Hex(key)) }
            payout_due_days: 29
            campaigns:
              - { id: 15161, name: Test new campaign, landing_url: "http://example.com/", color: "#00bcd4" }
              - { id: 15170, name: Spring launch, landing_url: "https://example.com/spring?src=fp" }
            fixtures: $DIR/acme.yaml
        \(extra.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }.joined(separator: "\n"))
          rival:
            name: Rival Affiliates
            dialect: firstpromoter-v1
            api_keys:
              - { id: rival-main, sha256: \(KeyDigest.sha256Hex(rivalKey)) }
            campaigns:
              - { id: 15161, name: Rival campaign, landing_url: "https://rival.example/" }
        """
    }

    /// Runs `body` against a fresh server with ``config(acme:maxBodyBytes:)`` and `fixtures`
    /// (the spec's example state unless given).
    static func run(
        acme extra: String = "", fixtures: String = specFixtures, maxBodyBytes: Int = 1_048_576,
        _ body: @Sendable (TestHost) async throws -> Void
    ) async throws {
        try await TestHost.run(yaml: config(acme: extra, maxBodyBytes: maxBodyBytes), files: ["acme.yaml": fixtures], body)
    }

    // MARK: The spec's fragments (§8)

    static let campaign = """
        {"id": 15161, "name": "Test new campaign", "landing_url": "http://example.com/",
        "description": null, "private": false, "color": "#00bcd4", "default_webhook_url": "",
        "auto_approve_rewards": true, "auto_approve_promoters": true}
        """

    static func promoter(earnings: String, current: String, paid: String) -> String {
        """
        {"id": 8262622, "status": "active", "cust_id": "", "email": "avery.lee@example.com",
        "created_at": "2024-05-27T17:43:38.935Z", "temp_password": null, "default_promotion_id": 9441115,
        "pref": "k3m9x2a", "default_ref_id": "avery", "note": null, "w8_form_url": null, "w9_form_url": null,
        "parent_promoter_id": null, "earnings_balance": \(earnings), "current_balance": \(current),
        "paid_balance": \(paid), "auth_token": "Qm7vT2xLp9_RkW4cZy8NbH3dJf6sGa1E"}
        """
    }

    static let p1 = promoter(earnings: #"{"cash": 23000}"#, current: #"{"cash": 20000}"#, paid: #"{"cash": 3000}"#)
    static let p0 = promoter(earnings: #"{"cash": 23000}"#, current: #"{"cash": 23000}"#, paid: "null")

    static let promotion = """
        {"id": 9441115, "status": "offer_running", "ref_id": "avery", "promo_code": null,
        "customer_promo_code": null, "target_reached_at": null, "promoter_id": 8262622, "campaign_id": 15161,
        "referral_link": "http://example.com/?fpr=avery", "current_offer": null,
        "current_referral_reward": null, "current_promotion_reward": null, "current_target_reward": null,
        "campaign_name": "Test new campaign", "hidden": false, "visitors_count": 0, "leads_count": 0,
        "customers_count": 0, "refunds_count": 0, "cancellations_count": 0, "sales_count": 0,
        "sales_total": 0, "refunds_total": 0, "active_customers_count": 0}
        """

    /// The §8.3 example: payout 2710287 completed, with `P1` and `C`.
    static let seedPayout = """
        {"id": 2710287, "status": "completed", "amount": 3000, "date_paid": "2024-09-20T09:15:42.318Z",
         "due_date": "2024-10-11T00:00:00.000Z", "unit": "cash", "created_at": "2024-09-12T14:02:53.135Z",
         "has_issues": false, "reward": null, "promoter": \(p1), "campaign": \(campaign)}
        """

    static let pendingPayout = """
        {"id": 2709870, "status": "pending", "amount": 20000, "date_paid": null,
         "due_date": "2024-09-10T00:00:00.000Z", "unit": "cash", "created_at": "2024-08-12T09:00:00.000Z",
         "has_issues": false, "reward": null, "promoter": \(p1), "campaign": \(campaign)}
        """

    static func value(_ text: String) -> JSONValue { try! JSONValue(parsing: text) }

    /// The compact form of a JSON text, to compare bodies byte for byte with the spec's examples.
    static func compact(_ text: String) -> String { value(text).serialized }

    static func error(_ text: String) -> String { JSONValue.object(["error": .string(text)]).serialized }
}

extension TestHost {
    /// A request as a FirstPromoter client sends it: `X-API-KEY`, parameters in the query or in
    /// a body of the given content type.
    func fp(
        _ method: HTTPRequest.Method, _ path: String, key: String? = FirstPromoter.key, contentType: String? = nil,
        body: String? = nil, headers extra: [String: String] = [:]
    ) async throws -> TestResponse {
        var headers: [String: String] = [:]
        if let key { headers["X-API-KEY"] = key }
        if let contentType { headers["Content-Type"] = contentType }
        headers.merge(extra) { _, new in new }
        return try await send(method, path, headers: headers, body: body)
    }

    func fpForm(_ method: HTTPRequest.Method, _ path: String, _ body: String, key: String = FirstPromoter.key) async throws -> TestResponse {
        try await fp(method, path, key: key, contentType: FirstPromoter.form, body: body)
    }

    func fpJSON(_ method: HTTPRequest.Method, _ path: String, _ body: String, key: String = FirstPromoter.key) async throws -> TestResponse {
        try await fp(method, path, key: key, contentType: FirstPromoter.json, body: body)
    }
}

extension TestResponse {
    /// The body parsed, `null` when it is not JSON.
    var fpValue: JSONValue { (try? json()) ?? .null }
    var fpObject: JSONObject { fpValue.objectValue ?? [:] }
}

/// Asserts an exact FirstPromoter answer: status, JSON content type and the body byte for byte
/// (compared with the compact form of `body`).
func expectFP(_ response: TestResponse, _ status: Int, _ body: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(response.status == status, sourceLocation: sourceLocation)
    #expect(response.header("Content-Type") == "application/json; charset=utf-8", sourceLocation: sourceLocation)
    #expect(response.body == FirstPromoter.compact(body), sourceLocation: sourceLocation)
}

/// Asserts `{"error": text}` with the status.
func expectFPError(_ response: TestResponse, _ status: Int, _ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(response.status == status, sourceLocation: sourceLocation)
    #expect(response.header("Content-Type") == "application/json; charset=utf-8", sourceLocation: sourceLocation)
    #expect(response.body == FirstPromoter.error(text), sourceLocation: sourceLocation)
}

/// Differences between two JSON values in key names and order, types, nesting and values,
/// each as `path: what`; `ignoringValuesAt` lists paths (`promoter.id`) whose value may differ
/// as long as the type is the same.
func fpShapeDifferences(_ actual: JSONValue, _ expected: JSONValue, path: String = "", ignoringValuesAt ignored: Set<String> = []) -> [String] {
    func kind(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool: "boolean"
        case .number(let text): Int64(text) != nil ? "integer" : "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
    let here = path.isEmpty ? "(root)" : path
    switch (actual, expected) {
    case (.object(let a), .object(let e)):
        if a.keys != e.keys { return ["\(here): keys \(a.keys) instead of \(e.keys)"] }
        return e.keys.flatMap { key in
            fpShapeDifferences(a[key]!, e[key]!, path: path.isEmpty ? key : path + "." + key, ignoringValuesAt: ignored)
        }
    case (.array(let a), .array(let e)):
        if a.count != e.count { return ["\(here): \(a.count) items instead of \(e.count)"] }
        return zip(a, e).enumerated().flatMap { index, pair in
            fpShapeDifferences(pair.0, pair.1, path: "\(path)[\(index)]", ignoringValuesAt: ignored)
        }
    default:
        if kind(actual) != kind(expected) { return ["\(here): \(kind(actual)) instead of \(kind(expected))"] }
        if ignored.contains(path) || actual == expected { return [] }
        return ["\(here): \(actual.serialized) instead of \(expected.serialized)"]
    }
}

/// An instant affhost just set: milliseconds, `Z`, within a minute of now.
func expectFPRecent(_ value: JSONValue?, sourceLocation: SourceLocation = #_sourceLocation) {
    guard let text = value?.stringValue, let instant = Timestamp(iso8601: text) else {
        Issue.record("not a timestamp: \(String(describing: value))", sourceLocation: sourceLocation)
        return
    }
    #expect(text == instant.iso8601Milliseconds, "milliseconds with Z: \(text)", sourceLocation: sourceLocation)
    #expect(abs(instant.secondsSinceEpoch - Timestamp.now().secondsSinceEpoch) < 60, sourceLocation: sourceLocation)
}
