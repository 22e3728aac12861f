import AffiliateConfig
import AffiliateCore
import Testing

@Suite struct HostSectionProblemTests {
    static let invalidListenAddresses: [(String, String)] = [
        ("localhost", "invalid listen address: \"localhost\" is not HOST:PORT, [IPv6]:PORT or unix:PATH"),
        ("127.0.0.1:70000", "invalid listen address: port 70000 is out of range 0...65535"),
        ("127.0.0.1:http", "invalid listen address: \"http\" is not a port number (0...65535)"),
        ("\"127.0.0.1:\"", "invalid listen address: \"\" is not a port number (0...65535)"),
        ("\":3000\"", "invalid listen address: \":3000\" has no host (use 127.0.0.1, or 0.0.0.0 for every interface)"),
        ("\"::1:3000\"", "invalid listen address: IPv6 addresses go in brackets: [::1]:3000"),
        ("\"[::1]\"", "invalid listen address: \"[::1]\" needs a port after the address ([::1]:3000)"),
        ("\"[::1:3000\"", "invalid listen address: \"[::1:3000\" has no closing \"]\" after the IPv6 address"),
        ("\"unix:\"", "invalid listen address: unix: needs a socket path (unix:data/admin.sock)"),
        ("local host:80", "invalid listen address: \"local host\" is not a host name or IP address"),
    ]

    @Test(arguments: invalidListenAddresses)
    func invalidServerListenAddresses(text: String, message: String) {
        let yaml = "server:\n  listen: \(text)\n" + ConfigTesting.acme()
        #expect(ConfigTesting.problems(yaml) == [ConfigTesting.problem(2, 11, "server.listen", message)])
    }

    @Test(arguments: [
        ("127.0.0.1:0", ListenAddress.tcp(host: "127.0.0.1", port: 0)),
        ("0.0.0.0:65535", .tcp(host: "0.0.0.0", port: 65535)),
        ("localhost:3000", .tcp(host: "localhost", port: 3000)),
        ("\"[::1]:8080\"", .tcp(host: "::1", port: 8080)),
        ("unix:/run/affhost/api.sock", .unix(path: "/run/affhost/api.sock")),
    ])
    func validListenAddresses(text: String, address: ListenAddress) throws {
        let config = try ConfigTesting.loader.load(yaml: "server: { listen: \(text) }\n" + ConfigTesting.acme(),
                                                   path: ConfigTesting.file)
        #expect(config.server.listen == address)
    }

