import AffiliateCore
import Foundation

/// A loaded configuration file as the next load of it can reuse it: its bytes and, for each
/// tenant read from a stretch of text that depends on nothing else in the file, that stretch
/// and the ``TenantConfig`` it gave.
///
/// A reload of a thousand-tenant file that changes one tenant then composes and validates that
/// one tenant; the others are taken as they were once their text is found byte for byte where
/// they now stand. Cross-tenant checks (duplicate tenant ids and key hashes) still see every
/// tenant, and positions are shifted by the lines a tenant moved.
public struct ConfigSource: Sendable {
    /// SHA-256 of ``bytes``: the file this source was read from.
    public let digest: String
    let bytes: [UInt8]
    let tenants: [String: TenantSource]
    /// The dialects the tenants were validated against; another set means nothing is reused.
    let dialects: [String]

    /// How many tenants a later load may take as they are.
    public var reusableTenantCount: Int { tenants.count }
}

/// One tenant's text in a ``ConfigSource`` and what reading it gave.
///
/// Only tenants that name no fixture file (its records live on disk, may change while the YAML
/// does not, and are not kept in memory), no webhook secret file (rotated by rewriting the file,
/// which a reload must see) and whose text holds no anchor or alias (its meaning would depend on
/// text elsewhere) get one.
struct TenantSource: Sendable {
    /// The tenant's mapping, from its first key up to the next token after it.
    let bytes: Range<Int>
    /// Where the mapping starts.
    let position: Position
    /// The column of the tenant ids: the same text under another indentation is not the same YAML.
    let idColumn: Int
    /// See ``TenantSpan/following``.
    let following: UInt8?
    let config: TenantConfig
    /// Where each key's `sha256` value is, in `config.apiKeys` order, so that a later duplicate
    /// of one of them is reported at the right line.
    let keyHashPositions: [Position]

    /// The same tenant found `lineShift` lines further down in a new file.
    func moved(to span: TenantSpan, lineShift: Int) -> TenantSource {
        TenantSource(
            bytes: span.bytes, position: span.position, idColumn: span.idColumn, following: span.following,
            config: config, keyHashPositions: keyHashPositions.map { Position(line: $0.line + lineShift, column: $0.column) })
    }
}

/// What a server gets from loading its file: the configuration, the source its next reload
/// reuses, and which tenants were reused from the previous source.
public struct LoadedConfig: Sendable {
    public let config: HostConfig
    public let source: ConfigSource
    /// Tenants taken as they were from the source passed in: their text did not change, so
    /// their configuration is the one read from it before.
    public let reusedTenants: Set<String>
}

extension UnsafeBufferPointer<UInt8> {
    /// Whether `count` bytes from `offset` are `other`'s bytes in `range`.
    func matches(_ other: [UInt8], in range: Range<Int>, at offset: Int) -> Bool {
        guard offset >= 0, offset + range.count <= count, range.upperBound <= other.count else { return false }
        guard let base = baseAddress, !range.isEmpty else { return range.isEmpty }
        return other.withUnsafeBufferPointer { theirs in
            memcmp(base + offset, theirs.baseAddress! + range.lowerBound, range.count) == 0
        }
    }
}
