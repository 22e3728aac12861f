import AffiliateCore

/// `api_keys:`: hashed keys only, unique by id within a tenant and by hash across the file.
extension ConfigReader {
    static let apiKeyKeys = ["id", "sha256", "expires_at"]
    static let plaintextKeyMessage =
        "plaintext keys are not accepted; store its SHA-256 instead: run 'affhost keys hash' and paste the sha256 line"

    func readAPIKeys(_ tenant: Fields, tenant id: String) -> [APIKey]? {
        guard let field = tenant["api_keys"] else {
            missing("api_keys", in: tenant)
            return nil
        }
        guard let nodes = list(field, expected: "a list of keys") else { return nil }
        guard !nodes.isEmpty else {
            problem("must list at least one key", at: field.value, path: field.path)
            return nil
        }
        var keys: [APIKey] = []
        var idLines: [String: Int] = [:]
        for (index, node) in nodes.enumerated() {
            let path = ConfigPath.index(field.path, index)
            guard let fields = mapping(node, at: path) else { continue }
            if let key = readAPIKey(fields, tenant: id, idLines: &idLines) { keys.append(key) }
        }
        return keys.count == nodes.count ? keys : nil
    }

    private func readAPIKey(_ fields: Fields, tenant: String, idLines: inout [String: Int]) -> APIKey? {
        var plaintext = false
        for field in fields.fields(notIn: Self.apiKeyKeys) {
            if field.key == "key" {
                // The value is a secret: the message never repeats it.
                problem(Self.plaintextKeyMessage, at: field.keyNode, path: field.path)
                plaintext = true
            } else {
                unknownKey(field, candidates: Self.apiKeyKeys)
            }
        }
        let keyID = requiredText("id", in: fields)
        if let keyID, let idField = fields["id"] {
            if let first = idLines[keyID] {
                problem("duplicate key id \"\(keyID)\" (first at line \(first))", at: idField.value, path: idField.path)
            } else {
                idLines[keyID] = idField.valuePosition.line
            }
        }
        var hash: String?
        if let hashField = fields["sha256"] {
            hash = sha256Hex(hashField)
            if let hash {
                claimKey(hash, keyID: keyID ?? "", tenant: tenant, at: hashField.valuePosition, path: hashField.path)
                keyHashPositions.append(hashField.valuePosition)
            }
        } else if !plaintext {
            missing("sha256", in: fields)
        }
        var expiresAt: Timestamp?
        if let expiry = fields.given("expires_at"), let text = text(expiry) {
            expiresAt = Timestamp(iso8601: text)
            if expiresAt == nil {
                problem("invalid expires_at \"\(text)\": expected an ISO 8601 date-time such as 2027-01-01T00:00:00Z",
                        at: expiry.value, path: expiry.path)
            }
        }
        guard let keyID, let hash, !plaintext else { return nil }
        return APIKey(id: keyID, sha256: hash, expiresAt: expiresAt)
    }

    /// Records the first holder of a key hash; a later one is a duplicate, within a tenant or
    /// across tenants (a key must name exactly one tenant).
    func claimKey(_ hash: String, keyID: String, tenant: String, at position: Position, path: @autoclosure () -> String) {
        if let owner = keyOwners[hash] {
            log.add("duplicate key: this sha256 is already used by key \"\(owner.keyID)\" of tenant \"\(owner.tenant)\" (line \(owner.line))",
                    at: position, path: path())
        } else {
            keyOwners[hash] = (tenant, keyID, position.line)
        }
    }
}
