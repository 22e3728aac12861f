import AffiliateCore
import Testing

/// Every store the conformance suite runs against. A new store joins by adding its kind here.
extension StoreKind {
    static let all: [StoreKind] = [.sqlite] + postgresWhenInstalled
}

/// One kind of store, as the conformance suite sees it.
struct StoreKind: Sendable, CustomTestStringConvertible {
    let name: String
    /// Makes a fresh, empty place for a store of this kind (a file in a new temporary folder,
    /// a new database), from which it can be opened as often as a test needs.
    let makePlace: @Sendable () async throws -> StorePlace

    var testDescription: String { name }
}

/// Where one test keeps its data.
struct StorePlace: Sendable {
    /// Opens (and migrates) the store kept here.
    let open: @Sendable () async throws -> any Store
    /// Removes everything kept here; called once, after every store opened here is closed.
    let destroy: @Sendable () async throws -> Void
}