    @Test func maxBodyBytesMustBeAPositiveWholeNumber() {
        #expect(ConfigTesting.problems("server: { max_body_bytes: 0 }\n" + ConfigTesting.acme()) == [
            ConfigTesting.problem(1, 27, "server.max_body_bytes", "must be from 1 to 2147483647 bytes"),
        ])
        #expect(ConfigTesting.problems("server: { max_body_bytes: 1MB }\n" + ConfigTesting.acme()) == [
            ConfigTesting.problem(1, 27, "server.max_body_bytes", "expected a whole number, found a string"),
        ])
        #expect(ConfigTesting.problems("server: { max_body_bytes: 1.5 }\n" + ConfigTesting.acme()) == [
            ConfigTesting.problem(1, 27, "server.max_body_bytes", "expected a whole number, found a fraction"),
        ])
    }

    @Test func sectionsMustBeMappings() {
        #expect(ConfigTesting.problems("server: 127.0.0.1:3000\n" + ConfigTesting.acme()) == [
            ConfigTesting.problem(1, 9, "server", "expected a mapping, found a string"),
        ])
        #expect(ConfigTesting.problems("storage: [sqlite:x]\n" + ConfigTesting.acme()) == [
            ConfigTesting.problem(1, 10, "storage", "expected a mapping, found a list"),
        ])
    }

    @Test func unknownKeysInHostSections() {
        let yaml = """
            server: { listen: 127.0.0.1:3000, max_body: 10 }
            admin: { lisen: unix:admin.sock }
            storage: { path: data/affhost.sqlite }

            """ + ConfigTesting.acme()
        #expect(ConfigTesting.problems(yaml) == [
            ConfigTesting.problem(1, 35, "server.max_body", "unknown key \"max_body\" (did you mean \"max_body_bytes\"?)"),
            ConfigTesting.problem(2, 10, "admin.lisen", "unknown key \"lisen\" (did you mean \"listen\"?)"),
            ConfigTesting.problem(3, 12, "storage.path", "unknown key \"path\""),
        ])
    }

    @Test func aTCPAdminListenerNeedsATokenHash() {
        #expect(ConfigTesting.problems("admin:\n  listen: 127.0.0.1:3001\n" + ConfigTesting.acme()) == [
            ConfigTesting.problem(2, 11, "admin.listen",
                                  "an admin API on TCP needs token_sha256, the SHA-256 of its token ('affhost keys hash' prints it)"),
        ])
    }

    @Test func aUnixAdminListenerNeedsNoToken() throws {
        let config = try ConfigTesting.loader.load(yaml: "admin: { listen: unix:/tmp/a.sock }\n" + ConfigTesting.acme(),
                                                   path: ConfigTesting.file)
        #expect(config.admin == AdminSettings(listen: .unix(path: "/tmp/a.sock"), tokenSHA256: nil))
    }

    @Test func theAdminTokenHashMustBeHex() {
        let yaml = "admin: { listen: 127.0.0.1:3001, token_sha256: letmein }\n" + ConfigTesting.acme()
        #expect(ConfigTesting.problems(yaml) == [
            ConfigTesting.problem(1, 48, "admin.token_sha256",
                                  "expected 64 hexadecimal characters (a SHA-256), found characters other than 0-9 and a-f"),
        ])
    }

    @Test func theAdminAPINeverSharesThePublicListener() {
        let yaml = """
            server: { listen: 127.0.0.1:3000 }
            admin: { listen: 127.0.0.1:3000, token_sha256: \(ConfigTesting.hashC) }

            """ + ConfigTesting.acme()
        #expect(ConfigTesting.problems(yaml) == [
            ConfigTesting.problem(2, 18, "admin.listen", "the admin API must not share the public listener (127.0.0.1:3000)"),
        ])
    }

    static let invalidStorageURLs: [(String, String)] = [
        ("mysql://db/affhost", "unsupported storage url scheme \"mysql\" (expected sqlite:PATH or postgres://user@host[:port]/database)"),
        ("data/affhost.sqlite", "storage url needs a scheme: sqlite:PATH or postgres://user@host[:port]/database"),
        ("\"sqlite:\"", "sqlite url needs a file path (sqlite:data/affhost.sqlite)"),
        ("postgres://db.internal", "postgres url needs a database name (postgres://user@host[:port]/database)"),
        ("postgres://db.internal/", "postgres url needs a database name (postgres://user@host[:port]/database)"),
        ("postgresql://affhost:hunter2@/affhost", "postgres url needs a host (postgres://user@host[:port]/database)"),
        ("postgres://affhost:hunter2@db:99999/affhost", "postgres url has an invalid port (1...65535)"),
    ]

    @Test(arguments: invalidStorageURLs)
    func invalidStorageURLsNeverEchoTheURL(url: String, message: String) {
        let problems = ConfigTesting.problems("storage:\n  url: \(url)\n" + ConfigTesting.acme())
        #expect(problems == [ConfigTesting.problem(2, 8, "storage.url", message)])
        #expect(!problems.description.contains("hunter2"))
    }

    @Test(arguments: [
        "sqlite:data/affhost.sqlite", "sqlite:///var/lib/affhost.sqlite", "postgres://affhost@db:5432/affhost",
        "postgresql://u:p@[::1]/affhost?sslmode=disable", "postgres://db.internal/affhost",
    ])
    func validStorageURLsAreKeptAsWritten(url: String) throws {
        let config = try ConfigTesting.loader.load(yaml: "storage: { url: \"\(url)\" }\n" + ConfigTesting.acme(),
                                                   path: ConfigTesting.file)
        #expect(config.storage.url == url)
    }
}
