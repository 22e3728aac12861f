public import Foundation
public import OpenAPIKit
import Yams

/// A document as the operator reads it: JSON (keys sorted, so equal documents print equal
/// text) or YAML.
public enum DocumentText {
    public static func json(_ document: OpenAPI.Document) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(document)
    }

    public static func yaml(_ document: OpenAPI.Document) throws -> String {
        try YAMLEncoder().encode(document)
    }
}
