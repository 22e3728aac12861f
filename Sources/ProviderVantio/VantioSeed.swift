public import AffiliateCore

/// Reads a fixture or import document into records, checking every row and every reference.
///
/// The document is a mapping of lists, read in dependency order: `users`, `posters` (each of a
/// user), `impressions` (of a poster), `referrals` (of an impression), `earnings` (of a referral).
/// Copied fields (`program_id`, `student_id`) default from the referenced record and must agree
/// with it when given. References resolve against the document and, for imports, against
/// records already stored.
public struct VantioSeed: Sendable {
    public static let sections = [
        VantioResource.users, VantioResource.posters, VantioResource.impressions, VantioResource.referrals,
        VantioResource.earnings,
    ]

    /// The fields each resource's rows may have, in the object's order.
    public static let fields: [String: [String]] = [
        VantioResource.users: [
            "id", "first_name", "last_name", "email", "program_id", "profile_picture", "created_at", "updated_at",
            "metadata",
        ],
        VantioResource.posters: [
            "id", "program_id", "student_id", "qr_code_url", "location", "created_at", "updated_at", "metadata",
        ],
        VantioResource.impressions: [
            "id", "poster_id", "program_id", "student_id", "scanned_at", "user_agent", "ip_address", "metadata",
        ],
        VantioResource.referrals: [
            "id", "impression_id", "first_name", "last_name", "email", "profile_picture", "status", "program_id",
            "student_id", "created_at", "verified_at", "updated_at", "metadata",
        ],
        VantioResource.earnings: [
            "id", "referral_id", "amount", "currency", "type", "description", "status", "reference_id", "created_at",
            "paid_at", "updated_at", "metadata",
        ],
    ]

    let tenant: TenantConfig
    /// Stored records by resource and id.
    private var known: [String: [String: Record]] = [:]
    /// Where each id of the document was first defined, for duplicate reports.
    private var definedAt: [String: [String: String]] = [:]
    private var records: [Record] = []
    private var problems: [SeedProblem] = []

    /// `existing`: records already in storage that rows may reference (an import of posters for
    /// users loaded earlier).
    public init(tenant: TenantConfig, existing: [Record] = []) {
        self.tenant = tenant
        for record in existing { known[record.resource, default: [:]][record.id] = record }
    }

    public func read(_ document: JSONValue) throws(SeedProblems) -> SeedData {
        var seed = self
        seed.readDocument(document)
        guard seed.problems.isEmpty else { throw SeedProblems(seed.problems) }
        return SeedData(records: seed.records)
    }

    private mutating func readDocument(_ document: JSONValue) {
        if document.isNull { return }
        guard case .object(let sections) = document else {
            problems.append(SeedProblem(path: [], message: "must be a mapping with \(Self.sections.joined(separator: ", ")) lists"))
            return
        }
        for key in sections.keys where !Self.sections.contains(key) {
            problems.append(SeedProblem(
                path: [.key(key)], message: "is not a vantio-v1 resource (expected \(Self.sections.joined(separator: ", ")))"
            ))
        }
        for section in Self.sections {
            guard let value = sections[section], !value.isNull else { continue }
            guard case .array(let rows) = value else {
                problems.append(SeedProblem(path: [.key(section)], message: "must be a list"))
                continue
            }
            for (index, row) in rows.enumerated() {
                let path: [SeedProblem.PathComponent] = [.key(section), .index(index)]
                guard case .object(let object) = row else {
                    problems.append(SeedProblem(path: path, message: "must be a mapping"))
                    continue
                }
                var item = SeedItem(path: path, object: object)
                if let record = read(section, &item) {
                    add(record, at: SeedProblem.render(path), item: &item)
                }
                problems += item.problems
            }
        }
    }

