import AffiliateCore
import PostgresNIO

/// The postgres-nio configurations for one location: the pool's, and the single connection's
/// that `open` uses first, because only a direct connection reports why it could not log in.
extension PostgresLocation {
    /// libpq's meaning of each mode: `prefer` and `require` encrypt without checking the
    /// certificate, `verify-ca` checks the chain, `verify-full` also the host name.
    private var tlsConfiguration: TLSConfiguration? {
        var configuration = TLSConfiguration.makeClientConfiguration()
        switch tlsMode {
        case .disable: return nil
        case .allow, .prefer, .require: configuration.certificateVerification = .none
        case .verifyCA: configuration.certificateVerification = .noHostnameVerification
        case .verifyFull: configuration.certificateVerification = .fullVerification
        }
        return configuration
    }

    private var tlsIsRequired: Bool { [.require, .verifyCA, .verifyFull].contains(tlsMode) }

    func clientConfiguration(maximumConnections: Int) -> PostgresClient.Configuration {
        var configuration: PostgresClient.Configuration
        switch endpoint {
        case .tcp(let host, let port):
            let tls: PostgresClient.Configuration.TLS
            if let tlsConfiguration {
                tls = tlsIsRequired ? .require(tlsConfiguration) : .prefer(tlsConfiguration)
            } else {
                tls = .disable
            }
            configuration = .init(host: host, port: port, username: user, password: password, database: database, tls: tls)
        case .socket(let folder, let port):
            configuration = .init(
                unixSocketPath: socketPath(folder: folder, port: port), username: user, password: password,
                database: database
            )
        }
        configuration.options.connectTimeout = connectTimeout
        configuration.options.maximumConnections = maximumConnections
        configuration.options.additionalStartupParameters = [("application_name", "affhost")]
        return configuration
    }

    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        var configuration: PostgresConnection.Configuration
        switch endpoint {
        case .tcp(let host, let port):
            let tls: PostgresConnection.Configuration.TLS
            if let tlsConfiguration {
                let context = try NIOSSLContext(configuration: tlsConfiguration)
                tls = tlsIsRequired ? .require(context) : .prefer(context)
            } else {
                tls = .disable
            }
            configuration = .init(host: host, port: port, username: user, password: password, database: database, tls: tls)
        case .socket(let folder, let port):
            configuration = .init(
                unixSocketPath: socketPath(folder: folder, port: port), username: user, password: password,
                database: database
            )
        }
        configuration.options.connectTimeout = .nanoseconds(Int64(connectTimeout.components.seconds) * 1_000_000_000)
        configuration.options.additionalStartupParameters = [("application_name", "affhost")]
        return configuration
    }
}
