/// Everything the engine can refuse, in dialect-neutral terms.
///
/// Providers render each case in their own error shape; the engine never knows that shape.
public enum EngineError: Error, Sendable, Equatable {
    /// No such record in this tenant (records of other tenants are reported the same way).
    case notFound(resource: String)
    case invalidStatus(resource: String, word: String, allowed: [String])
    case transitionNotAllowed(resource: String, from: String, to: String)
    /// A value that must be unique in the tenant is already claimed by another record.
    case alreadyTaken(resource: String, field: String, value: String)
    /// An idempotency key was used before with another payload.
    case idempotencyConflict(key: String)
    /// Concurrent writers kept changing the same records; the request may be retried.
    case contention
    /// The store cannot be reached or refused the operation; the request may be retried later.
    case unavailable(reason: String)
}
