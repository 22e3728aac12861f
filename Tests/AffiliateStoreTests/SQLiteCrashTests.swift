import AffiliateCore
import AffiliateStoreSQLite
import Foundation
import PostgresTestSupport
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An acknowledged commit must survive the process dying at any instant.
///
/// The writer runs in a child process (this same test binary, asked to run only
/// ``acknowledgedWritesAreAllStored()`` in its unbounded mode) which reports every commit the
/// store acknowledged to a file; the parent kills it with SIGKILL mid-stream, reopens the file
/// and checks that every acknowledged write is there. A SIGKILL keeps the kernel's page cache,
/// so this proves that acknowledgement waits for the commit; that the commit itself reaches the
/// disk (power loss) rests on `synchronous = FULL`, which ``SQLiteStoreTests`` checks.
@Suite("SQLite crash durability")
struct SQLiteCrashTests {
    static let storeVariable = "AFFHOST_SQLITE_CRASH_STORE"
    static let acknowledgementsVariable = "AFFHOST_SQLITE_CRASH_ACKS"

    /// Bounded in a normal run: concurrent writers insert and update records, then every
    /// acknowledged write is found after reopening. Run as the crash child (the variables
    /// above set), it writes until killed, with a time limit in case the parent is gone.
    @Test func acknowledgedWritesAreAllStored() async throws {
        let environment = ProcessInfo.processInfo.environment
        if let path = environment[Self.storeVariable], let acknowledgements = environment[Self.acknowledgementsVariable] {
            let log = try SQLiteAcknowledgementLog(path: acknowledgements)
            let store = try await SQLiteStore.open(path: path, logger: StoreTestLogger.quiet)
            try await SQLiteCrashWriter.run(
                store: store, writers: 8, commitsPerWriter: nil, deadline: .now + .seconds(60), acknowledge: log.append
            )
            try await store.close()
            return
        }
        let folder = try StoreTemporaryFolder.make()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("affhost.sqlite").path
        let acknowledged = Mutex<[SQLiteAcknowledgement]>([])
        let store = try await SQLiteStore.open(path: path, logger: StoreTestLogger.quiet)
        try await SQLiteCrashWriter.run(
            store: store, writers: 4, commitsPerWriter: 30, deadline: .now + .seconds(60),
            acknowledge: { acknowledgement in acknowledged.withLock { $0.append(acknowledgement) } }
        )
        try await store.close()
        let acknowledgements = acknowledged.withLock { $0 }
        #expect(acknowledgements.count == 4 * 30)
        try await SQLiteCrashWriter.verify(path: path, acknowledgements: acknowledgements)
    }

    #if os(Linux)
    @Test func killingTheWriterLosesNoAcknowledgedCommit() async throws {
        let folder = try StoreTemporaryFolder.make()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("affhost.sqlite").path
        let acknowledgementsPath = folder.appendingPathComponent("acknowledged.txt").path
        #expect(FileManager.default.createFile(atPath: acknowledgementsPath, contents: nil))

        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        child.arguments = ["--testing-library", "swift-testing", "--filter", "acknowledgedWritesAreAllStored"]
        var environment = ProcessInfo.processInfo.environment
        environment[Self.storeVariable] = path
        environment[Self.acknowledgementsVariable] = acknowledgementsPath
        child.environment = environment
        child.standardOutput = FileHandle.nullDevice
        child.standardError = FileHandle.nullDevice
        try ProcessLaunch.run(child)

        // Kill it while it is writing hard: after a few hundred acknowledged commits.
        let deadline = ContinuousClock.now + .seconds(90)
        var acknowledged = 0
        while acknowledged < 600, child.isRunning, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
            acknowledged = try SQLiteAcknowledgementLog.read(acknowledgementsPath).count
        }
        let wasRunning = child.isRunning
        kill(child.processIdentifier, SIGKILL)
        child.waitUntilExit()
        #expect(wasRunning, "the child stopped before it was killed")
        #expect(child.terminationReason == .uncaughtSignal)
        #expect(child.terminationStatus == SIGKILL)

        let acknowledgements = try SQLiteAcknowledgementLog.read(acknowledgementsPath)
        #expect(acknowledgements.count >= 600)
        try await SQLiteCrashWriter.verify(path: path, acknowledgements: acknowledgements)
    }
    #endif
}