    private mutating func add(_ record: Record, at location: String, item: inout SeedItem) {
        if let first = definedAt[record.resource]?[record.id] {
            item.fail("id", "duplicates the id of \(first)")
            return
        }
        var record = record
        record.tenant = tenant.id
        definedAt[record.resource, default: [:]][record.id] = location
        known[record.resource, default: [:]][record.id] = record
        records.append(record)
    }

    /// The referenced record, or a problem on the referencing field.
    private func lookup(_ resource: String, _ id: String?, field: String, item: inout SeedItem) -> Record? {
        guard let id else { return nil }
        guard let record = known[resource]?[id] else {
            item.fail(field, "\(VantioResource.singular(resource)) \(id) does not exist")
            return nil
        }
        return record
    }

    private func vocabulary(_ resource: String) -> Vocabulary {
        if let policy = tenant.statusPolicies[resource] { return policy.vocabulary }
        return VantioProvider().resources.first { $0.name == resource }!.defaultVocabulary
    }

    private func read(_ section: String, _ item: inout SeedItem) -> Record? {
        switch section {
        case VantioResource.users: readUser(&item)
        case VantioResource.posters: readPoster(&item)
        case VantioResource.impressions: readImpression(&item)
        case VantioResource.referrals: readReferral(&item)
        default: readEarning(&item)
        }
    }

    private func readUser(_ item: inout SeedItem) -> Record? {
        item.rejectUnknown(Self.fields[VantioResource.users]!)
        let id = item.id(prefix: VantioResource.idPrefix(VantioResource.users))
        let firstName = item.text("first_name")
        let lastName = item.text("last_name")
        let email = item.email()
        let programID = item.text("program_id")
        let profilePicture = item.nullableText("profile_picture")
        let createdAt = item.timestamp("created_at")
        let updatedAt = item.updatedAt(after: createdAt)
        let metadata = item.metadata()
        guard item.problems.isEmpty, let id, let firstName, let lastName, let email, let programID, let createdAt,
              let updatedAt
        else { return nil }
        return VantioRecords.user(
            id: id, firstName: firstName, lastName: lastName, email: email, programID: programID,
            profilePicture: profilePicture, createdAt: createdAt, updatedAt: updatedAt, metadata: metadata
        )
    }

    private func readPoster(_ item: inout SeedItem) -> Record? {
        item.rejectUnknown(Self.fields[VantioResource.posters]!)
        let id = item.id(prefix: VantioResource.idPrefix(VantioResource.posters))
        let user = lookup(VantioResource.users, item.text("student_id"), field: "student_id", item: &item)
        let programID = user.map { item.copied("program_id", from: $0.text("program_id"), of: "user \($0.id)") }
        let qrCodeURL = item.text("qr_code_url")
        let location = item.nullableText("location")
        let createdAt = item.timestamp("created_at")
        let updatedAt = item.updatedAt(after: createdAt)
        let metadata = item.metadata()
        guard item.problems.isEmpty, let id, let user, let programID, let qrCodeURL, let createdAt, let updatedAt
        else { return nil }
        return VantioRecords.poster(
            id: id, programID: programID, studentID: user.id, qrCodeURL: qrCodeURL, location: location,
            createdAt: createdAt, updatedAt: updatedAt, metadata: metadata
        )
    }

    private func readImpression(_ item: inout SeedItem) -> Record? {
        item.rejectUnknown(Self.fields[VantioResource.impressions]!)
        let id = item.id(prefix: VantioResource.idPrefix(VantioResource.impressions))
        let poster = lookup(VantioResource.posters, item.text("poster_id"), field: "poster_id", item: &item)
        let programID = poster.map { item.copied("program_id", from: $0.text("program_id"), of: "poster \($0.id)") }
        let studentID = poster.map { item.copied("student_id", from: $0.text("student_id"), of: "poster \($0.id)") }
        let scannedAt = item.timestamp("scanned_at")
        let userAgent = item.nullableText("user_agent")
        let ipAddress = item.nullableText("ip_address")
        let metadata = item.metadata()
        guard item.problems.isEmpty, let id, let poster, let programID, let studentID, let scannedAt
        else { return nil }
        return VantioRecords.impression(
            id: id, posterID: poster.id, programID: programID, studentID: studentID, scannedAt: scannedAt,
            userAgent: userAgent, ipAddress: ipAddress, metadata: metadata
        )
    }

