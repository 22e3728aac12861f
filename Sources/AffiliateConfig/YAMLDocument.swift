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
            var composer = YAMLComposer(bytes: bytes, tracksTenants: false, previous: nil)
            return composer.compose()
        }
    }

    /// Composes a configuration file, noting where each tenant's text lies and taking the
    /// tenants whose text is `previous`'s as they were (see ``TenantLayout``).
    static func configuration(
        _ bytes: UnsafeBufferPointer<UInt8>, reusing previous: ConfigSource?
    ) -> (document: YAMLDocument, tenants: TenantLayout) {
        if let previous, let mask = TenantMask(bytes, previous: previous) {
            let masked = mask.cuts.text.withUnsafeBufferPointer { input -> (YAMLDocument, TenantLayout)? in
                var composer = YAMLComposer(
                    bytes: bytes, tracksTenants: true, previous: previous, mask: (input, mask.cuts, mask.tenants))
                let document = composer.compose()
                if case .invalid = document { return nil }
                return composer.maskConfirmed ? (document, composer.layout) : nil
            }
            if let masked { return masked }
        }
        var composer = YAMLComposer(bytes: bytes, tracksTenants: true, previous: previous)
        let document = composer.compose()
        return (document, composer.layout)
    }
}

/// Builds nodes from events with an explicit stack, so nesting depth never becomes recursion.
private struct YAMLComposer {
    private struct Frame {
        let position: Position
        let anchor: String?
        let isMapping: Bool
        let isBlock: Bool
        var elements: [YAMLNode] = []
        var pairs: [YAMLPair] = []
        var pendingKey: YAMLNode?
        /// Built once a mapping is large enough that scanning its keys would cost more.
        var keyIndex: [String: Position]?
    }

    let bytes: UnsafeBufferPointer<UInt8>
    /// What libyaml reads: `bytes`, or `bytes` with the tenants of a ``TenantMask`` cut out.
    private let input: UnsafeBufferPointer<UInt8>
    /// How `input`'s offsets and lines map to `bytes`'s; none without a mask.
    private let cuts: TextCuts?
    private var stack: [Frame] = []
    private var anchors: [String: YAMLNode] = [:]
    private var root: YAMLNode?
    private var documents = 0
    private var problems: [(message: String, position: Position)] = []

    /// Tenant tracking, for the configuration file only (see ``TenantLayout``).
    private var tracksTenants: Bool
    private var previous: ConfigSource?
    private var offsets: ScalarOffsets
    private(set) var layout = TenantLayout()
    /// The tenant mapping being composed.
    private var openTenant: OpenTenant?
    /// The tenant whose events are being passed over because its text is the previous load's.
    private var skipped: SkippedTenant?
    /// Collections open inside it, and where its old text ends: kept apart from `skipped` so
    /// that each event passed over touches two integers rather than copying the tenant.
    private var skippedDepth = 0
    private var skippedTextEnd = 0
    /// Set when a passed-over tenant turned out not to match after all: compose again, whole.
    private var mustComposeAgain = false
    /// The cut-out tenants by id (`layout.cutOut` counts those that turned up where they were
    /// expected), and whether anything contradicted the mask (then the caller composes the
    /// real text).
    private let masked: [String: TenantMask.Tenant]
    private var maskFailed = false
    var maskConfirmed: Bool { !maskFailed && layout.cutOut == masked.count }

    private struct OpenTenant {
        let id: String
        let start: Int
        let position: Position
        let idColumn: Int
        /// No anchor or alias inside: its meaning depends on its own text only.
        var isSelfContained: Bool
    }

    private struct SkippedTenant {
        let id: String
        let source: TenantSource
        let start: Int
        let position: Position
        let idColumn: Int
    }

    init(
        bytes: UnsafeBufferPointer<UInt8>, tracksTenants: Bool, previous: ConfigSource?,
        mask: (input: UnsafeBufferPointer<UInt8>, cuts: TextCuts, tenants: [String: TenantMask.Tenant])? = nil
    ) {
        self.bytes = bytes
        self.input = mask?.input ?? bytes
        self.cuts = mask?.cuts
        self.masked = mask?.tenants ?? [:]
        self.tracksTenants = tracksTenants
        self.previous = previous
        self.offsets = ScalarOffsets(tracksTenants ? input : UnsafeBufferPointer(start: nil, count: 0))
        if let previous {
            layout.spans.reserveCapacity(previous.tenants.count)
            layout.reused.reserveCapacity(previous.tenants.count)
        }
    }

    mutating func compose() -> YAMLDocument {
        let document = composeOnce()
        guard mustComposeAgain else { return document }
        guard masked.isEmpty else {
            maskFailed = true
            return .empty
        }
        self = YAMLComposer(bytes: bytes, tracksTenants: tracksTenants, previous: nil)
        return composeOnce()
    }

