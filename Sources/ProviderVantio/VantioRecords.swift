import AffiliateCore

/// How each Vantio object is stored: `data` is the rendered object itself, keys in the spec's
/// order (§8), so reading a record is serialising it; `tags` carry the list filters.
///
/// Timestamps are kept rendered (second precision, as Vantio shows them) while the sort key keeps
/// the full instant, so lists order by the real creation time.
enum VantioRecords {
    static func sortKey(_ instant: Timestamp, _ id: String) -> String { instant.sortableText + id }

    static func user(
        id: String, firstName: String, lastName: String, email: String, programID: String,
        profilePicture: JSONValue, createdAt: Timestamp, updatedAt: Timestamp, metadata: JSONObject
    ) -> Record {
        let data: JSONObject = [
            "id": .string(id), "first_name": .string(firstName), "last_name": .string(lastName),
            "email": .string(email), "program_id": .string(programID), "profile_picture": profilePicture,
            "created_at": .string(createdAt.iso8601Seconds), "updated_at": .string(updatedAt.iso8601Seconds),
            "metadata": .object(metadata),
        ]
        return Record(
            tenant: "", resource: VantioResource.users, id: id, sortKey: sortKey(createdAt, id), data: data,
            tags: [Tag("program_id", programID)]
        )
    }

    static func poster(
        id: String, programID: String, studentID: String, qrCodeURL: String, location: JSONValue,
        createdAt: Timestamp, updatedAt: Timestamp, metadata: JSONObject
    ) -> Record {
        let data: JSONObject = [
            "id": .string(id), "program_id": .string(programID), "student_id": .string(studentID),
            "qr_code_url": .string(qrCodeURL), "location": location,
            "created_at": .string(createdAt.iso8601Seconds), "updated_at": .string(updatedAt.iso8601Seconds),
            "metadata": .object(metadata),
        ]
        return Record(
            tenant: "", resource: VantioResource.posters, id: id, sortKey: sortKey(createdAt, id), data: data,
            tags: [Tag("program_id", programID), Tag("student_id", studentID)]
        )
    }

    static func impression(
        id: String, posterID: String, programID: String, studentID: String, scannedAt: Timestamp,
        userAgent: JSONValue, ipAddress: JSONValue, metadata: JSONObject
    ) -> Record {
        let data: JSONObject = [
            "id": .string(id), "poster_id": .string(posterID), "program_id": .string(programID),
            "student_id": .string(studentID), "scanned_at": .string(scannedAt.iso8601Seconds),
            "user_agent": userAgent, "ip_address": ipAddress, "metadata": .object(metadata),
        ]
        return Record(
            tenant: "", resource: VantioResource.impressions, id: id, sortKey: sortKey(scannedAt, id), data: data,
            tags: [Tag("poster_id", posterID), Tag("program_id", programID), Tag("student_id", studentID)]
        )
    }

    static func referral(
        id: String, impressionID: String, firstName: String, lastName: String, email: String,
        profilePicture: JSONValue, status: String, programID: String, studentID: String, createdAt: Timestamp,
        verifiedAt: Timestamp?, updatedAt: Timestamp, metadata: JSONObject
    ) -> Record {
        let data: JSONObject = [
            "id": .string(id), "impression_id": .string(impressionID), "first_name": .string(firstName),
            "last_name": .string(lastName), "email": .string(email), "profile_picture": profilePicture,
            "status": .string(status), "program_id": .string(programID), "student_id": .string(studentID),
            "created_at": .string(createdAt.iso8601Seconds), "verified_at": verifiedAt.rendered,
            "updated_at": .string(updatedAt.iso8601Seconds), "metadata": .object(metadata),
        ]
        return Record(
            tenant: "", resource: VantioResource.referrals, id: id, status: status, sortKey: sortKey(createdAt, id),
            data: data,
            tags: [Tag("impression_id", impressionID), Tag("program_id", programID), Tag("student_id", studentID)]
        )
    }

    /// `programID` is the referral's program: earnings filter by it without a join.
    static func earning(
        id: String, referralID: String, programID: String, amount: Int64, currency: String, type: JSONValue,
        description: JSONValue, status: String, referenceID: JSONValue, createdAt: Timestamp, paidAt: Timestamp?,
        updatedAt: Timestamp, metadata: JSONObject
    ) -> Record {
        let data: JSONObject = [
            "id": .string(id), "referral_id": .string(referralID), "amount": .int(amount),
            "currency": .string(currency), "type": type, "description": description, "status": .string(status),
            "reference_id": referenceID, "created_at": .string(createdAt.iso8601Seconds), "paid_at": paidAt.rendered,
            "updated_at": .string(updatedAt.iso8601Seconds), "metadata": .object(metadata),
        ]
        return Record(
            tenant: "", resource: VantioResource.earnings, id: id, status: status, sortKey: sortKey(createdAt, id),
            data: data, tags: [Tag("referral_id", referralID), Tag("program_id", programID)]
        )
    }

    /// Applies a PUT's `metadata` under the tenant's rule (§7): merge sets the sent keys, drops
    /// those sent as `null` and keeps the rest, new keys last; replace takes the object as sent.
    static func update(_ stored: JSONObject, with sent: JSONObject, _ mode: VantioSettings.MetadataUpdate) -> JSONObject {
        guard mode == .merge else { return sent }
        var merged = stored
        for (key, value) in sent { merged[key] = value.isNull ? nil : value }
        return merged
    }

    /// Moves a record's status through the engine (vocabulary, transitions, audit) and keeps the
    /// rendered `status` in step.
    static func setStatus(_ word: String, of record: inout Record, in tx: inout Transaction) throws -> StatusChange? {
        let change = try tx.setStatus(of: &record, to: word)
        record.data["status"] = .string(word)
        return change
    }
}

extension Optional where Wrapped == Timestamp {
    var rendered: JSONValue { map { .string($0.iso8601Seconds) } ?? .null }
}
