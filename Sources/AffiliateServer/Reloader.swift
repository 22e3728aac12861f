import AffiliateConfig
import AffiliateCore
import Foundation

/// Runs reloads one after another: a second request waits for the first to finish and then
/// compares against what the first applied.
actor ReloadQueue {
    private var tail: Task<ReloadOutcome, Never>?
    private(set) var last: (outcome: ReloadOutcome, at: Timestamp)?

    func enqueue(_ operation: @escaping @Sendable () async -> ReloadOutcome) async -> ReloadOutcome {
        let previous = tail
        let task = Task {
            _ = await previous?.value
            return await operation()
        }
        tail = task
        let outcome = await task.value
        last = (outcome, .now())
        return outcome
    }
}

extension HostRuntime {
    /// Re-reads the file the server started with and, if every check passes, swaps the new
    /// snapshot in with one pointer change. On any problem nothing is applied.
    public func reload() async -> ReloadOutcome {
        let started = ContinuousClock.now
        let outcome = await reloads.enqueue { [self] in await self.buildAndSwap() }
        metrics?.recordReload(outcome, duration: ContinuousClock.now - started)
        if case .applied(let digest, _, _) = outcome { metrics?.serving(digest: digest) }
        switch outcome {
        case .applied, .unchanged:
            for line in outcome.summary { logger.info("\(line)") }
        case .refused:
            for line in outcome.summary { logger.error("\(line)") }
        }
        return outcome
    }

    public var lastReload: (outcome: ReloadOutcome, at: Timestamp)? {
        get async { await reloads.last }
    }

    private func buildAndSwap() async -> ReloadOutcome {
        let started = ContinuousClock.now
        let snapshot = snapshots.snapshot
        let current = snapshot.config
        guard let data = FileManager.default.contents(atPath: configPath) else {
            return .refused(problems: ["\(configPath): cannot read the file (it does not exist or is not readable)"])
        }
        let bytes = [UInt8](data)
        let digest = KeyDigest.sha256Hex(bytes: bytes)
        // An unchanged file is a no-op, unless a tenant reads a webhook secret from a file: a
        // rotation may rewrite only that file, and a reload must see it (webhooks.md §2).
        let rereadsSecretFiles = current.tenants.contains(where: \.readsWebhookSecretFiles)
        if digest == current.digest, !rereadsSecretFiles { return .unchanged(digest: digest) }

        // Tenants whose text is the served file's are taken as they are: they are the served
        // tenants, so nothing below compares them again.
        let loaded: LoadedConfig
        do {
            loaded = try loader.load(bytes: bytes, digest: digest, path: configPath, reusing: snapshot.source)
        } catch {
            return .refused(problems: error.problems.map(\.description))
        }
        let config = loaded.config
        let unchanged = loaded.reusedTenants

        var problems = restartOnlyProblems(current: current, new: config)
        do {
            problems += try await orphanedStatusProblems(current: current, new: config, unchanged: unchanged)
        } catch {
            problems.append("storage: cannot check stored statuses: \(error)")
        }
        guard problems.isEmpty else { return .refused(problems: problems) }

        let served = ServedConfig(snapshot: snapshot)
        let prepared = served.changedTenants(in: config, unchanged: unchanged)
        if digest == current.digest, prepared.isEmpty { return .unchanged(digest: digest) }
        do {
            try await HostRuntime.seed(prepared, into: store, logger: logger)
        } catch {
            return .refused(problems: ["storage: cannot load fixtures: \(error)"])
        }

        let next = ServedConfig(config, source: loaded.source)
        snapshots.replace(with: HostSnapshot(next))
        await applyWebhookChanges(next.config)
        let elapsed = ContinuousClock.now - started
        let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        var changes = ConfigChanges(from: current, to: next.config, unchanged: unchanged)
        let reported = Set(changes.tenantsChanged)
        for tenant in prepared where current.tenantsByID[tenant.id] != nil && !reported.contains(tenant.id) {
            changes.tenantsChanged.append(tenant.id)
        }
        return .applied(digest: config.digest, changes: changes, milliseconds: milliseconds)
    }

    /// Listeners and the store are bound once; changing them needs a restart, and saying so is
    /// better than serving half of the new file.
    private func restartOnlyProblems(current: HostConfig, new: HostConfig) -> [String] {
        var problems: [String] = []
        if new.storage != current.storage {
            problems.append("\(configPath): storage.url: changing the store needs a restart (serving \(current.storage.url))")
        }
        if new.server.listen != current.server.listen {
            problems.append("\(configPath): server.listen: changing the listen address needs a restart (serving \(current.server.listen))")
        }
        if new.admin.listen != current.admin.listen {
            problems.append("\(configPath): admin.listen: changing the admin address needs a restart (serving \(current.admin.listen))")
        }
        return problems
    }

    /// A vocabulary that drops a word still used by stored records would strand them. Only
    /// tenants whose vocabularies changed (or that come back) are checked, so a reload of a large
    /// file costs a query per changed tenant, not per tenant.
    private func orphanedStatusProblems(
        current: HostConfig, new: HostConfig, unchanged: Set<String>
    ) async throws -> [String] {
        var checks: [(tenant: String, resource: String, vocabulary: Vocabulary)] = []
        for tenant in new.tenants where !unchanged.contains(tenant.id) {
            let previous = current.tenantsByID[tenant.id]
            for (resource, policy) in tenant.statusPolicies.sorted(by: { $0.key < $1.key }) {
                if let previous, previous.dialect == tenant.dialect, previous.statusPolicies[resource]?.vocabulary == policy.vocabulary {
                    continue
                }
                checks.append((tenant.id, resource, policy.vocabulary))
            }
        }
        let stored = try await store.statusCounts(of: checks.map { (tenant: $0.tenant, resource: $0.resource) })
        var problems: [String] = []
        for (check, counts) in zip(checks, stored) {
            for (word, count) in counts.sorted(by: { $0.key < $1.key }) where count > 0 && !check.vocabulary.contains(word) {
                let records = count == 1 ? "1 record still uses" : "\(count) records still use"
                problems.append(
                    "\(configPath): tenants.\(check.tenant).statuses.\(check.resource): \(records) status \"\(word)\"; keep the word or map it to a phase"
                )
            }
        }
        return problems
    }

    /// The webhook side of a swap (webhooks.md §5.6): the queues of removed endpoints are
    /// cancelled, and the worker looks again at once (a new URL lifts a 410 pause). A failure
    /// is logged; the worker's start and the next reload cancel again.
    func applyWebhookChanges(_ config: HostConfig) async {
        guard let webhookQueue else { return }
        do {
            let cancelled = try await webhookQueue.cancelDeliveries(keeping: config.webhookEndpointKeys)
            if cancelled > 0 { logger.info("webhook deliveries cancelled", metadata: ["count": "\(cancelled)"]) }
        } catch {
            logger.warning("webhook deliveries of removed endpoints not cancelled", metadata: ["error": "\(error)"])
        }
        webhookQueue.webhookCommits.ring()
    }
}