    private mutating func composeOnce() -> YAMLDocument {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { return .invalid(message: "out of memory", at: .start) }
        defer { yaml_parser_delete(&parser) }
        yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
        yaml_parser_set_input_string(&parser, input.baseAddress, input.count)
        while true {
            var event = yaml_event_t()
            guard yaml_parser_parse(&parser, &event) == 1 else { return failure(of: parser) }
            let outcome = skipped == nil ? handle(event) : pass(event)
            yaml_event_delete(&event)
            if let outcome { return outcome }
            if mustComposeAgain || maskFailed { return .empty }
        }
    }

    /// Handles one event; returns the document once the stream ends or composing must stop.
    private mutating func handle(_ event: yaml_event_t) -> YAMLDocument? {
        let position = position(of: event.start_mark)
        if !masked.isEmpty, let id = tenantIDOfNextValue(), let tenant = masked[id] {
            takeMasked(tenant, id: id, value: event)
            return nil
        }
        switch event.type {
        case YAML_STREAM_END_EVENT:
            guard let root, !root.isNull else { return .empty }
            return .root(root, problems: problems)
        case YAML_DOCUMENT_START_EVENT:
            documents += 1
            if documents > 1 { return .invalid(message: "the file holds more than one YAML document", at: position) }
            // %TAG directives change what tags inside a tenant's text mean.
            let directives = event.data.document_start.tag_directives
            if directives.start != directives.end { tracksTenants = false }
        case YAML_SCALAR_EVENT:
            let scalar = event.data.scalar
            let text = String(decoding: UnsafeBufferPointer(start: scalar.value, count: scalar.length), as: UTF8.self)
            let tag = Self.string(scalar.tag)
            let plain = scalar.style == YAML_PLAIN_SCALAR_STYLE && tag != "tag:yaml.org,2002:str" && tag != "!"
            let anchor = Self.string(scalar.anchor)
            if anchor != nil { openTenant?.isSelfContained = false }
            complete(YAMLNode(.scalar(text: text, plain: plain), at: position), anchor: anchor)
        case YAML_ALIAS_EVENT:
            openTenant?.isSelfContained = false
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
            let isBlock = isMapping
                ? event.data.mapping_start.style == YAML_BLOCK_MAPPING_STYLE
                : event.data.sequence_start.style == YAML_BLOCK_SEQUENCE_STYLE
            if anchor != nil { openTenant?.isSelfContained = false }
            if isMapping, let id = tenantIDOfNextValue() {
                let start = fileOffset(of: event.start_mark)
                if anchor == nil, passOver(id, start: start, at: position) { return nil }
                openTenant = OpenTenant(
                    id: id, start: start, position: position, idColumn: stack[1].position.column,
                    isSelfContained: anchor == nil)
            }
            stack.append(Frame(position: position, anchor: anchor, isMapping: isMapping, isBlock: isBlock))
        case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
            guard let frame = stack.popLast() else { return nil }
            if stack.count == 2, let tenant = openTenant {
                openTenant = nil
                if tenant.isSelfContained, layout.spans[tenant.id] == nil {
                    layout.spans[tenant.id] = span(
                        from: tenant.start, to: event.end_mark, at: tenant.position, idColumn: tenant.idColumn)
                }
            }
            let content: YAMLNode.Content = frame.isMapping ? .mapping(frame.pairs) : .sequence(frame.elements)
            complete(YAMLNode(content, at: frame.position), anchor: frame.anchor)
        default:
            break
        }
        return nil
    }

    // MARK: Tenants

    /// The tenant id when the next node is a tenant's value: a value of the block mapping under
    /// the root's `tenants` key.
    private func tenantIDOfNextValue() -> String? {
        guard tracksTenants, stack.count == 2, stack[0].isMapping, stack[1].isMapping, stack[1].isBlock,
              let id = stack[1].pendingKey?.scalarText, stack[0].pendingKey?.scalarText == "tenants"
        else { return nil }
        return id
    }

    /// Starts passing over a tenant whose text, from `start` on, is byte for byte what the
    /// previous load read it from, at the same columns and followed by the same token.
    private mutating func passOver(_ id: String, start: Int, at position: Position) -> Bool {
        guard let source = previous?.tenants[id], let previous, source.position.column == position.column,
              source.idColumn == stack[1].position.column,
              bytes.matches(previous.bytes, in: source.bytes, at: start)
        else { return false }
        let next = start + source.bytes.count
        if let following = source.following, next >= bytes.count || bytes[next] != following { return false }
        skipped = SkippedTenant(id: id, source: source, start: start, position: position, idColumn: stack[1].position.column)
        skippedDepth = 0
        skippedTextEnd = next
        return true
    }

