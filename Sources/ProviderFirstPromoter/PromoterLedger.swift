import AffiliateCore

/// One promoter's rewards and payouts, from which its unpaid rewards follow (spec §5); its
/// balances come from the store's running totals instead (``Balances/init(rewards:payouts:tenant:)``).
struct PromoterLedger: Sendable {
    var rewards: [Reward]
    var payouts: [Payout]

    static let empty = PromoterLedger(rewards: [], payouts: [])

    /// The promoter's rewards and payouts, two tag-filtered lists read in one store call.
    static func read(promoterID: Int64, engine: TenantEngine) async throws -> PromoterLedger {
        try await PromoterLedger(try engine.read(records: [], lists: lists(promoterID: promoterID)).lists)
    }

    /// What ``init(_:)`` needs read: the promoter's rewards, then its payouts.
    static func lists(promoterID: Int64) -> [(resource: String, tags: [Tag])] {
        let tag = [Tag(TagName.promoterID, String(promoterID))]
        return [(ResourceName.rewards, tag), (ResourceName.payouts, tag)]
    }

    /// The ledger from the records of the two lists of ``lists(promoterID:)``, in that order.
    init(_ lists: [[Record]]) throws {
        rewards = []
        rewards.reserveCapacity(lists[0].count)
        for record in lists[0] {
            guard let reward = Reward(record: record) else { throw StoredDataError(resource: record.resource, id: record.id) }
            rewards.append(reward)
        }
        payouts = []
        payouts.reserveCapacity(lists[1].count)
        for record in lists[1] {
            guard let payout = Payout(record: record) else { throw StoredDataError(resource: record.resource, id: record.id) }
            payouts.append(payout)
        }
    }

    init(rewards: [Reward], payouts: [Payout]) {
        self.rewards = rewards
        self.payouts = payouts
    }

    /// Cash rewards in the campaign, in phase `in_progress` or `settled`, not attached to a live
    /// payout (one in phase `open`, `in_progress` or `settled`).
    ///
    /// Only a payout seen in phase `failed` or `void` frees its rewards. The two lists are read
    /// separately, so the rewards may already name a payout the payouts list does not show yet
    /// (a concurrent create just committed it): such a payout counts as live, and paying a
    /// reward twice cannot happen. Rewards read before that commit carry older versions, so
    /// attaching them fails the compare-and-set and the transaction re-runs on fresh data.
    func unpaidRewards(campaignID: Int64, tenant: TenantConfig) -> [Reward] {
        let rewardWords = tenant.statusPolicies[ResourceName.rewards]?.vocabulary
        let payoutWords = tenant.statusPolicies[ResourceName.payouts]?.vocabulary
        var freedPayouts = Set<Int64>()
        for payout in payouts {
            switch payoutWords?.phase(of: payout.status) {
            case .failed?, .void?: freedPayouts.insert(payout.id)
            default: continue
            }
        }
        return rewards.filter { reward in
            guard reward.unit == RewardUnit.cash, reward.campaignID == campaignID else { return false }
            switch rewardWords?.phase(of: reward.status) {
            case .inProgress?, .settled?: break
            default: return false
            }
            guard let payoutID = reward.payoutID else { return true }
            return freedPayouts.contains(payoutID)
        }
    }
}

/// The three balance objects of a promoter, ready to render.
struct Balances: Sendable {
    var earnings: JSONValue
    var current: JSONValue
    var paid: JSONValue

    static let none = Balances(earnings: .null, current: .null, paid: .null)

    /// The tags payout and reward amounts are totalled by: balances are per promoter, and
    /// nothing nests a campaign's sums.
    static let totalledBy = [TagName.promoterID]

    /// The running totals a promoter's balances are made of: its rewards', then its payouts'.
    static func totals(promoterID: Int64) -> [AmountTotalsQuery] {
        let tag = Tag(TagName.promoterID, String(promoterID))
        return [AmountTotalsQuery(ResourceName.rewards, tag: tag), AmountTotalsQuery(ResourceName.payouts, tag: tag)]
    }

    init(earnings: JSONValue, current: JSONValue, paid: JSONValue) {
        self.earnings = earnings
        self.current = current
        self.paid = paid
    }

    /// `earnings_balance`: rewards in phase `in_progress` or `settled`; `paid_balance`: settled
    /// payouts; `current_balance`: their difference over the units either has. The totals are
    /// kept per status word, so a reload that gives a word another phase shows at once.
    init(rewards: [AmountTotal], payouts: [AmountTotal], tenant: TenantConfig) {
        let rewardWords = tenant.statusPolicies[ResourceName.rewards]?.vocabulary
        let payoutWords = tenant.statusPolicies[ResourceName.payouts]?.vocabulary
        let earnings = rewards.sums { status in
            switch status.flatMap({ rewardWords?.phase(of: $0) }) {
            case .inProgress?, .settled?: true
            default: false
            }
        }
        let paid = payouts.sums { status in status.flatMap { payoutWords?.phase(of: $0) } == .settled }
        var current: [String: Int128] = [:]
        for unit in RewardUnit.all where earnings[unit] != nil || paid[unit] != nil {
            current[unit] = (earnings[unit] ?? 0) - (paid[unit] ?? 0)
        }
        self.init(earnings: Self.render(earnings), current: Self.render(current), paid: Self.render(paid))
    }

    /// One key per unit in the vendor's order, `null` when no unit has anything.
    static func render(_ sums: [String: Int128]) -> JSONValue {
        guard !sums.isEmpty else { return .null }
        var object = JSONObject()
        for unit in RewardUnit.all { if let sum = sums[unit] { object[unit] = .amount(sum) } }
        return .object(object)
    }
}
