import AffiliateCore

/// What the configuration needs to know about each compiled-in dialect, indexed once per load
/// so that checking ten thousand tenants never searches a provider's lists linearly.
struct DialectCatalog {
    struct Dialect {
        let provider: any Provider
        let resourceNames: [String]
        let resources: [String: ResourceDescriptor]
        let knownPhases: [String: [String: Phase]]
        let settingNames: [String]
        let settings: [String: SettingDescriptor]
        let defaultPolicies: [String: StatusPolicy]
        /// The events `webhooks[].events` may name, in the dialect's order.
        let webhookEvents: [String]
    }

    let names: [String]
    private let byName: [String: Dialect]
    /// Setting name -> dialects declaring it, for "that is a setting of vantio-v1".
    private let settingOwners: [String: [String]]

    init(registry: ProviderRegistry) {
        var byName: [String: Dialect] = [:]
        var owners: [String: [String]] = [:]
        for provider in registry.providers where byName[provider.dialect] == nil {
            var resources: [String: ResourceDescriptor] = [:]
            var phases: [String: [String: Phase]] = [:]
            var policies: [String: StatusPolicy] = [:]
            for resource in provider.resources {
                resources[resource.name] = resource
                phases[resource.name] = Dictionary(resource.knownWords.map { ($0.word, $0.phase) },
                                                   uniquingKeysWith: { first, _ in first })
                if !resource.defaultWords.isEmpty {
                    policies[resource.name] = StatusPolicy(vocabulary: resource.defaultVocabulary)
                }
            }
            var settings: [String: SettingDescriptor] = [:]
            for setting in provider.settings where settings[setting.name] == nil {
                settings[setting.name] = setting
                owners[setting.name, default: []].append(provider.dialect)
            }
            byName[provider.dialect] = Dialect(
                provider: provider, resourceNames: provider.resources.map(\.name), resources: resources,
                knownPhases: phases, settingNames: provider.settings.map(\.name), settings: settings,
                defaultPolicies: policies, webhookEvents: provider.webhookEvents)
        }
        self.names = registry.dialects
        self.byName = byName
        self.settingOwners = owners
    }

    subscript(name: String) -> Dialect? { byName[name] }

    func dialects(declaring setting: String) -> [String] { settingOwners[setting] ?? [] }
}
