import AffiliateCore
import PostgresNIO

/// Turns postgres-nio's errors into ``StoreFailure`` messages an operator can act on.
///
/// postgres-nio deliberately describes every `PSQLError` as a generic "database error" so that
/// nothing leaks to end users; affhost's messages go to the operator's terminal and log, so they
/// name the server, the user and the database, and never the password.
extension PostgresLocation {
    /// Why the first connection at open failed.
    func openFailure(_ error: any Error) -> StoreFailure {
        guard let error = error as? PSQLError else {
            return StoreFailure("cannot connect to PostgreSQL at \(serverName): \(Self.reason(error))")
        }
        switch error.code {
        case .connectionError:
            let reason = error.underlying.map(Self.reason) ?? "connection failed"
            return StoreFailure("cannot reach PostgreSQL at \(serverName): \(reason)")
        case .server:
            let state = error.serverInfo?[.sqlState] ?? ""
            let message = error.serverInfo?[.message] ?? "refused"
            switch state {
            case "28P01":
                return StoreFailure(
                    "PostgreSQL at \(serverName) refused the password of user \"\(user)\" (\(message))"
                )
            case "3D000":
                return StoreFailure(
                    "database \"\(database)\" does not exist on PostgreSQL at \(serverName): create it (createdb \(database)) or fix storage.url"
                )
            case "28000":
                return StoreFailure("PostgreSQL at \(serverName) does not let user \"\(user)\" in: \(message)")
            default:
                return StoreFailure("PostgreSQL at \(serverName) refused the connection: \(message) (SQLSTATE \(state))")
            }
        case .authMechanismRequiresPassword:
            return StoreFailure(
                "PostgreSQL at \(serverName) asks for the password of user \"\(user)\" and none was given: "
                    + "put it in storage.url, in \(Self.passwordVariable) or in a password file"
            )
        case .unsupportedAuthMechanism:
            return StoreFailure("PostgreSQL at \(serverName) asks for an authentication method affhost does not support")
        case .sslUnsupported:
            return StoreFailure(
                "PostgreSQL at \(serverName) does not offer TLS, which sslmode=\(tlsMode.rawValue) requires"
            )
        case .serverClosedConnection, .uncleanShutdown:
            return StoreFailure("PostgreSQL at \(serverName) closed the connection while affhost was logging in")
        default:
            return StoreFailure("cannot connect to PostgreSQL at \(serverName): \(error.code)")
        }
    }

    /// Why a call failed while serving. The engine answers these as 503, and the text is the
    /// reason it logs.
    func serviceFailure(_ error: any Error) -> any Error {
        switch error {
        case is StoreConflict, is StoreFailure, is CancellationError, is ChangeRefused:
            return error
        case let error as PSQLError:
            switch error.code {
            case .server:
                let state = error.serverInfo?[.sqlState] ?? ""
                let message = error.serverInfo?[.message] ?? "error"
                return StoreFailure("PostgreSQL at \(serverName) refused the operation: \(message) (SQLSTATE \(state))")
            case .connectionError:
                let reason = error.underlying.map(Self.reason) ?? "connection failed"
                return StoreFailure("PostgreSQL at \(serverName) is unavailable: \(reason)")
            case .serverClosedConnection, .clientClosedConnection, .uncleanShutdown:
                return StoreFailure("PostgreSQL at \(serverName) is unavailable: the connection was lost")
            case .poolClosed:
                return StoreFailure("the PostgreSQL store for \(serverName) is closed")
            default:
                return StoreFailure("PostgreSQL at \(serverName) failed: \(error.code)")
            }
        case let error as DeadlineExceeded:
            return StoreFailure(error.description)
        default:
            // The pool's own errors: their type is not public API, so they are told by name.
            if "\(type(of: error))" == "ConnectionPoolError" {
                let text = String(reflecting: error)
                if ReconnectingClient.poolGaveUp(error) {
                    return StoreFailure("PostgreSQL at \(serverName) is unavailable: no connection could be made for a minute")
                } else if text.contains("poolShutdown") {
                    return StoreFailure("the PostgreSQL store for \(serverName) is closed")
                } else if text.contains("requestCancelled") {
                    return CancellationError()
                }
            }
            return StoreFailure("PostgreSQL at \(serverName) failed: \(Self.reason(error))")
        }
    }

    /// The OS's words for a socket error ("Connection refused") rather than NIO's type dump.
    static func reason(_ error: any Error) -> String {
        switch error {
        case let error as NIOConnectionError:
            if let first = error.connectionErrors.first { return reason(first.error) }
            if let dns = error.dnsAAAAError ?? error.dnsAError { return "the host name cannot be resolved (\(reason(dns)))" }
            return "connection failed"
        case let error as IOError:
            return String(cString: strerror(error.errnoCode)).lowercased()
        case let error as ChannelError:
            if case .connectTimeout(let amount) = error {
                return "no answer within \(amount.nanoseconds / 1_000_000_000) s"
            }
            return String(describing: error)
        case let error as PSQLError:
            return String(describing: error.code)
        default:
            return String(describing: error)
        }
    }
}

extension PSQLError {
    /// `deadlock_detected` or `serialization_failure`: the server undid the transaction, and
    /// running it again on fresh data may succeed.
    var undidTransaction: Bool {
        code == .server && ["40P01", "40001"].contains(serverInfo?[.sqlState] ?? "")
    }
}