    /// The value of a cut-out tenant's key: the empty scalar libyaml reads in place of its
    /// text, right after the key's colon with only blanks up to where the text starts. Anything
    /// else means the mask guessed wrong.
    private mutating func takeMasked(_ tenant: TenantMask.Tenant, id: String, value event: yaml_event_t) {
        let offset = fileOffset(of: event.start_mark)
        guard event.type == YAML_SCALAR_EVENT, event.data.scalar.length == 0, event.data.scalar.tag == nil,
              event.data.scalar.anchor == nil, event.data.scalar.style == YAML_PLAIN_SCALAR_STYLE,
              offset <= tenant.bytes.lowerBound,
              bytes[offset..<tenant.bytes.lowerBound].allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\n") }),
              stack[1].position.column == tenant.source.idColumn, layout.reused[id] == nil
        else {
            maskFailed = true
            return
        }
        layout.cutOut += 1
        reuse(tenant.source, as: id, at: span(of: tenant.bytes, at: tenant.position, idColumn: tenant.source.idColumn))
    }

    /// Puts a reused tenant into the document as an empty mapping standing in for it, with its
    /// source moved to where its text now is.
    private mutating func reuse(_ source: TenantSource, as id: String, at span: TenantSpan) {
        let node = YAMLNode(.mapping([]), at: span.position)
        if layout.spans[id] == nil { layout.spans[id] = span }
        if layout.reused[id] == nil {
            let moved = source.moved(to: span, lineShift: span.position.line - source.position.line)
            layout.reused[id] = ReusedTenant(node: node, source: moved)
        }
        complete(node, anchor: nil)
    }

    /// One event inside a passed-over tenant. The same bytes give the same events as long as
    /// every node lies within them: the mapping may end later (blank lines, a comment, a tenant
    /// added after the last one), but a node reaching past the old text means the tenant grew,
    /// and an anchor or alias (absent before) would tie it to other text. Either way the file
    /// is composed again, whole.
    private mutating func pass(_ event: yaml_event_t) -> YAMLDocument? {
        switch event.type {
        case YAML_MAPPING_START_EVENT where event.data.mapping_start.anchor == nil,
             YAML_SEQUENCE_START_EVENT where event.data.sequence_start.anchor == nil,
             YAML_SCALAR_EVENT where event.data.scalar.anchor == nil:
            guard fileOffset(of: event.end_mark) <= skippedTextEnd else {
                mustComposeAgain = true
                return nil
            }
            if event.type != YAML_SCALAR_EVENT { skippedDepth += 1 }
        case YAML_MAPPING_END_EVENT where skippedDepth > 0, YAML_SEQUENCE_END_EVENT where skippedDepth > 0:
            skippedDepth -= 1
        case YAML_MAPPING_END_EVENT:
            guard let tenant = skipped else { return nil }
            skipped = nil
            reuse(tenant.source, as: tenant.id, at: span(
                from: tenant.start, to: event.end_mark, at: tenant.position, idColumn: tenant.idColumn))
            return nil
        default:
            mustComposeAgain = true
        }
        return nil
    }

    private mutating func span(from start: Int, to end: yaml_mark_t, at position: Position, idColumn: Int) -> TenantSpan {
        span(of: start..<fileOffset(of: end), at: position, idColumn: idColumn)
    }

    /// The file's byte offset of a libyaml mark (which counts Unicode scalars of `input`).
    private mutating func fileOffset(of mark: yaml_mark_t) -> Int {
        let offset = offsets.byteOffset(ofScalar: mark.index)
        return cuts?.fileOffset(offset) ?? offset
    }

    /// The file's line and column of a libyaml mark: cuts remove whole tenants' text, which
    /// ends before a line break, so only lines move.
    private mutating func position(of mark: yaml_mark_t) -> Position {
        guard let cuts else { return Position(line: mark.line + 1, column: mark.column + 1) }
        return Position(line: cuts.fileLine(mark.line, atOffset: offsets.byteOffset(ofScalar: mark.index)) + 1, column: mark.column + 1)
    }

    private func span(of text: Range<Int>, at position: Position, idColumn: Int) -> TenantSpan {
        TenantSpan(
            bytes: text, position: position, idColumn: idColumn,
            following: text.upperBound < bytes.count ? bytes[text.upperBound] : nil)
    }

    // MARK: Building

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

    /// libyaml's own positions, unmapped: a composition of text with tenants cut out that fails
    /// is dropped, and the file is composed whole, so only the file's own marks are reported.
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
