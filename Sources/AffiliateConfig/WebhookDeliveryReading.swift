import AffiliateCore

/// `webhook_delivery:`: the host's retry schedule, concurrency limits, polling and retention for
/// every tenant's webhooks (webhooks.md §2). Absent or empty: the spec's defaults.
extension ConfigReader {
    static let webhookDeliveryKeys = ["retry_schedule", "max_in_flight_per_endpoint", "max_in_flight", "poll_interval", "retention"]
    /// Limits on attempts in flight: at least one, and no more than a process sensibly holds open.
    static let inFlightRange = 1...10_000

    func readWebhookDelivery(_ field: Field?) -> WebhookDeliverySettings {
        var settings = WebhookDeliverySettings()
        guard let field, !field.value.isNull,
              let fields = mapping(field.value, at: field.path, known: Self.webhookDeliveryKeys) else { return settings }
        if let scheduleField = fields.given("retry_schedule"), let schedule = readRetrySchedule(scheduleField) {
            settings.retrySchedule = schedule
        }
        if let limit = fields.given("max_in_flight_per_endpoint").flatMap(inFlightLimit) {
            settings.maxInFlightPerEndpoint = limit
        }
        if let limit = fields.given("max_in_flight").flatMap(inFlightLimit) {
            settings.maxInFlight = limit
        }
        if let interval = fields.given("poll_interval").flatMap({ duration($0, minimum: (.milliseconds(100), "100ms"),
                                                                            maximum: (.seconds(3600), "1h")) }) {
            settings.pollInterval = interval
        }
        if let retention = fields.given("retention").flatMap({ duration($0, minimum: (.seconds(60), "1m")) }) {
            settings.retention = retention
        }
        return settings
    }

    /// 1 to 20 delays, each at least 100 ms; every bad entry is reported.
    private func readRetrySchedule(_ field: Field) -> [Duration]? {
        guard let nodes = list(field, expected: "a list of durations") else { return nil }
        let length = WebhookDeliverySettings.retryScheduleLength
        guard length.contains(nodes.count) else {
            problem("must list from \(length.lowerBound) to \(length.upperBound) delays, found \(nodes.count)",
                    at: field.value, path: field.path)
            return nil
        }
        var schedule: [Duration] = []
        for (index, node) in nodes.enumerated() {
            if let delay = duration(node, path: ConfigPath.index(field.path, index),
                                    minimum: (WebhookDeliverySettings.minimumRetryDelay, "100ms")) {
                schedule.append(delay)
            }
        }
        return schedule.count == nodes.count ? schedule : nil
    }

    private func inFlightLimit(_ field: Field) -> Int? {
        guard let number = wholeNumber(field) else { return nil }
        guard let value = Int(exactly: number), Self.inFlightRange.contains(value) else {
            problem("must be from \(Self.inFlightRange.lowerBound) to \(Self.inFlightRange.upperBound)",
                    at: field.value, path: field.path)
            return nil
        }
        return value
    }
}
