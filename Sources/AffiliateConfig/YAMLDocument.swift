import CYaml

/// The outcome of composing one YAML text into ``YAMLNode``s, with libyaml's own positions.
enum YAMLDocument {
    /// `problems` are recoverable (a key given twice): reported, while the rest of the file is
    /// still checked with the first occurrence.
    case root(YAMLNode, problems: [(message: String, position: Position)])
    /// No document, or only comments, or a bare `---`.
    case empty
    case invalid(message: String, at: Position)

    /// Deeper nesting is refused: no configuration needs it, and tearing down a tree that deep
    /// would recurse past the stack.
    static let maximumDepth = 512

    /// Composes straight from libyaml's event stream (the libyaml Yams ships, so positions
    /// are the same marks `Yams.compose` reports). Yams' own `Node` tree costs a tag object
    /// and a hashed duplicate check per node, which made a ten-thousand-tenant file take
    /// about a second; these nodes take a fraction of that.
    init(yaml: String) {
        var text = yaml
        self = text.withUTF8 { bytes in
            var composer = YAMLComposer(bytes: bytes)
            return composer.compose()
        }
    }
}

/// Builds nodes from events with an explicit stack, so nesting depth never becomes recursion.
private struct YAMLComposer {
    private struct Frame {
        let position: Position
        let anchor: String?
        let isMapping: Bool
        var elements: [YAMLNode] = []
        var pairs: [YAMLPair] = []
        var pendingKey: YAMLNode?
        /// Built once a mapping is large enough that scanning its keys would cost more.
        var keyIndex: [String: Position]?
    }

    let bytes: UnsafeBufferPointer<UInt8>
    private var stack: [Frame] = []
    private var anchors: [String: YAMLNode] = [:]
    private var root: YAMLNode?
    private var documents = 0
    private var problems: [(message: String, position: Position)] = []

    init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    mutating func compose() -> YAMLDocument {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { return .invalid(message: "out of memory", at: .start) }
        defer { yaml_parser_delete(&parser) }
        yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
        yaml_parser_set_input_string(&parser, bytes.baseAddress, bytes.count)
        while true {
            var event = yaml_event_t()
            guard yaml_parser_parse(&parser, &event) == 1 else { return failure(of: parser) }
            let outcome = handle(event)
            yaml_event_delete(&event)
            if let outcome { return outcome }
        }
    }

    /// Handles one event; returns the document once the stream ends or composing must stop.
    private mutating func handle(_ event: yaml_event_t) -> YAMLDocument? {
        let position = Position(line: event.start_mark.line + 1, column: event.start_mark.column + 1)
        switch event.type {
        case YAML_STREAM_END_EVENT:
            guard let root, !root.isNull else { return .empty }
            return .root(root, problems: problems)
        case YAML_DOCUMENT_START_EVENT:
            documents += 1
            if documents > 1 { return .invalid(message: "the file holds more than one YAML document", at: position) }
        case YAML_SCALAR_EVENT:
            let scalar = event.data.scalar
            let text = String(decoding: UnsafeBufferPointer(start: scalar.value, count: scalar.length), as: UTF8.self)
            let tag = Self.string(scalar.tag)
            let plain = scalar.style == YAML_PLAIN_SCALAR_STYLE && tag != "tag:yaml.org,2002:str" && tag != "!"
            complete(YAMLNode(.scalar(text: text, plain: plain), at: position), anchor: Self.string(scalar.anchor))
        case YAML_ALIAS_EVENT:
            let name = Self.string(event.data.alias.anchor) ?? ""
            guard let node = anchors[name] else {
                return .invalid(message: "not valid YAML: found undefined alias \"\(name)\"", at: position)
            }
            complete(node, anchor: nil)
        case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
            guard stack.count < YAMLDocument.maximumDepth else {
                return .invalid(message: "nested deeper than \(YAMLDocument.maximumDepth) levels", at: position)
            }
            let isMapping = event.type == YAML_MAPPING_START_EVENT
            let anchor = Self.string(isMapping ? event.data.mapping_start.anchor : event.data.sequence_start.anchor)
            stack.append(Frame(position: position, anchor: anchor, isMapping: isMapping))
        case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
            guard let frame = stack.popLast() else { return nil }
            let content: YAMLNode.Content = frame.isMapping ? .mapping(frame.pairs) : .sequence(frame.elements)
            complete(YAMLNode(content, at: frame.position), anchor: frame.anchor)
        default:
            break
        }
        return nil
    }

    /// Attaches a finished node to its parent: a sequence element, a mapping key or value.
    private mutating func complete(_ node: YAMLNode, anchor: String?) {
        if let anchor { anchors[anchor] = node }
        guard !stack.isEmpty else {
            root = node
            return
        }
        let top = stack.count - 1
        guard stack[top].isMapping else {
            stack[top].elements.append(node)
            return
        }
        guard let key = stack[top].pendingKey else {
            stack[top].pendingKey = node
            return
        }
        stack[top].pendingKey = nil
        if let text = key.scalarText, let first = Self.firstPosition(of: key, text: text, in: &stack[top]) {
            problems.append(("key \"\(text)\" appears more than once in this mapping (first at line \(first.line)); the first is used",
                             key.position))
            return
        }
        stack[top].pairs.append(YAMLPair(key: key, value: node))
    }

    /// Where a key already appeared in the mapping being built, recording it when new.
    /// Static, so that the frame is mutated in place inside the stack rather than copied.
    private static func firstPosition(of key: YAMLNode, text: String, in frame: inout Frame) -> Position? {
        if frame.keyIndex == nil, frame.pairs.count < 16 {
            return frame.pairs.first { $0.key.scalarText == text }?.key.position
        }
        if frame.keyIndex == nil {
            var index: [String: Position] = [:]
            for pair in frame.pairs {
                if let key = pair.key.scalarText, index[key] == nil { index[key] = pair.key.position }
            }
            frame.keyIndex = index
        }
        if let first = frame.keyIndex?[text] { return first }
        frame.keyIndex?[text] = key.position
        return nil
    }

    private func failure(of parser: yaml_parser_t) -> YAMLDocument {
        let problem = Self.string(parser.problem) ?? "unknown error"
        switch parser.error {
        case YAML_MEMORY_ERROR:
            return .invalid(message: "out of memory", at: .start)
        case YAML_READER_ERROR:
            return .invalid(message: "not valid YAML: \(problem)", at: position(ofByte: parser.problem_offset))
        default:
            var message = "not valid YAML: \(problem)"
            if let context = Self.string(parser.context) {
                message += " (\(context) at \(parser.context_mark.line + 1):\(parser.context_mark.column + 1))"
            }
            return .invalid(message: message, at: Position(
                line: parser.problem_mark.line + 1, column: parser.problem_mark.column + 1))
        }
    }

    /// libyaml reports reader errors (control characters) as a byte offset only; columns
    /// count Unicode scalars, as libyaml's marks do.
    private func position(ofByte offset: Int) -> Position {
        var line = 1
        var column = 1
        for byte in bytes.prefix(offset) {
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
        }
        return Position(line: line, column: column)
    }

    private static func string(_ pointer: UnsafePointer<UInt8>?) -> String? {
        pointer.map { String(cString: $0) }
    }

    private static func string(_ pointer: UnsafeMutablePointer<UInt8>?) -> String? {
        pointer.map { String(cString: $0) }
    }

    private static func string(_ pointer: UnsafePointer<CChar>?) -> String? {
        pointer.map { String(cString: $0) }
    }
}
