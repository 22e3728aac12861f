import AffiliateConfig
import AffiliateCore
import Foundation

/// Shared helpers: load text as `affhost.yaml` and compare problems exactly.
enum ConfigTesting {
    static let file = "affhost.yaml"
    static let loader = ConfigLoader(registry: FakeProvider.registry)

    static let hashA = KeyDigest.sha256Hex("fp_test_key_acme")
    static let hashB = KeyDigest.sha256Hex("sk_your_secret_key_here")
    static let hashC = KeyDigest.sha256Hex("third key")

    /// The problems of a file that must not load.
    static func problems(_ yaml: String) -> [ConfigProblem] {
        do {
            _ = try loader.load(yaml: yaml, path: file)
            return []
        } catch {
            return error.problems
        }
    }

    static func problem(_ line: Int, _ column: Int, _ path: String, _ message: String) -> ConfigProblem {
        ConfigProblem(file: file, line: line, column: column, path: path, message: message)
    }

    /// A tenant "acme" (firstpromoter-v1) with one key; `extra` lines (already indented by four
    /// spaces) are appended from line 7 on.
    static func acme(_ extra: String = "") -> String {
        """
        tenants:
          acme:
            name: Acme Affiliates
            dialect: firstpromoter-v1
            api_keys:
              - { id: acme-main, sha256: \(hashA) }

        """ + extra
    }

    /// A fresh directory for files a test writes; removed by the caller.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("affhost-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
