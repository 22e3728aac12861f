/// A quantity a record carries, such as a payout's amount in cents of its unit.
///
/// The engine keeps running totals of amounts, per status and unit, for each value of the
/// tags the amount names (``AmountTotal``). A response that nests a sum (a promoter's balances)
/// then reads a few rows however long the history behind it is, and the totals move in the same
/// commit as the records, so they never disagree with them.
public struct Amount: Sendable, Hashable {
    /// Wide, because sums of client-sent 64-bit amounts must not overflow.
    public var value: Int128
    public var unit: String
    /// The tag names (`promoter_id`) whose values get running totals of this amount. Only the
    /// sums a response nests: a tag most records share (a campaign) would make its total one
    /// row that every write of the program updates, which writers on several instances then
    /// take turns to lock.
    public var totalsBy: [String]

    public init(_ value: Int128, unit: String, totalsBy: [String]) {
        self.value = value
        self.unit = unit
        self.totalsBy = totalsBy
    }

    /// The record's tags, without repeats, that get totals of this amount.
    public func totalled(_ tags: [Tag]) -> [Tag] {
        tags.withoutRepeats.filter { totalsBy.contains($0.name) }
    }
}

/// How a dialect finds the amount in one of its stored records. Stores written before amounts
/// were kept apart derive them once with it (``Store/deriveAmounts(_:)``).
public typealias AmountRule = @Sendable (Record) -> Amount?

/// The running totals of one resource's records that carry one tag (`promoter_id` = 7).
public struct AmountTotalsQuery: Sendable, Hashable {
    public var resource: String
    public var tag: Tag

    public init(_ resource: String, tag: Tag) {
        self.resource = resource
        self.tag = tag
    }
}

/// The records of one status and unit among those a query names: how many, and their sum.
///
/// Totals are kept per status word, not per phase: a reload may give a word another phase, and
/// the phase sums then follow at once from the same rows.
public struct AmountTotal: Sendable, Hashable {
    /// `nil` for records without a status.
    public var status: String?
    public var unit: String
    public var count: Int64
    public var sum: Int128

    public init(status: String?, unit: String, count: Int64, sum: Int128) {
        self.status = status
        self.unit = unit
        self.count = count
        self.sum = sum
    }
}

extension [AmountTotal] {
    /// The sums per unit of the records whose status `include` accepts; a unit no such record
    /// has is absent (not 0).
    public func sums(where include: (String?) -> Bool) -> [String: Int128] {
        var sums: [String: Int128] = [:]
        for total in self where total.count > 0 && include(total.status) {
            sums[total.unit, default: 0] += total.sum
        }
        return sums
    }
}
