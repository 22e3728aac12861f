import Logging
import Synchronization

/// Collects every log line a test's server writes, at every level, so tests can assert what
/// never appears in logs (API keys).
final class CapturedLogs: Sendable {
    /// One captured line: its message and its metadata, each value as text.
    struct Entry: Sendable {
        let level: Logger.Level
        let message: String
        let metadata: [String: String]
    }

    private let lines = Mutex<[String]>([])
    private let captured = Mutex<[Entry]>([])

    var text: String { lines.withLock { $0.joined(separator: "\n") } }
    var entries: [Entry] { captured.withLock { $0 } }

    func logger() -> Logger {
        var logger = Logger(label: "affhost.test") { _ in Handler(sink: self) }
        logger.logLevel = .trace
        return logger
    }

    fileprivate func append(_ line: String, _ entry: Entry) {
        lines.withLock { $0.append(line) }
        captured.withLock { $0.append(entry) }
    }

    private struct Handler: LogHandler {
        let sink: CapturedLogs
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { $1 }
            sink.append(
                "\(event.level) \(event.message) \(merged)",
                Entry(level: event.level, message: event.message.description, metadata: merged.mapValues { "\($0)" })
            )
        }
    }
}
