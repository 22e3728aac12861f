import AffiliateCore
import Foundation
import Logging
import Synchronization

/// `--log-format json`: every log line one JSON object, for log shippers that would otherwise
/// have to parse `key=value` text.
///
/// Keys: `time` (ISO 8601, milliseconds, UTC), `level`, `label`, `message`, then the line's
/// metadata. Metadata given as whole numbers (status, durations, byte counts) stays a number.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    private let label: String
    private let sink: @Sendable ([UInt8]) -> Void

    public init(label: String, sink: @escaping @Sendable ([UInt8]) -> Void = JSONLogHandler.standardError) {
        self.label = label
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var object: JSONObject = [
            "time": .string(Timestamp.now().iso8601Milliseconds), "level": .string(event.level.rawValue),
            "label": .string(label), "message": .string(event.message.description),
        ]
        let lineMetadata = event.metadata ?? [:]
        for (key, value) in metadata where lineMetadata[key] == nil { object[key] = Self.json(value) }
        for (key, value) in lineMetadata.sorted(by: { $0.key < $1.key }) { object[key] = Self.json(value) }
        var bytes = JSONValue.object(object).serializedBytes
        bytes.append(UInt8(ascii: "\n"))
        sink(bytes)
    }

    static func json(_ value: Logger.Metadata.Value) -> JSONValue {
        switch value {
        case .string(let text): .string(text)
        case .stringConvertible(let value):
            if let number = value as? Int { .int(number) } else { .string(value.description) }
        case .array(let items): .array(items.map(json))
        case .dictionary(let entries): .object(JSONObject(entries.sorted { $0.key < $1.key }.map { ($0.key, json($0.value)) }))
        }
    }

    /// Writes whole lines to standard error, one write each, so lines of concurrent requests
    /// never interleave.
    public static let standardError: @Sendable ([UInt8]) -> Void = { bytes in
        standardErrorLock.withLock { _ in
            bytes.withUnsafeBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let written = write(2, buffer.baseAddress! + offset, buffer.count - offset)
                    if written <= 0 { break }
                    offset += written
                }
            }
        }
    }
    private static let standardErrorLock = Mutex(())
}
