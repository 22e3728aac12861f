import Foundation

/// Reads a configuration or fixture file, saying in words why it could not be read.
enum FileText {
    enum Outcome {
        case bytes([UInt8])
        case unreadable(String)
    }

    /// Relative paths resolve against the working directory, as the demo configuration's
    /// `config/fixtures/...` paths expect.
    static func read(_ path: String) -> Outcome {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            return .unreadable("file not found")
        }
        if isDirectory.boolValue { return .unreadable("is a directory, not a file") }
        guard let data = FileManager.default.contents(atPath: path) else {
            return .unreadable("cannot read the file (check its permissions)")
        }
        return .bytes(Array(data))
    }

    static func decode(_ bytes: [UInt8]) -> String? {
        String(validating: bytes, as: UTF8.self)
    }
}
