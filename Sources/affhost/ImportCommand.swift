import AffiliateConfig
import AffiliateCore
import AffiliateServer
import ArgumentParser
import Foundation
import Logging
import ProviderVantio

/// `affhost import`: loads records the Vantio API cannot create (users, posters, impressions;
/// referrals and earnings too) into a vantio-v1 tenant's storage, all rows or none.
struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Load users, posters and impressions (or referrals, earnings) into a vantio-v1 tenant.",
        discussion: """
            FILE is a .csv file with a header row naming the fields (an empty cell leaves a field \
            out; a metadata cell holds a JSON object), a .json array of rows, or a .json object \
            shaped like the fixtures ({"users": [...], "posters": [...], ...}). The resource of a CSV \
            file or JSON array is --resource, or else the file's name (users.csv).

            Every row is validated first, including its references to rows of the file and to \
            records already stored. If any row is bad, every bad row is printed with its line and \
            nothing is written (exit 1). Otherwise all rows are written in one transaction; rows \
            whose id is already stored are left as they are. Safe while the server runs.

            Examples:
              affhost import --tenant campus users.csv
              affhost import --tenant campus --resource impressions scans.json
              affhost import --tenant campus --config /etc/affhost/affhost.yaml records.json
            """
    )

    @Option(help: "The vantio-v1 tenant to load into.")
    var tenant: String

    @Option(help: "What a CSV file or JSON array holds: users, posters, impressions, referrals or earnings.")
    var resource: String?

    @Option(help: "The configuration file naming the tenant and its storage.")
    var config = "config/affhost.yaml"

    @Argument(help: "The .csv or .json file to import.")
    var file: String

    /// What an import printed: the summary on success, else every problem.
    struct Outcome: Equatable {
        var summary: String?
        var problems: [String]
    }

    func run() async throws {
        let outcome = try await perform()
        if let summary = outcome.summary {
            print(summary)
        } else {
            for line in outcome.problems { printError(line) }
            throw ExitCode(1)
        }
    }

    /// Does the import; problems with the file come back in the outcome, problems with the
    /// command line (tenant, config) are thrown.
    func perform() async throws -> Outcome {
        let hostConfig: HostConfig
        do {
            hostConfig = try ConfigLoader(registry: affhostProviders).load(path: config)
        } catch {
            return Outcome(problems: error.problems.map(\.description) + ["\(config) has problems; nothing was imported"])
        }
        guard let tenantConfig = hostConfig.tenantsByID[tenant] else {
            let known = hostConfig.tenants.map(\.id).joined(separator: ", ")
            throw ValidationError("no tenant \"\(tenant)\" in \(config) (tenants: \(known.isEmpty ? "none" : known))")
        }
        guard tenantConfig.dialect == VantioProvider().dialect else {
            throw ValidationError(
                "tenant \"\(tenant)\" speaks \(tenantConfig.dialect); import loads vantio-v1 tenants only"
            )
        }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ValidationError("cannot read \(file)")
        }
        let imported: VantioImport
        switch VantioImport.read(Array(data), fileName: file, resource: resource) {
        case .success(let read): imported = read
        case .failure(let failure): return failed(failure.problems)
        }

        var logger = Logger(label: "affhost.import")
        logger.logLevel = .warning
        let store = try await StoreOpener.open(hostConfig.storage, registry: affhostProviders, logger: logger)
        do {
            let outcome = try await write(imported, tenant: tenantConfig, store: store)
            try await store.close()
            return outcome
        } catch {
            try? await store.close()
            throw error
        }
    }

    /// Validates the rows against the file and what is stored, then writes them in one
    /// transaction.
    private func write(_ imported: VantioImport, tenant: TenantConfig, store: any Store) async throws -> Outcome {
        // Rows may reference any resource but earnings, which nothing references.
        var existing: [Record] = []
        for resource in VantioSeed.sections where resource != "earnings" {
            existing += try await store.records(matching: RecordQuery(tenant: tenant.id, resource: resource)).records
        }
        let seed: SeedData
        do {
            seed = try VantioSeed(tenant: tenant, existing: existing).read(imported.document)
        } catch {
            return failed(imported.problems(error))
        }
        let added = try await store.seed(seed, tenant: tenant.id)
        let present = seed.records.count - added
        let summary = "\(file): \(added) record\(added == 1 ? "" : "s") added to tenant \(tenant.id)"
            + (present > 0 ? ", \(present) already present (left as they were)" : "")
        return Outcome(summary: summary, problems: [])
    }

    private func failed(_ problems: [VantioImport.Problem]) -> Outcome {
        let lines = problems.map { problem in
            problem.line.map { "\(file):\($0): \(problem.message)" } ?? "\(file): \(problem.message)"
        }
        let count = "\(problems.count) problem\(problems.count == 1 ? "" : "s")"
        return Outcome(problems: lines + ["\(file): \(count); nothing was imported"])
    }
}