    private func readReferral(_ item: inout SeedItem) -> Record? {
        item.rejectUnknown(Self.fields[VantioResource.referrals]!)
        let vocabulary = vocabulary(VantioResource.referrals)
        let id = item.id(prefix: VantioResource.idPrefix(VantioResource.referrals))
        let impression = lookup(
            VantioResource.impressions, item.text("impression_id"), field: "impression_id", item: &item
        )
        let firstName = item.text("first_name")
        let lastName = item.text("last_name")
        let email = item.email()
        let profilePicture = item.nullableText("profile_picture")
        let status = item.status(in: vocabulary)
        let programID = impression.map {
            item.copied("program_id", from: $0.text("program_id"), of: "impression \($0.id)")
        }
        let studentID = impression.map {
            item.copied("student_id", from: $0.text("student_id"), of: "impression \($0.id)")
        }
        let createdAt = item.timestamp("created_at")
        let verifiedAt = item.optionalTimestamp("verified_at")
        if let status, vocabulary.phase(of: status) == .settled, verifiedAt == nil, item.object["verified_at"]?.isNull ?? true {
            item.fail("verified_at", "is required when status is \(status)")
        }
        let updatedAt = item.updatedAt(after: createdAt)
        let metadata = item.metadata()
        guard item.problems.isEmpty, let id, let impression, let firstName, let lastName, let email, let status,
              let programID, let studentID, let createdAt, let updatedAt
        else { return nil }
        return VantioRecords.referral(
            id: id, impressionID: impression.id, firstName: firstName, lastName: lastName, email: email,
            profilePicture: profilePicture, status: status, programID: programID, studentID: studentID,
            createdAt: createdAt, verifiedAt: verifiedAt, updatedAt: updatedAt, metadata: metadata
        )
    }

    private func readEarning(_ item: inout SeedItem) -> Record? {
        item.rejectUnknown(Self.fields[VantioResource.earnings]!)
        let vocabulary = vocabulary(VantioResource.earnings)
        let id = item.id(prefix: VantioResource.idPrefix(VantioResource.earnings))
        let referral = lookup(VantioResource.referrals, item.text("referral_id"), field: "referral_id", item: &item)
        let amount = item.amount()
        let currency = item.currency(default: tenant.currency)
        let type = item.nullableText("type")
        let description = item.nullableText("description")
        let status = item.status(in: vocabulary)
        let referenceID = item.nullableText("reference_id")
        let createdAt = item.timestamp("created_at")
        let paidAt = item.optionalTimestamp("paid_at")
        if let status {
            let settled = vocabulary.phase(of: status) == .settled
            let paidAtGiven = !(item.object["paid_at"]?.isNull ?? true)
            if settled, !paidAtGiven {
                item.fail("paid_at", "is required when status is \(status)")
            } else if !settled, paidAtGiven {
                item.fail("paid_at", "must be null while status is \(status) (it is set when an earning is paid)")
            }
        }
        let updatedAt = item.updatedAt(after: createdAt)
        let metadata = item.metadata()
        guard item.problems.isEmpty, let id, let referral, let amount, let status, let createdAt, let updatedAt
        else { return nil }
        return VantioRecords.earning(
            id: id, referralID: referral.id, programID: referral.text("program_id"), amount: amount,
            currency: currency, type: type, description: description, status: status, referenceID: referenceID,
            createdAt: createdAt, paidAt: paidAt, updatedAt: updatedAt, metadata: metadata
        )
    }
}

extension Record {
    /// A string field of the rendered object (`""` when absent).
    func text(_ field: String) -> String { data[field]?.stringValue ?? "" }
}
