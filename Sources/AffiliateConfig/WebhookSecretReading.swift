import AffiliateCore

/// `secrets:` of a webhook endpoint: references only, resolved while the file is read
/// (webhooks.md §2). Every message names the reference (the variable or the path) and never the
/// value, whether it was usable or not.
extension ConfigReader {
    static let inlineSecretMessage = "inline secrets are refused; use {env: NAME} or {file: PATH}"
    static let secretReferenceKeys = ["env", "file"]
    static let secretReferenceExpected = "{env: NAME} or {file: PATH}"
    /// The current secret and, during a rotation, the previous one.
    static let secretCount = 1...2

    func readWebhookSecrets(_ fields: Fields) -> [WebhookSecret]? {
        guard let field = fields["secrets"] else {
            missing("secrets", in: fields)
            return nil
        }
        let nodes: [YAMLNode]
        switch field.value.content {
        case .sequence(let elements):
            nodes = elements
        case .scalar where !field.value.isNull:
            problem(Self.inlineSecretMessage, at: field.value, path: field.path)
            return nil
        default:
            typeProblem(expected: "a list of \(Self.secretReferenceExpected)", field.value, path: field.path)
            return nil
        }
        var complete = true
        if !Self.secretCount.contains(nodes.count) {
            problem("must list 1 or 2 secrets (the current one first, then the previous one while rotating), found \(nodes.count)",
                    at: field.value, path: field.path)
            complete = false
        }
        var secrets: [WebhookSecret] = []
        for (index, node) in nodes.enumerated() {
            if let secret = readWebhookSecret(node, path: ConfigPath.index(field.path, index)) {
                secrets.append(secret)
            } else {
                complete = false
            }
        }
        return complete ? secrets : nil
    }

    /// Exactly `{env: NAME}` or `{file: PATH}`, resolved to a usable key.
    private func readWebhookSecret(_ node: YAMLNode, path: String) -> WebhookSecret? {
        if case .scalar = node.content, !node.isNull {
            problem(Self.inlineSecretMessage, at: node, path: path)
            return nil
        }
        guard let fields = mapping(node, at: path, expected: Self.secretReferenceExpected) else { return nil }
        var otherKeys = false
        for field in fields.fields(notIn: Self.secretReferenceKeys) {
            otherKeys = true
            if field.key == "value" {
                // The value is a secret: the message never repeats it.
                problem(Self.inlineSecretMessage, at: field.keyNode, path: field.path)
            } else {
                unknownKey(field, candidates: Self.secretReferenceKeys)
            }
        }
        switch (fields["env"], fields["file"]) {
        case (let env?, nil) where !otherKeys:
            return environmentSecret(env, at: node, path: path)
        case (nil, let file?) where !otherKeys:
            return fileSecret(file, at: node, path: path)
        case (_?, _?):
            problem("expected \(Self.secretReferenceExpected), not both", at: node, path: path)
        case (nil, nil) where !otherKeys:
            problem("expected \(Self.secretReferenceExpected), found an empty mapping", at: node, path: path)
        default:
            break
        }
        return nil
    }

    private func environmentSecret(_ field: Field, at node: YAMLNode, path: String) -> WebhookSecret? {
        guard let name = nonEmptyText(field, expected: "an environment variable name") else { return nil }
        guard Self.isEnvironmentName(name) else {
            problem("invalid environment variable name \"\(name)\": use letters, digits and \"_\", not starting with a digit",
                    at: field.value, path: field.path)
            return nil
        }
        guard let text = environment[name] else {
            problem("environment variable \(name) is not set", at: node, path: path)
            return nil
        }
        return secret(text, reference: .environment(name), from: "environment variable \(name)", at: node, path: path)
    }

    /// Read like `fixtures:` (relative to the directory affhost runs in), one trailing newline
    /// dropped, so `affhost webhooks secret > FILE` makes a usable file.
    private func fileSecret(_ field: Field, at node: YAMLNode, path: String) -> WebhookSecret? {
        guard let file = nonEmptyText(field, expected: "a file path") else { return nil }
        var bytes: [UInt8]
        switch FileText.read(file) {
        case .unreadable(let reason):
            problem("cannot read secret file \"\(file)\": \(reason)", at: node, path: path)
            return nil
        case .bytes(let read):
            bytes = read
        }
        if bytes.last == UInt8(ascii: "\n") {
            bytes.removeLast()
            if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        }
        guard let text = FileText.decode(bytes) else {
            problem("the secret in file \"\(file)\" is not UTF-8 text", at: node, path: path)
            return nil
        }
        return secret(text, reference: .file(file), from: "file \"\(file)\"", at: node, path: path)
    }

    private func secret(
        _ text: String, reference: WebhookSecret.Reference, from source: String, at node: YAMLNode, path: String
    ) -> WebhookSecret? {
        switch WebhookSecret.key(fromText: text) {
        case .success(let key):
            return WebhookSecret(reference: reference, key: key)
        case .failure(let reason):
            problem("the secret in \(source) \(reason): expected whsec_ followed by the base64 of \(WebhookSecret.keySizes.lowerBound) to \(WebhookSecret.keySizes.upperBound) random bytes ('affhost webhooks secret' makes one)",
                    at: node, path: path)
            return nil
        }
    }

    static func isEnvironmentName(_ name: String) -> Bool {
        guard let first = name.utf8.first, !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else { return false }
        return name.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "_")
        }
    }
}
