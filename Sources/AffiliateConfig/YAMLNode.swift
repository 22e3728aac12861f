/// A YAML node as affhost reads it: content and position (1-based, from libyaml's marks).
///
/// A class, so that readers passing nodes around and aliases sharing an anchored node cost a
/// retain rather than a copy of the subtree.
final class YAMLNode {
    enum Content {
        /// `plain` is false for quoted and block scalars and explicit `!!str`: those are
        /// always strings, whatever their text.
        case scalar(text: String, plain: Bool)
        case mapping([YAMLPair])
        case sequence([YAMLNode])
    }

    let content: Content
    let position: Position

    init(_ content: Content, at position: Position) {
        self.content = content
        self.position = position
    }

    /// The typed value of a scalar; `nil` for collections.
    var scalar: ScalarValue? {
        guard case .scalar(let text, let plain) = content else { return nil }
        return plain ? ScalarValue(plain: text) : .string(text)
    }

    /// A scalar's text as written, whatever its type.
    var scalarText: String? {
        guard case .scalar(let text, _) = content else { return nil }
        return text
    }

    /// The text as written, for fields that want words or names: `name: 2024` is a fine name.
    /// `nil` for null, booleans and collections.
    var wordText: String? {
        switch scalar {
        case .integer, .float, .nonFinite, .string: scalarText
        case .null, .bool, nil: nil
        }
    }

    var isNull: Bool {
        guard case .scalar(let text, let plain) = content, plain else { return false }
        switch text {
        case "", "~", "null", "Null", "NULL": return true
        default: return false
        }
    }

    /// What a type error says was found instead; never the value, which may be a secret.
    var kindDescription: String {
        switch content {
        case .scalar: scalar?.kindDescription ?? "a string"
        case .mapping: "a mapping"
        case .sequence: "a list"
        }
    }
}

struct YAMLPair {
    let key: YAMLNode
    let value: YAMLNode
}
