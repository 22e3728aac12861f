import AffiliateCore
import AffiliateServer
import Foundation
import Logging
import PostgresTestSupport
import Testing

/// The access log, the Prometheus metrics on the admin listener and the flags that turn them
/// off, on a real server over real HTTP.
@Suite struct ObservabilityTests {
    static let fpKey = HostTests.fpKey
    static let vantioKey = HostTests.vantioKey
    static let fp = ["X-API-KEY": HostTests.fpKey]
    static let vantio = ["Authorization": "Bearer \(HostTests.vantioKey)"]

    /// Serves ``HostTests/config`` with the access log going to `logs`.
    static func serve(
        acmeExtra: String = "", logs: CapturedLogs = CapturedLogs(), _ body: (TestHost) async throws -> Void
    ) async throws {
        let directory = try TestHost.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = try TestHost.writeConfig(HostTests.config(acmeExtra: acmeExtra), files: HostTests.fixtures, into: directory)
        var quiet = Logger(label: "affhost.test")
        quiet.logLevel = .warning
        try await TestHost.serve(configPath: path, directory: directory, logger: quiet, accessLog: AccessLog(logger: logs.logger(), layout: .metadata), body)
    }

    @Test func theAccessLogHasOneLinePerRequestWithItsRouteTemplateAndNoSecrets() async throws {
        let logs = CapturedLogs()
        var answers: [(TestResponse, String)] = []
        try await Self.serve(logs: logs) { host in
            answers.append((try await host.send(.put, "/api/v1/payouts/update?id=2710287&status=completed", headers: Self.fp), "PUT"))
            answers.append((try await host.send(.get, "/api/v1/earnings/earn_nope", headers: Self.vantio), "GET"))
            answers.append((try await host.send(.get, "/api/v1/payouts/list", headers: ["X-API-KEY": "fp_guessed_secret"]), "GET"))
            answers.append((try await host.send(.get, "/healthz"), "GET"))
        }
        let lines = logs.entries
        #expect(lines.count == 4)
        guard lines.count == 4 else { return }
        let expected: [(message: String, fields: [String: String])] = [
            (
                "PUT /api/v1/payouts/update 200",
                [
                    "method": "PUT", "route": "/api/v1/payouts/update", "status": "200", "tenant": "acme",
                    "dialect": "firstpromoter-v1", "key_id": "acme-main",
                ]
            ),
            (
                "GET /api/v1/earnings/{id} 404",
                [
                    "method": "GET", "route": "/api/v1/earnings/{id}", "status": "404", "tenant": "campus",
                    "dialect": "vantio-v1", "key_id": "campus-main",
                ]
            ),
            (
                "GET unmatched 401",
                ["method": "GET", "route": "unmatched", "status": "401", "tenant": "none", "dialect": "firstpromoter-v1", "key_id": "-"]
            ),
            ("GET /healthz 200", ["method": "GET", "route": "/healthz", "status": "200", "tenant": "none", "dialect": "none", "key_id": "-"]),
        ]
        for ((line, want), (response, _)) in zip(zip(lines, expected), answers) {
            #expect(line.level == .info)
            #expect(line.message == want.message)
            for (key, value) in want.fields { #expect(line.metadata[key] == value, "\(key) of \(want.message)") }
            #expect(line.metadata["bytes_out"] == String(response.body.utf8.count))
            #expect(line.metadata["request_id"] == response.header("X-Request-Id"))
            #expect(line.metadata["duration_us"].flatMap(Int.init).map { $0 >= 0 } == true)
            #expect(Set(line.metadata.keys) == [
                "method", "route", "status", "duration_us", "bytes_out", "tenant", "dialect", "key_id", "request_id",
            ])
        }
        let text = logs.text
        #expect(!text.contains(Self.fpKey))
        #expect(!text.contains(KeyDigest.sha256Hex(Self.fpKey)))
        #expect(!text.contains("fp_guessed_secret"))
        #expect(!text.contains("earn_nope"))
    }

    @Test func metricsCountRequestsByTenantRouteAndStatusClassOnTheAdminListenerOnly() async throws {
        try await Self.serve(acmeExtra: "    rate_limit: 4/min") { host in
            for _ in 0..<3 {
                #expect(try await host.send(.put, "/api/v1/payouts/update?id=2710287&status=completed", headers: Self.fp).status == 200)
            }
            #expect(try await host.send(.get, "/api/v1/nope", headers: Self.fp).status == 404)
            #expect(try await host.send(.get, "/api/v1/payouts/list", headers: Self.fp).status == 429)
            #expect(try await host.send(.get, "/api/v1/earnings", headers: Self.vantio).status == 200)
            #expect(try await host.send(.get, "/api/v1/earnings/earn_nope", headers: Self.vantio).status == 404)
            #expect(try await host.send(.get, "/api/v1/earnings", headers: ["Authorization": "Bearer sk_wrong"]).status == 401)
            #expect(try await host.send(.get, "/healthz").status == 200)

            // Never on the public listener: the dialect's own 404.
            let publicFP = try await host.send(.get, "/metrics", headers: ["X-API-KEY": "fp_other"])
            #expect(publicFP.status == 401)
            let publicVantio = try await host.send(.get, "/metrics", headers: Self.vantio)
            expectError(publicVantio, 404, "Not Found", "Route not found")

            #expect(try await host.adminClient().post("/reload").status == 200)

            let reply = try await host.adminClient().get("/metrics")
            #expect(reply.status == 200)
            guard case .string(let text) = reply.body else {
                Issue.record("metrics answered \(reply.body)")
                return
            }
            let samples = Self.samples(text)
            let requests = "affhost_http_requests_total"
            let expected: [String: String] = [
                #"\#(requests){tenant="acme",dialect="firstpromoter-v1",method="PUT",route="/api/v1/payouts/update",status_class="2xx"}"#: "3",
                #"\#(requests){tenant="acme",dialect="firstpromoter-v1",method="GET",route="unmatched",status_class="4xx"}"#: "2",
                #"\#(requests){tenant="campus",dialect="vantio-v1",method="GET",route="/api/v1/earnings",status_class="2xx"}"#: "1",
                #"\#(requests){tenant="campus",dialect="vantio-v1",method="GET",route="/api/v1/earnings/{id}",status_class="4xx"}"#: "1",
                #"\#(requests){tenant="campus",dialect="vantio-v1",method="GET",route="unmatched",status_class="4xx"}"#: "1",
                #"\#(requests){tenant="none",dialect="vantio-v1",method="GET",route="unmatched",status_class="4xx"}"#: "1",
                #"\#(requests){tenant="none",dialect="firstpromoter-v1",method="GET",route="unmatched",status_class="4xx"}"#: "1",
                #"\#(requests){tenant="none",dialect="none",method="GET",route="/healthz",status_class="2xx"}"#: "1",
                #"affhost_http_request_duration_seconds_count{dialect="firstpromoter-v1",method="PUT",route="/api/v1/payouts/update"}"#: "3",
                #"affhost_rate_limited_total{tenant="acme"}"#: "1",
                #"affhost_reloads_total{outcome="unchanged"}"#: "1",
                #"affhost_reload_duration_seconds_count"#: "1",
                #"affhost_config_info{digest="\#(host.runtime.config.digest)"}"#: "1.0",
                #"affhost_store_commit_failures_total{store="sqlite"}"#: "0",
            ]
            for (series, value) in expected.sorted(by: { $0.key < $1.key }) {
                #expect(samples[series] == value, "\(series)")
            }
            #expect(samples.keys.filter { $0.hasPrefix(requests) }.count == 8)
            // Three updates, each its own group commit at least once, plus the fixtures.
            let commits = try #require(samples[#"affhost_store_commit_duration_seconds_count{store="sqlite"}"#].flatMap(Int.init))
            #expect(commits >= 3)
            #expect(samples[#"affhost_store_writes_per_commit_sum{store="sqlite"}"#].flatMap(Double.init).map { $0 >= 3 } == true)
            #expect(samples.keys.contains(#"affhost_store_wal_checkpoints_total{store="sqlite",kind="restart"}"#))
            #expect(samples["process_resident_memory_bytes"].flatMap(Double.init).map { $0 > 1_000_000 } == true)
            #expect(samples["process_open_fds"].flatMap(Double.init).map { $0 > 3 } == true)
            #expect(!samples.keys.contains { $0.contains("pool") })
            #expect(!text.contains(Self.fpKey) && !text.contains("sk_wrong") && !text.contains("earn_nope") && !text.contains("/nope"))
        }
    }

    /// `affhost serve` as a process, every log line at trace level in both formats: access lines
    /// carry their fields, `affhost metrics` prints the counts, and no line anywhere holds a key,
    /// a key's digest or a body.
    @Test(arguments: [["--log-format", "json"], ["--log-format", "text"]])
    func theServedProcessLogsEveryRequestAndNeverASecret(format: [String]) async throws {
        let directory = try TestHost.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let port = try Self.writeProcessConfig(into: directory)
        let server = try AffhostProcess.Server(config: "affhost.yaml", in: directory, port: port, arguments: format + ["--log-level", "trace"])
        defer { server.stop() }
        try await server.waitUntilServing()

        let bodyMarker = "body-marker-never-logged"
        _ = try await TestHost.send(port: port, .put, "/api/v1/payouts/update?id=2710287&status=completed", headers: Self.fp)
        _ = try await TestHost.send(
            port: port, .post, "/api/v1/promoters/create", headers: Self.fp.merging(["Content-Type": "application/json"]) { $1 },
            body: #"{"email":"\#(bodyMarker)@example.com","first_name":"\#(bodyMarker)"}"#
        )
        _ = try await TestHost.send(
            port: port, .post, "/api/v1/earnings", headers: Self.vantio.merging(["Content-Type": "application/json"]) { $1 },
            body: #"{"referral_id":"\#(bodyMarker)","amount":12}"#
        )
        _ = try await TestHost.send(port: port, .get, "/api/v1/payouts/list", headers: ["X-API-KEY": "fp_guessed_secret"])
        _ = try await TestHost.send(port: port, .get, "/api/v1/earnings", headers: ["Authorization": "Bearer sk_guessed_secret"])

        let metrics = try AffhostProcess.run(["metrics", "--config", "affhost.yaml"], in: directory)
        #expect(metrics.status == 0)
        #expect(metrics.standardOutput.contains(
            #"affhost_http_requests_total{tenant="acme",dialect="firstpromoter-v1",method="PUT",route="/api/v1/payouts/update",status_class="2xx"} 1"#
        ))
        server.stop()

        let log = server.log
        let lines = log.split(separator: "\n").map(String.init)
        // Health checks (waitUntilServing polls /healthz) aside.
        let access = lines.filter { $0.contains("affhost.access") && !$0.contains("/healthz") }
        #expect(access.count == 5)
        if format.last == "json" {
            for line in lines {
                let object = try? JSONValue(parsing: Array(line.utf8))
                #expect(object?.objectValue != nil, "not one JSON object: \(line)")
            }
            let update = try #require(access.first.flatMap { try? JSONValue(parsing: Array($0.utf8)) })
            #expect(update["message"] == .string("PUT /api/v1/payouts/update 200"))
            #expect(update["route"] == .string("/api/v1/payouts/update"))
            #expect(update["status"] == .int(200))
            #expect(update["tenant"] == .string("acme"))
            #expect(update["dialect"] == .string("firstpromoter-v1"))
            #expect(update["key_id"] == .string("acme-main"))
            #expect(update["duration_us"]?.integerValue != nil)
            #expect(update["bytes_out"]?.integerValue.map { $0 > 100 } == true)
        } else {
            let line = try #require(access.first)
            #expect(line.contains(" info affhost.access: [AffiliateServer] PUT /api/v1/payouts/update 200 duration_us="))
            #expect(line.contains(" tenant=acme dialect=firstpromoter-v1 key_id=acme-main request_id="))
        }
        for secret in [
            Self.fpKey, Self.vantioKey, KeyDigest.sha256Hex(Self.fpKey), KeyDigest.sha256Hex(Self.vantioKey),
            "fp_guessed_secret", "sk_guessed_secret", bodyMarker,
        ] {
            #expect(!log.contains(secret), "the log holds \(secret)")
        }
    }

    @Test func accessLogAndMetricsTurnOffAndAnUnknownLogFormatIsAUsageError() async throws {
        let directory = try TestHost.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let port = try Self.writeProcessConfig(into: directory)

        let unknown = try AffhostProcess.run(["serve", "--config", "affhost.yaml", "--log-format", "xml"], in: directory)
        #expect(unknown.status == 64)
        #expect(unknown.standardError.contains("The value 'xml' is invalid for '--log-format <log-format>'. Please provide one of 'text' and 'json'."))

        let server = try AffhostProcess.Server(
            config: "affhost.yaml", in: directory, port: port, arguments: ["--access-log", "off", "--metrics", "off"]
        )
        defer { server.stop() }
        try await server.waitUntilServing()
        #expect(try await TestHost.send(port: port, .get, "/api/v1/payouts/list", headers: Self.fp).status == 200)
        let metrics = try AffhostProcess.run(["metrics", "--config", "affhost.yaml"], in: directory)
        #expect(metrics.status == 1)
        #expect(metrics.standardError == "unix:\(directory)/admin.sock: metrics are off (serve --metrics off)\n")
        server.stop()
        #expect(!server.log.contains("affhost.access"))
        #expect(server.log.contains("serving"))
    }

    /// Writes ``HostTests/config`` for `affhost serve` as a process, on a free port it returns.
    static func writeProcessConfig(into directory: String) throws -> Int {
        let port = try AffhostProcess.freePort()
        let path = try TestHost.writeConfig(HostTests.config(), files: HostTests.fixtures, into: directory)
        let yaml = try String(contentsOfFile: path, encoding: .utf8)
        try yaml.replacingOccurrences(of: "127.0.0.1:0", with: "127.0.0.1:\(port)").write(toFile: path, atomically: true, encoding: .utf8)
        return port
    }

    /// `name{labels} value` lines of a Prometheus text exposition, by series.
    static func samples(_ text: String) -> [String: String] {
        var samples: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " ") else { continue }
            samples[String(line[..<space])] = String(line[line.index(after: space)...])
        }
        return samples
    }
}

