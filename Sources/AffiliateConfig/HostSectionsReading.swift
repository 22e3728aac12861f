import AffiliateCore

/// `server:`, `admin:` and `storage:`: where affhost listens and keeps its data.
extension ConfigReader {
    static let rootKeys = ["server", "admin", "storage", "webhook_delivery", "tenants"]
    static let serverKeys = ["listen", "max_body_bytes"]
    static let adminKeys = ["listen", "token_sha256"]
    static let storageKeys = ["url"]

    func readServer(_ field: Field?) -> ServerSettings {
        var settings = ServerSettings()
        guard let field, !field.value.isNull,
              let fields = mapping(field.value, at: field.path, known: Self.serverKeys) else { return settings }
        if let listen = fields.given("listen"), let address = listenAddress(listen) {
            settings.listen = address
        }
        if let limit = fields.given("max_body_bytes"), let bytes = wholeNumber(limit) {
            if bytes < 1 || bytes > Int64(Int32.max) {
                problem("must be from 1 to \(Int32.max) bytes", at: limit.value, path: limit.path)
            } else {
                settings.maxBodyBytes = Int(bytes)
            }
        }
        return settings
    }

    func readAdmin(_ field: Field?, server: ServerSettings) -> AdminSettings {
        var settings = AdminSettings()
        guard let field, !field.value.isNull,
              let fields = mapping(field.value, at: field.path, known: Self.adminKeys) else { return settings }
        let listen = fields.given("listen")
        if let listen, let address = listenAddress(listen) {
            settings.listen = address
            if address == server.listen, !Self.asksForFreePort(address) {
                problem("the admin API must not share the public listener (\(address))", at: listen.value, path: listen.path)
            }
        }
        var tokenIsValid = true
        if let token = fields.given("token_sha256") {
            settings.tokenSHA256 = sha256Hex(token)
            tokenIsValid = settings.tokenSHA256 != nil
        }
        if let listen, settings.listen.isTCP, settings.tokenSHA256 == nil, tokenIsValid {
            problem("an admin API on TCP needs token_sha256, the SHA-256 of its token ('affhost keys hash' prints it)",
                    at: listen.value, path: listen.path)
        }
        return settings
    }

    func readStorage(_ field: Field?) -> StorageSettings {
        var settings = StorageSettings()
        guard let field, !field.value.isNull,
              let fields = mapping(field.value, at: field.path, known: Self.storageKeys) else { return settings }
        if let urlField = fields.given("url"), let url = nonEmptyText(urlField) {
            if let message = StorageURLValidation.problem(in: url) {
                problem(message, at: urlField.value, path: urlField.path)
            } else {
                settings.url = url
            }
        }
        return settings
    }

    func listenAddress(_ field: Field) -> ListenAddress? {
        guard let text = nonEmptyText(field) else { return nil }
        switch ListenAddress.parse(text) {
        case .success(let address): return address
        case .failure(let error):
            problem("invalid listen address: \(error.message)", at: field.value, path: field.path)
            return nil
        }
    }

    private static func asksForFreePort(_ address: ListenAddress) -> Bool {
        if case .tcp(_, 0) = address { return true }
        return false
    }
}
