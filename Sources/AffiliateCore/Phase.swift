/// The engine's only notion of what a status word means.
///
/// Dialects and tenants pick their own words; every word maps to one phase, and the phase alone
/// decides side effects such as paid dates and balances, so renaming a word never needs code.
public enum Phase: String, Sendable, CaseIterable, Codable, Hashable {
    /// Initial, not yet in payment.
    case open
    /// Being worked on; counts as owed but no money has moved.
    case inProgress = "in_progress"
    /// Money has moved (or, for referrals, the signup is verified).
    case settled
    case failed
    /// Cancelled, denied, rejected.
    case void
}