/// The PostgreSQL store's own figures on the metrics endpoint: pool waits, commits, failures.
@Suite(.enabled(if: PostgresTestCluster.shouldRun, Comment(rawValue: PostgresTestCluster.notInstalled)))
struct PostgresMetricsTests {
    @Test func theMetricsShowPoolWaitsAndCommitsOfThePostgresStore() async throws {
        let cluster = try await PostgresTestCluster.shared()
        let database = try await cluster.createDatabase()
        let directory = try TestHost.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = try TestHost.writeConfig(TwoInstancesTests.config(storage: cluster.url(database: database)), into: directory)
        try await TestHost.serve(configPath: path, directory: directory) { host in
            for status in ["processing", "completed"] {
                let response = try await host.send(
                    .put, "/api/v1/payouts/update?id=2710287&status=\(status)", headers: ["X-API-KEY": "fp_fleet"]
                )
                #expect(response.status == 200)
            }
            let reply = try await host.adminClient().get("/metrics")
            guard case .string(let text) = reply.body else {
                Issue.record("metrics answered \(reply.status) \(reply.body)")
                return
            }
            let samples = ObservabilityTests.samples(text)
            let waits = samples[#"affhost_store_pool_wait_seconds_count{store="postgres"}"#].flatMap(Int.init)
            #expect(waits.map { $0 >= 2 } == true)
            let commits = samples[#"affhost_store_commit_duration_seconds_count{store="postgres"}"#].flatMap(Int.init)
            #expect(commits.map { $0 >= 2 } == true)
            #expect(samples[#"affhost_store_pool_failures_total{store="postgres"}"#] == "0")
            #expect(samples[
                #"affhost_http_requests_total{tenant="acme",dialect="firstpromoter-v1",method="PUT",route="/api/v1/payouts/update",status_class="2xx"}"#
            ] == "2")
            #expect(!samples.keys.contains { $0.contains("wal_checkpoints") })
        }
    }
}
