import AffiliateCore

/// `campaigns:`: read-only campaigns served by dialects that have them.
extension ConfigReader {
    static let campaignKeys = [
        "id", "name", "landing_url", "description", "private", "color", "default_webhook_url",
        "auto_approve_rewards", "auto_approve_promoters",
    ]

    func readCampaigns(_ field: Field) -> [Campaign] {
        guard let nodes = list(field, expected: "a list of campaigns") else { return [] }
        var campaigns: [Campaign] = []
        var idLines: [Int64: Int] = [:]
        for (index, node) in nodes.enumerated() {
            guard let fields = mapping(node, at: ConfigPath.index(field.path, index), known: Self.campaignKeys) else {
                continue
            }
            if let campaign = readCampaign(fields, idLines: &idLines) { campaigns.append(campaign) }
        }
        return campaigns
    }

    private func readCampaign(_ fields: Fields, idLines: inout [Int64: Int]) -> Campaign? {
        var id: Int64?
        if let idField = fields["id"] {
            if let number = wholeNumber(idField) {
                if number < 1 {
                    problem("campaign id must be a positive whole number", at: idField.value, path: idField.path)
                } else if let first = idLines[number] {
                    problem("duplicate campaign id \(number) (first at line \(first))", at: idField.value, path: idField.path)
                } else {
                    idLines[number] = idField.valuePosition.line
                    id = number
                }
            }
        } else {
            missing("id", in: fields)
        }
        let name = requiredText("name", in: fields)
        let landingURL = requiredText("landing_url", in: fields)
        let defaults = Campaign(id: 0, name: "", landingURL: "")
        var complete = true
        func optional<T>(_ key: String, _ read: (Field) -> T?, default value: T) -> T {
            guard let field = fields.given(key) else { return value }
            guard let read = read(field) else {
                complete = false
                return value
            }
            return read
        }
        let description: String? = optional("description", { self.text($0) }, default: nil)
        let isPrivate = optional("private", bool, default: defaults.isPrivate)
        if let colorField = fields["color"], colorField.value.isNull {
            // `color: #00bcd4` unquoted is a comment, which leaves the key empty.
            problem("expected a string, found null (quote colors: \"#00bcd4\")", at: colorField.value, path: colorField.path)
            complete = false
        }
        let color = optional("color", { self.text($0) }, default: defaults.color)
        let webhook = optional("default_webhook_url", { self.text($0) }, default: defaults.defaultWebhookURL)
        let rewards = optional("auto_approve_rewards", bool, default: defaults.autoApproveRewards)
        let promoters = optional("auto_approve_promoters", bool, default: defaults.autoApprovePromoters)
        guard complete, let id, let name, let landingURL else { return nil }
        return Campaign(
            id: id, name: name, landingURL: landingURL, description: description, isPrivate: isPrivate, color: color,
            defaultWebhookURL: webhook, autoApproveRewards: rewards, autoApprovePromoters: promoters)
    }
}
