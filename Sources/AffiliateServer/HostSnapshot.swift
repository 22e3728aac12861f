import AffiliateConfig
import AffiliateCore
import Synchronization

/// One configuration as the server serves it. Immutable: a reload builds a new one.
public final class HostSnapshot: Sendable {
    /// The configuration without fixture records (see ``ServedConfig``).
    public let config: HostConfig
    public let loadedAt: Timestamp
    let seedFingerprints: [String: Int]
    /// The file's text as the next reload reuses it.
    let source: ConfigSource

    init(_ served: ServedConfig, loadedAt: Timestamp = .now()) {
        self.config = served.config
        self.seedFingerprints = served.seedFingerprints
        self.source = served.source
        self.loadedAt = loadedAt
    }
}

/// The current snapshot. Each request reads it once and keeps that reference to the end, so a
/// reload swaps one pointer and never changes the ground under a request in flight.
public final class SnapshotCell: Sendable {
    private let current: Mutex<HostSnapshot>

    public init(_ snapshot: HostSnapshot) { self.current = Mutex(snapshot) }

    public var snapshot: HostSnapshot { current.withLock { $0 } }

    public func replace(with snapshot: HostSnapshot) {
        current.withLock { $0 = snapshot }
    }
}
