import AffiliateCore
import Testing

@testable import AffiliateStorePostgres

#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation

/// `storage.url` parsing: needs no server.
@Suite("PostgreSQL storage.url")
struct PostgresLocationTests {
    @Test func fullURL() throws {
        let location = try PostgresLocation.parse("postgres://affhost:s3cret@db.example.com:6432/affiliates?sslmode=require")
        #expect(location.endpoint == .tcp(host: "db.example.com", port: 6432))
        #expect(location.user == "affhost")
        #expect(location.password == "s3cret")
        #expect(location.database == "affiliates")
        #expect(location.tlsMode == .require)
        #expect(location.serverName == "db.example.com:6432")
        #expect(location.redacted == "postgres://affhost@db.example.com:6432/affiliates?sslmode=require")
    }

    @Test func postgresqlSchemeDefaultPortAndTLS() throws {
        let location = try PostgresLocation.parse("postgresql://affhost@localhost/affiliates")
        #expect(location.endpoint == .tcp(host: "localhost", port: 5432))
        #expect(location.password == nil)
        #expect(location.tlsMode == .prefer)
        #expect(location.redacted == "postgres://affhost@localhost:5432/affiliates")
    }

    @Test func escapedUserPasswordAndDatabase() throws {
        let location = try PostgresLocation.parse("postgres://app%40corp:p%40ss%3Aw%2Fd@127.0.0.1:5432/my%20db")
        #expect(location.user == "app@corp")
        #expect(location.password == "p@ss:w/d")
        #expect(location.database == "my db")
        #expect(location.redacted == "postgres://app%40corp@127.0.0.1:5432/my%20db")
    }

    @Test func ipv6Host() throws {
        let location = try PostgresLocation.parse("postgres://affhost@[::1]:5433/db")
        #expect(location.endpoint == .tcp(host: "::1", port: 5433))
        #expect(location.serverName == "[::1]:5433")
    }

    @Test func socketFolderAsHost() throws {
        let location = try PostgresLocation.parse("postgres://affhost@%2Ftmp%2Fpgsock:5433/db")
        #expect(location.endpoint == .socket(folder: "/tmp/pgsock", port: 5433))
        #expect(location.serverName == "/tmp/pgsock/.s.PGSQL.5433")
        #expect(location.redacted == "postgres://affhost@%2Ftmp%2Fpgsock:5433/db")
    }

    @Test func socketFolderAsParameter() throws {
        let location = try PostgresLocation.parse("postgres://affhost@/db?host=/var/run/postgresql&port=5434")
        #expect(location.endpoint == .socket(folder: "/var/run/postgresql", port: 5434))
        #expect(location.serverName == "/var/run/postgresql/.s.PGSQL.5434")
    }

    @Test func connectTimeoutParameter() throws {
        let location = try PostgresLocation.parse("postgres://affhost@h/db?connect_timeout=3&sslmode=disable")
        #expect(location.connectTimeout == .seconds(3))
        #expect(location.tlsMode == .disable)
    }

    @Test(arguments: [
        ("mysql://u@h/db", "it must start with postgres:// or postgresql://"),
        ("postgres://h:5432/db", "the user name is missing"),
        ("postgres://:pw@h/db", "the user name is missing"),
        ("postgres://u@h:5432", "the database name is missing"),
        ("postgres://u@h:5432/", "the database name is missing"),
        ("postgres://u@/db", "the host is missing"),
        ("postgres://u@h:http/db", "port \"http\" is not a number between 1 and 65535"),
        ("postgres://u@h:70000/db", "port \"70000\" is not a number between 1 and 65535"),
        ("postgres://u@[::1/db", "an IPv6 address lacks its ']'"),
        ("postgres://u@h/db?sslmode=always", "sslmode \"always\" is not one of disable, allow, prefer, require, verify-ca, verify-full"),
        ("postgres://u@h/db?pool=3", "unknown parameter \"pool\" (known: sslmode, host, port, connect_timeout)"),
        ("postgres://u@h/db?connect_timeout=0", "connect_timeout must be a whole number of seconds between 1 and 3600"),
        ("postgres://u%zz@h/db", "the user name has an invalid %-escape"),
    ])
    func refusedURL(url: String, reason: String) {
        #expect {
            try PostgresLocation.parse(url)
        } throws: { error in
            String(describing: error)
                == "storage.url is not a PostgreSQL URL (postgres://user[:password]@host[:port]/database[?sslmode=disable]): \(reason)"
        }
    }

    @Test func passwordInURLWinsOverFileAndEnvironment() throws {
        try withPasswordFile("from-file\n") { path in
            let location = try PostgresLocation.parse(
                "postgres://u:from-url@h/db", passwordFile: path,
                environment: ["AFFHOST_DATABASE_PASSWORD": "from-environment"]
            )
            #expect(location.password == "from-url")
        }
    }

    @Test func passwordFileWinsOverEnvironmentAndLosesItsNewline() throws {
        try withPasswordFile("from-file\r\nsecond line\n") { path in
            let location = try PostgresLocation.parse(
                "postgres://u@h/db", passwordFile: path, environment: ["AFFHOST_DATABASE_PASSWORD": "from-environment"]
            )
            #expect(location.password == "from-file")
        }
    }

    @Test func passwordFromEnvironment() throws {
        let location = try PostgresLocation.parse(
            "postgres://u@h/db", environment: ["AFFHOST_DATABASE_PASSWORD": "from-environment"]
        )
        #expect(location.password == "from-environment")
        #expect(try PostgresLocation.parse("postgres://u@h/db", environment: [:]).password == nil)
    }

    @Test func missingPasswordFile() {
        #expect {
            try PostgresLocation.parse("postgres://u@h/db", passwordFile: "/nonexistent/affhost-db-password")
        } throws: { error in
            String(describing: error) == "the database password file /nonexistent/affhost-db-password does not exist"
        }
    }

    @Test func emptyPasswordFile() throws {
        try withPasswordFile("\n") { path in
            #expect {
                try PostgresLocation.parse("postgres://u@h/db", passwordFile: path)
            } throws: { error in
                String(describing: error) == "the database password file \(path) is empty"
            }
        }
    }

    private func withPasswordFile(_ contents: String, _ body: (String) throws -> Void) throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("affhost-pw-\(UUID().uuidString)").path
        try contents.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        try body(path)
    }
}
