import AffiliateConfig
import Foundation
import AffiliateCore
import Hummingbird
import Logging
import Metrics
import NIOCore
import ServiceLifecycle
import UnixSignals

/// A started affhost: its store, its current configuration snapshot and its listeners.
///
/// Created by ``HostRuntime/start(configPath:registry:documents:logger:accessLog:metrics:)``, which refuses to start on any
/// configuration or storage problem, so a running host always serves a complete snapshot.
public final class HostRuntime: Sendable {
    public let configPath: String
    public let registry: ProviderRegistry
    /// The compiled-in dialects' OpenAPI documents, served on the admin listener.
    public let documents: DialectDocuments
    public let loader: ConfigLoader
    public let store: any Store
    public let snapshots: SnapshotCell
    public let logger: Logger
    public let startedAt: Timestamp
    /// What `GET /metrics` on the admin listener reports; `nil` when `serve --metrics off`.
    public let metrics: HostMetrics?
    /// Where one line per request goes; `nil` when `serve --access-log off`.
    let accessLog: AccessLog?
    let reloads = ReloadQueue()
    /// The store's webhook outbox, which the delivery worker and the admin API use.
    public let webhookQueue: (any WebhookQueue)?
    let webhookMetrics: WebhookMetrics?

    init(
        configPath: String, registry: ProviderRegistry, documents: DialectDocuments, loader: ConfigLoader, store: any Store,
        snapshot: HostSnapshot, logger: Logger, metrics: HostMetrics?, accessLog: AccessLog?
    ) {
        self.configPath = configPath
        self.registry = registry
        self.documents = documents
        self.loader = loader
        self.store = store
        self.snapshots = SnapshotCell(snapshot)
        self.logger = logger
        self.startedAt = .now()
        self.metrics = metrics
        self.accessLog = accessLog
        let queue = store as? any WebhookQueue
        self.webhookQueue = queue
        let webhookMetrics = metrics.map(WebhookMetrics.init)
        self.webhookMetrics = webhookMetrics
        if let webhookMetrics { queue?.webhookCommits.observe(webhookMetrics) }
        metrics?.serving(digest: snapshot.config.digest)
    }

    /// The service that sends queued webhook deliveries; `serve` runs it beside the listeners.
    public func webhookWorker() -> (any Service)? {
        guard let webhookQueue else { return nil }
        return WebhookDeliveryWorker(
            queue: webhookQueue, snapshots: snapshots, metrics: webhookMetrics, logger: logger,
            owner: WebhookDeliveryWorker.instanceName()
        )
    }

    /// Loads and validates the file, opens (and migrates) the store and loads every tenant's
    /// fixtures. Throws ``ConfigErrors`` or the store's error; nothing is served until this returns.
    ///
    /// - Parameters:
    ///   - documents: the compiled-in dialects' OpenAPI documents, served on the admin listener.
    ///   - accessLog: receives one line per request; `nil` writes none.
    ///   - metrics: counts requests, reloads and the store's commits; `nil` counts nothing.
    public static func start(
        configPath: String, registry: ProviderRegistry, documents: DialectDocuments, logger: Logger,
        accessLog: AccessLog? = nil, metrics: HostMetrics? = HostMetrics()
    ) async throws -> HostRuntime {
        let loader = ConfigLoader(registry: registry)
        let loaded = try loader.loadFile(path: configPath)
        let config = loaded.config
        let store = try await StoreOpener.open(
            config.storage, registry: registry, logger: logger, metrics: metrics?.factory ?? NOOPMetricsHandler.instance
        )
        do {
            try await seed(config.tenants, into: store, logger: logger)
        } catch {
            try? await store.close()
            throw error
        }
        return HostRuntime(
            configPath: configPath, registry: registry, documents: documents, loader: loader, store: store,
            snapshot: HostSnapshot(ServedConfig(config, source: loaded.source)), logger: logger,
            metrics: metrics, accessLog: accessLog
        )
    }

    /// Inserts each tenant's fixture records that are not stored yet; existing ids are kept as
    /// clients left them, so restarts and reloads never undo their changes.
    static func seed(_ tenants: [TenantConfig], into store: any Store, logger: Logger) async throws {
        for tenant in tenants where !tenant.seed.isEmpty {
            let added = try await store.seed(tenant.seed, tenant: tenant.id)
            if added > 0 {
                logger.info("fixtures loaded", metadata: ["tenant": .string(tenant.id), "records": .stringConvertible(added)])
            }
        }
    }

    public var config: HostConfig { snapshots.snapshot.config }

    /// The public API application, listening where `server.listen` says.
    public func publicApplication(
        listen: ListenAddress? = nil,
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let responder = HostResponder(
            snapshots: snapshots, registry: registry, store: store, metrics: metrics, accessLog: accessLog
        )
        let address = listen ?? config.server.listen
        return Application(
            responder: responder,
            configuration: ApplicationConfiguration(address: address.bindAddress, serverName: "affhost"),
            onServerRunning: onServerRunning,
            logger: logger
        )
    }

    /// The admin API application on `admin.listen`; a unix socket is made private (0600).
    public func adminApplication(
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        let address = config.admin.listen
        if case .unix(let path) = address {
            try prepareSocketPath(path)
        }
        return Application(
            router: AdminAPI(runtime: self).router(),
            configuration: ApplicationConfiguration(address: address.bindAddress, serverName: "affhost-admin"),
            onServerRunning: { channel in
                if case .unix(let path) = address { chmod(path, 0o600) }
                await onServerRunning(channel)
            },
            logger: logger
        )
    }

    /// Serves the public and admin listeners until SIGTERM/SIGINT, reloading on SIGHUP; then
    /// finishes requests in flight and closes the store.
    public func run() async throws {
        let config = self.config
        let app = publicApplication(onServerRunning: { [logger, store] _ in
            logger.info("serving", metadata: [
                "listen": .string(config.server.listen.description),
                "admin": .string(config.admin.listen.description),
                "tenants": .stringConvertible(config.tenants.count),
                "store": .string(store.description),
            ])
        })
        let admin = try adminApplication()
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: app), .init(service: admin), .init(service: HangupReloader(runtime: self)),
        ]
        if let worker = webhookWorker() { services.append(.init(service: worker)) }
        let group = ServiceGroup(
            configuration: .init(
                services: services,
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger
            )
        )
        try await group.run()
        try await store.close()
        if case .unix(let path) = config.admin.listen { unlink(path) }
    }

    /// Creates the socket's folder and removes a socket file left by a previous run, which
    /// would otherwise make the bind fail.
    private func prepareSocketPath(_ path: String) throws {
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        var info = stat()
        if lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFSOCK { unlink(path) }
    }
}

/// SIGHUP reloads the configuration, like `affhost reload`; the outcome goes to the log.
struct HangupReloader: Service {
    let runtime: HostRuntime

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        for await _ in signals.cancelOnGracefulShutdown() {
            runtime.logger.info("SIGHUP: reloading \(runtime.configPath)")
            _ = await runtime.reload()
        }
    }
}

extension ListenAddress {
    var bindAddress: BindAddress {
        switch self {
        case .tcp(let host, let port): .hostname(host, port: port)
        case .unix(let path): .unixDomainSocket(path: path)
        }
    }
}
