#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation

/// A private PostgreSQL cluster for one test process: `initdb` and `pg_ctl` into a new temporary
/// folder, listening on a free TCP port of 127.0.0.1 and on a unix socket in that folder.
///
/// Local connections are trusted, except TCP log-ins of ``passwordUser``, which need
/// ``password`` so that a wrong one can be tested. The cluster's default collation is ICU
/// `en-US`, not byte order, so that the store's own `COLLATE "C"` is what the ordering tests see.
/// As root, the server programs run as the `postgres` user (PostgreSQL refuses root).
package final class PostgresTestCluster: Sendable {
    package static let installCommand = "apt-get install -y postgresql"
    package static let notInstalled = "PostgreSQL is not installed: \(installCommand)"
    package static let passwordUser = "affhost_secret"
    package static let password = "right-password"
    package static let superuser = "postgres"

    package let folder: String
    package let port: Int
    private let binaries: String

    package var socketFolder: String { folder }
    private var dataFolder: String { folder + "/data" }
    private var logFile: String { folder + "/server.log" }

    private init(folder: String, port: Int, binaries: String) {
        self.folder = folder
        self.port = port
        self.binaries = binaries
    }

    // MARK: Availability

    /// The folder holding `initdb`, `pg_ctl` and `psql`: the newest Debian version, else `PATH`.
    package static let binaries: String? = {
        let root = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        for version in versions.compactMap(Int.init).sorted(by: >) {
            let folder = "\(root)/\(version)/bin"
            if FileManager.default.isExecutableFile(atPath: folder + "/initdb") { return folder }
        }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for folder in path.split(separator: ":").map(String.init)
        where FileManager.default.isExecutableFile(atPath: folder + "/initdb")
            && FileManager.default.isExecutableFile(atPath: folder + "/pg_ctl")
        {
            return folder
        }
        return nil
    }()

    /// `.ci/run` sets `AFFHOST_REQUIRE_POSTGRES=1`: there a missing PostgreSQL fails the tests
    /// instead of skipping them.
    package static let isRequired = ProcessInfo.processInfo.environment["AFFHOST_REQUIRE_POSTGRES"] == "1"

    /// Whether PostgreSQL tests run (and fail if PostgreSQL is missing) or are skipped.
    package static let shouldRun = binaries != nil || isRequired

    // MARK: Life cycle

    /// The one cluster that every test of this process shares, each in its own database.
    package static func shared() async throws -> PostgresTestCluster {
        try await SharedCluster.instance.cluster()
    }

    /// A cluster of its own, for a test that stops and restarts the server.
    package static func start() async throws -> PostgresTestCluster {
        guard let binaries else { throw ClusterFailure(notInstalled) }
        let folder = try makeFolder()
        let cluster = PostgresTestCluster(folder: folder, port: try freePort(), binaries: binaries)
        do {
            try await cluster.initialise()
            try await cluster.startServer()
            try await cluster.psql(
                database: "postgres",
                "CREATE ROLE \(passwordUser) LOGIN PASSWORD '\(password)'"
            )
        } catch {
            await cluster.remove()
            throw error
        }
        cluster.removeWhenProcessEnds()
        return cluster
    }

    private static func makeFolder() throws -> String {
        var template = Array("/tmp/affhost-pg-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw ClusterFailure("cannot make a temporary folder") }
        return String(cString: made)
    }

    private static var isRoot: Bool { geteuid() == 0 }

    private func initialise() async throws {
        if Self.isRoot { try await run("/bin/chown", ["postgres:postgres", folder]) }
        try await runServerProgram(
            "initdb",
            [
                "-D", dataFolder, "-U", Self.superuser, "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8",
                "--locale-provider=icu", "--icu-locale=en-US",
            ]
        )
        let rules = """
            local all all trust
            host all \(Self.passwordUser) 127.0.0.1/32 scram-sha-256
            host all all 127.0.0.1/32 trust

            """
        try rules.write(toFile: dataFolder + "/pg_hba.conf", atomically: false, encoding: .utf8)
    }

    /// Starts the server; also after ``stopServer()``, on the same port and socket.
    package func startServer() async throws {
        // -F: no fsync (a throwaway cluster), -N: room for many pools at once.
        let options = "-p \(port) -k \(folder) -h 127.0.0.1 -F -N 400"
        do {
            try await runServerProgram("pg_ctl", ["-D", dataFolder, "-l", logFile, "-w", "-t", "60", "-o", options, "start"])
        } catch {
            let log = (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? ""
            throw ClusterFailure("\(error)\n\(log)")
        }
    }

    /// Stops the server at once, as a crash or a lost network would: clients see their
    /// connections drop.
    package func stopServer() async throws {
        try await runServerProgram("pg_ctl", ["-D", dataFolder, "-m", "immediate", "-w", "stop"])
    }

    /// Stops the server and removes the folder.
    package func remove() async {
        try? await stopServer()
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// Test processes end without a hook that could stop the server, so a small shell waits for
    /// this process to end and then stops the server and removes the folder, also after a crash.
    private func removeWhenProcessEnds() {
        let stop = "\(binaries)/pg_ctl -D '\(dataFolder)' -m immediate -w stop"
        let script = """
            while kill -0 \(getpid()) 2>/dev/null; do sleep 1; done
            \(Self.isRoot ? "runuser -u postgres -- " : "")\(stop) >/dev/null 2>&1
            rm -rf '\(folder)'
            """
        _ = try? ChildProcess.spawn("/usr/bin/setsid", ["/bin/sh", "-c", script], output: "/dev/null")
    }

    // MARK: Databases

    /// A new, empty database; each test uses its own.
    package func createDatabase(owner: String = superuser) async throws -> String {
        let name = "test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try await psql(database: "postgres", "CREATE DATABASE \(name) OWNER \(owner)")
        return name
    }

    /// Runs `body` with a new database of the shared cluster, dropped afterwards.
    package static func withDatabase<T>(
        owner: String = superuser, _ body: (PostgresTestCluster, String) async throws -> T
    ) async throws -> T {
        let cluster = try await shared()
        let database = try await cluster.createDatabase(owner: owner)
        let result: T
        do {
            result = try await body(cluster, database)
        } catch {
            try? await cluster.dropDatabase(database)
            throw error
        }
        try await cluster.dropDatabase(database)
        return result
    }

    package func dropDatabase(_ name: String) async throws {
        try await psql(database: "postgres", "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }

    /// The TCP URL of a database.
    package func url(database: String, user: String = superuser, password: String? = nil) -> String {
        let secret = password.map { ":" + $0 } ?? ""
        return "postgres://\(user)\(secret)@127.0.0.1:\(port)/\(database)?sslmode=disable"
    }

    /// The unix-socket URL of a database (the folder percent-encoded as the host).
    package func socketURL(database: String) -> String {
        let host = folder.replacingOccurrences(of: "/", with: "%2F")
        return "postgres://\(Self.superuser)@\(host):\(port)/\(database)"
    }

    /// Runs SQL through `psql` over the socket and returns its unaligned output.
    @discardableResult
    package func psql(database: String, _ sql: String) async throws -> String {
        try await run(
            binaries + "/psql",
            ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", folder, "-p", String(port), "-U", Self.superuser,
             "-d", database, "-c", sql]
        )
    }

    // MARK: Processes

    private func runServerProgram(_ name: String, _ arguments: [String]) async throws {
        if Self.isRoot {
            // From `/`: the postgres user may not be allowed into the current folder.
            try await run("/usr/sbin/runuser", ["-u", "postgres", "--", "/usr/bin/env", "-C", "/", binaries + "/" + name] + arguments)
        } else {
            try await run(binaries + "/" + name, arguments)
        }
    }

    /// Runs a program to its end and returns its output (standard output and error).
    @discardableResult
    private func run(_ program: String, _ arguments: [String]) async throws -> String {
        let outputPath = folder + "/.output-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        let child = try ChildProcess.spawn(program, arguments, output: outputPath)
        let status = await child.exitStatus()
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        guard status == 0 else {
            throw ClusterFailure("\(program) \(arguments.joined(separator: " ")) exited with \(status): \(text)")
        }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A port nobody listens on now: bind to port 0 and read what the kernel chose.
    package static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw ClusterFailure("cannot open a socket") }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                bind(descriptor, address, length) == 0 && getsockname(descriptor, address, &length) == 0
            }
        }
        guard bound else { throw ClusterFailure("cannot find a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// A program started with `posix_spawn` and waited for with `waitpid`.
///
/// Not Foundation's `Process`: it sees a child end when a socket the child inherited closes, and
/// the server that `pg_ctl start` leaves running inherits it too, so `pg_ctl` would never be
/// seen to end. For the same reason the child here gets no descriptor beyond 0, 1 and 2: a
/// server holding another test's `Process` socket would hang that test.
struct ChildProcess {
    let pid: pid_t

    /// Output goes to a file, not a pipe: `pg_ctl start` leaves the server running, and a pipe
    /// it inherited would never reach its end.
    static func spawn(_ program: String, _ arguments: [String], output: String) throws -> ChildProcess {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        closeInheritedDescriptors(&actions)

        let argv = ([program] + arguments).map { strdup($0) } + [nil]
        defer { for argument in argv { free(argument) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, program, &actions, nil, argv, environ)
        guard result == 0 else {
            throw ClusterFailure("cannot start \(program): \(String(cString: strerror(result)))")
        }
        return ChildProcess(pid: pid)
    }

    /// glibc 2.34's `posix_spawn_file_actions_addclosefrom_np`, which Swift does not import
    /// (it needs `_GNU_SOURCE`); looked up at run time, and skipped where it does not exist.
    private static func closeInheritedDescriptors(_ actions: inout posix_spawn_file_actions_t) {
        #if os(Linux)
        typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return }
        _ = unsafeBitCast(symbol, to: CloseFrom.self)(&actions, 3)
        #endif
    }

    /// Waits on a thread of its own, so that no task thread blocks in `waitpid`.
    func exitStatus() async -> Int32 {
        let pid = self.pid
        return await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                var status: Int32 = 0
                while waitpid(pid, &status, 0) == -1, errno == EINTR {}
                // WIFEXITED / WEXITSTATUS, which Swift cannot import as macros.
                let exited = status & 0x7F == 0
                continuation.resume(returning: exited ? (status >> 8) & 0xFF : 128 + (status & 0x7F))
            }
        }
    }
}

package struct ClusterFailure: Error, CustomStringConvertible {
    package let description: String
    package init(_ description: String) { self.description = description }
}

/// Starts the shared cluster once, on first use, however many tests ask at once.
private actor SharedCluster {
    static let instance = SharedCluster()
    private var starting: Task<PostgresTestCluster, any Error>?

    func cluster() async throws -> PostgresTestCluster {
        if let starting { return try await starting.value }
        let task = Task { try await PostgresTestCluster.start() }
        starting = task
        return try await task.value
    }
}