/// One commit the store acknowledged: the record and the version it stored.
struct SQLiteAcknowledgement: Sendable, Hashable {
    var id: String
    var version: Int64
}

/// The writers both crash tests run, and the check after them.
enum SQLiteCrashWriter {
    /// Each writer inserts a record (version 1) then moves its status (version 2), one commit
    /// each, reporting every acknowledged commit.
    static func run(
        store: SQLiteStore, writers: Int, commitsPerWriter: Int?, deadline: ContinuousClock.Instant,
        acknowledge: @escaping @Sendable (SQLiteAcknowledgement) -> Void
    ) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<writers {
                group.addTask {
                    var commits = 0
                    var serial = 0
                    while commits < (commitsPerWriter ?? Int.max), ContinuousClock.now < deadline {
                        let id = "w\(writer)-\(serial)"
                        serial += 1
                        var record = StoreSample.record(id, tags: [Tag("writer", "\(writer)")])
                        var insert = StoreSample.inserting([record])
                        insert.audit = [StoreSample.audit(id, from: nil, to: "pending", request: "\(id)-1")]
                        try await store.commit(insert)
                        acknowledge(SQLiteAcknowledgement(id: id, version: 1))
                        commits += 1
                        guard commits < (commitsPerWriter ?? Int.max) else { break }
                        record.version = 1
                        record.status = "completed"
                        var update = StoreSample.updating(record)
                        update.audit = [StoreSample.audit(id, from: "pending", to: "completed", request: "\(id)-2")]
                        try await store.commit(update)
                        acknowledge(SQLiteAcknowledgement(id: id, version: 2))
                        commits += 1
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    /// Reopens the file and checks every acknowledged write, and that lists, totals and
    /// status counts still agree with the records found.
    static func verify(path: String, acknowledgements: [SQLiteAcknowledgement]) async throws {
        let store = try await SQLiteStore.open(path: path, logger: StoreTestLogger.quiet)
        var latest: [String: Int64] = [:]
        for acknowledgement in acknowledgements { latest[acknowledgement.id] = max(latest[acknowledgement.id] ?? 0, acknowledgement.version) }
        for (id, version) in latest {
            let record = try await store.record(tenant: "acme", resource: "payouts", id: id)
            #expect((record?.version ?? 0) >= version, "\(id) was acknowledged at version \(version)")
            let trail = try await store.auditTrail(tenant: "acme", resource: "payouts", recordID: id)
            #expect(trail.count == Int(record?.version ?? 0), "\(id): one audit event per stored version")
        }
        let all = try await store.records(matching: RecordQuery(tenant: "acme", resource: "payouts", countTotal: true))
        #expect(all.total == all.records.count)
        #expect(all.records.count >= latest.count)
        let counts = try await store.statusCounts(tenant: "acme", resource: "payouts")
        #expect(counts.values.reduce(0, +) == all.records.count)
        #expect(counts["completed"] ?? 0 == all.records.filter { $0.status == "completed" }.count)
        try await store.close()
    }
}

/// Acknowledgements as lines `id version`, appended with one write(2) each so that a kill
/// never leaves a line claiming more than was acknowledged.
final class SQLiteAcknowledgementLog: Sendable {
    private let descriptor: Mutex<Int32>

    init(path: String) throws {
        let descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT, 0o644)
        guard descriptor >= 0 else { throw StoreFailure("cannot open \(path): errno \(errno)") }
        self.descriptor = Mutex(descriptor)
    }

    func append(_ acknowledgement: SQLiteAcknowledgement) {
        let line = Array("\(acknowledgement.id) \(acknowledgement.version)\n".utf8)
        descriptor.withLock { descriptor in
            _ = line.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        }
    }

    deinit {
        descriptor.withLock { _ = close($0) }
    }

    /// The complete lines of the log.
    static func read(_ path: String) throws -> [SQLiteAcknowledgement] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return text.split(separator: "\n", omittingEmptySubsequences: true).compactMap { line in
            let parts = line.split(separator: " ")
            guard parts.count == 2, let version = Int64(parts[1]) else { return nil }
            return SQLiteAcknowledgement(id: String(parts[0]), version: version)
        }
    }
}
