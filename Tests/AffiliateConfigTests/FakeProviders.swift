import AffiliateCore
import Hummingbird

/// A dialect with the descriptors of a real one and none of its routes, so that config tests
/// do not depend on the dialect modules.
struct FakeProvider: Provider {
    let dialect: String
    let resources: [ResourceDescriptor]
    let settings: [SettingDescriptor]
    var webhookEvents: [String] = []
    let seed: @Sendable (JSONValue, TenantConfig) throws(SeedProblems) -> SeedData

    func credential(in request: Request) -> PresentedCredential {
        request.headers[.init("X-API-KEY")!].map { .key($0) } ?? .absent
    }
    func recognizes(path: String) -> Bool { false }
    func response(for error: HostError) -> Response { Response(status: .unauthorized) }
    func addRoutes(to router: Router<TenantRequestContext>) {}
    func seedData(from document: JSONValue, tenant: TenantConfig) throws(SeedProblems) -> SeedData {
        try seed(document, tenant)
    }

    /// firstpromoter-v1's resources and settings; fixtures are `{ payouts: [{ id, status }] }`.
    static let firstPromoter = FakeProvider(
        dialect: "firstpromoter-v1",
        resources: [
            ResourceDescriptor(
                name: "payouts",
                knownWords: [("pending", .open), ("processing", .inProgress), ("completed", .settled),
                             ("failed", .failed), ("cancelled", .void)],
                defaultWords: ["pending", "processing", "completed"]),
            ResourceDescriptor(
                name: "rewards", knownWords: [("approved", .inProgress), ("pending", .open), ("denied", .void)],
                defaultWords: ["approved", "pending", "denied"]),
        ],
        settings: [SettingDescriptor(name: "payout_due_days", kind: .integer(0...3650), summary: "days until due")],
        webhookEvents: ["reward_created", "promoter_signed_up", "reward_status_changed", "payout_created",
                        "payout_status_changed"],
        seed: seedPayouts)

    static let vantio = FakeProvider(
        dialect: "vantio-v1",
        resources: [
            ResourceDescriptor(
                name: "earnings",
                knownWords: [("pending", .open), ("processing", .inProgress), ("paid", .settled), ("failed", .failed)],
                defaultWords: ["pending", "processing", "paid", "failed"]),
            ResourceDescriptor(
                name: "referrals",
                knownWords: [("pending", .open), ("converted", .inProgress), ("verified", .settled), ("rejected", .void)],
                defaultWords: ["pending", "converted", "verified", "rejected"]),
        ],
        settings: [
            SettingDescriptor(name: "idempotency_window", kind: .duration, summary: "how long keys are remembered"),
            SettingDescriptor(name: "metadata_update", kind: .choice(["merge", "replace"]), summary: "metadata PATCH"),
            SettingDescriptor(name: "webhook_secret_name", kind: .text, summary: "a text setting"),
        ],
        webhookEvents: ["referral.created", "referral.status_changed", "earning.created", "earning.status_changed"],
        seed: { _, _ throws(SeedProblems) in SeedData() })

    /// Keeps the fixture document as it arrived, to check the YAML to JSON conversion.
    static let echo = FakeProvider(
        dialect: "echo-v1", resources: [], settings: [],
        seed: { document, tenant throws(SeedProblems) in
            SeedData(records: [Record(tenant: tenant.id, resource: "document", id: "1", sortKey: "1",
                                      data: ["document": document])])
        })

    static let registry = ProviderRegistry([firstPromoter, vantio, echo])

    private static func seedPayouts(_ document: JSONValue, _ tenant: TenantConfig) throws(SeedProblems) -> SeedData {
        guard let payouts = document["payouts"]?.arrayValue else {
            throw SeedProblems([SeedProblem(path: [.key("payouts")], message: "expected a list of payouts")])
        }
        var records: [Record] = []
        var problems: [SeedProblem] = []
        let vocabulary = tenant.statusPolicies["payouts"]!.vocabulary
        for (index, payout) in payouts.enumerated() {
            guard let id = payout["id"]?.integerValue else {
                problems.append(SeedProblem(path: [.key("payouts"), .index(index), .key("id")], message: "id must be an integer"))
                continue
            }
            guard let status = payout["status"]?.stringValue, vocabulary.contains(status) else {
                problems.append(SeedProblem(path: [.key("payouts"), .index(index), .key("status")],
                                            message: "status must be one of: \(vocabulary.listed)"))
                continue
            }
            records.append(Record(tenant: tenant.id, resource: "payouts", id: String(id), status: status,
                                  sortKey: String(id), data: payout.objectValue ?? [:]))
        }
        guard problems.isEmpty else { throw SeedProblems(problems) }
        return SeedData(records: records, sequenceFloors: ["payouts": records.compactMap { Int64($0.id) }.max() ?? 0])
    }
}
