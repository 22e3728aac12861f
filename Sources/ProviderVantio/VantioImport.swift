public import AffiliateCore

/// A file given to `affhost import` for a vantio-v1 tenant: CSV rows of one resource, a JSON
/// array of one resource, or a JSON object shaped like the fixtures. It becomes the same document
/// fixtures are, so one validator (``VantioSeed``) checks both, and keeps the line each row starts
/// on so that every problem can name it.
public struct VantioImport: Sendable {
    public struct Problem: Sendable, Hashable, CustomStringConvertible {
        /// 1-based; `nil` when the problem is about the whole file.
        public let line: Int?
        public let message: String

        public var description: String { line.map { "line \($0): \(message)" } ?? message }
    }

    /// Every problem that stopped the file from being read.
    public struct Failure: Error, Sendable {
        public let problems: [Problem]
    }

    /// A fixture-shaped document (`{"users": [...], ...}`).
    public let document: JSONValue
    /// How many rows the file holds.
    public let rowCount: Int
    private let lines: [String: [Int]]

    /// Reads `bytes`; the format comes from the file name's extension (`.csv`, `.json`), the
    /// resource of a CSV file or JSON array from `resource` or else the file name (`users.csv`).
    public static func read(_ bytes: [UInt8], fileName: String, resource: String?) -> Result<VantioImport, Failure> {
        let sections = VantioSeed.sections.joined(separator: ", ")
        if let resource, !VantioSeed.sections.contains(resource) {
            return .failure(Failure(problems: [
                Problem(line: nil, message: "unknown resource \"\(resource)\": expected one of \(sections)"),
            ]))
        }
        let baseName = fileName.split(separator: "/").last.map(String.init) ?? fileName
        let nameParts = baseName.lowercased().split(separator: ".")
        let named = nameParts.first.map(String.init).flatMap { VantioSeed.sections.contains($0) ? $0 : nil }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            return .failure(Failure(problems: [Problem(line: nil, message: "the file is not UTF-8 text")]))
        }
        switch nameParts.count > 1 ? nameParts.last : nil {
        case "csv"?:
            guard let section = resource ?? named else {
                return .failure(Failure(problems: [Problem(
                    line: nil, message: "name the resource of a CSV file with --resource (one of \(sections))"
                )]))
            }
            return readCSV(Array(text.utf8), section: section)
        case "json"?:
            return readJSON(Array(text.utf8), resource: resource ?? named, explicit: resource != nil)
        default:
            return .failure(Failure(problems: [
                Problem(line: nil, message: "the file name must end in .csv or .json"),
            ]))
        }
    }

    /// The line of the row a seed problem's path points into.
    public func line(of path: [SeedProblem.PathComponent]) -> Int? {
        guard path.count >= 2, case .key(let section) = path[0], case .index(let index) = path[1],
              let rows = lines[section], rows.indices.contains(index)
        else { return nil }
        return rows[index]
    }

    /// The validator's problems with their lines, in file order.
    public func problems(_ seed: SeedProblems) -> [Problem] {
        seed.problems.map { Problem(line: line(of: $0.path), message: "\($0.pathText): \($0.message)") }
            .sorted { ($0.line ?? 0) < ($1.line ?? 0) }
    }

    private static func readCSV(_ bytes: [UInt8], section: String) -> Result<VantioImport, Failure> {
        let table: CSVTable
        do {
            table = try CSVTable(bytes)
        } catch {
            return .failure(Failure(problems: [Problem(line: error.line, message: error.message)]))
        }
        guard let header = table.rows.first else {
            return .failure(Failure(problems: [
                Problem(line: 1, message: "the file is empty; the first line names the columns"),
            ]))
        }
        let known = VantioSeed.fields[section]!
        let columns = header.cells.map { String($0.trimmingSpaces) }
        var problems: [Problem] = []
        for (position, column) in columns.enumerated() {
            if !known.contains(column) {
                problems.append(Problem(
                    line: header.line,
                    message: "unknown column \"\(column)\": \(section) have \(known.joined(separator: ", "))"
                ))
            } else if columns[..<position].contains(column) {
                problems.append(Problem(line: header.line, message: "column \"\(column)\" appears twice"))
            }
        }
        guard problems.isEmpty else { return .failure(Failure(problems: problems)) }

        var rows: [JSONValue] = []
        var lines: [Int] = []
        for row in table.rows.dropFirst() {
            guard row.cells.count == columns.count else {
                problems.append(Problem(
                    line: row.line, message: "\(row.cells.count) cells, but the header names \(columns.count) columns"
                ))
                continue
            }
            var object = JSONObject()
            for (column, cell) in zip(columns, row.cells) where !cell.isEmpty {
                switch column {
                case "metadata":
                    guard let metadata = try? JSONValue(parsing: cell), metadata.objectValue != nil else {
                        problems.append(Problem(
                            line: row.line, message: "metadata must be a JSON object such as {\"major\": \"Economics\"}"
                        ))
                        continue
                    }
                    object[column] = metadata
                case "amount":
                    let number = try? JSONValue(parsing: cell)
                    object[column] = number?.doubleValue != nil ? number! : .string(cell)
                default:
                    object[column] = .string(cell)
                }
            }
            rows.append(.object(object))
            lines.append(row.line)
        }
        guard problems.isEmpty else { return .failure(Failure(problems: problems)) }
        return .success(VantioImport(document: .object([section: .array(rows)]), rowCount: rows.count, lines: [section: lines]))
    }

    private static func readJSON(_ bytes: [UInt8], resource: String?, explicit: Bool) -> Result<VantioImport, Failure> {
        let value: JSONValue
        do {
            value = try JSONValue(parsing: bytes)
        } catch {
            let line = 1 + bytes.prefix(error.offset).filter { $0 == 0x0A }.count
            return .failure(Failure(problems: [Problem(line: line, message: "malformed JSON: \(error.reason)")]))
        }
        let positions = JSONElementLines(bytes)
        switch value {
        case .array(let rows):
            guard let resource else {
                return .failure(Failure(problems: [Problem(
                    line: nil,
                    message: "name the resource of a JSON array with --resource (one of \(VantioSeed.sections.joined(separator: ", ")))"
                )]))
            }
            return .success(VantioImport(
                document: .object([resource: value]), rowCount: rows.count, lines: [resource: positions.topLevel]
            ))
        case .object(let sections):
            if explicit {
                return .failure(Failure(problems: [Problem(
                    line: nil, message: "--resource is for CSV files and JSON arrays; this file names its resources"
                )]))
            }
            let count = sections.reduce(0) { $0 + ($1.value.arrayValue?.count ?? 0) }
            return .success(VantioImport(document: value, rowCount: count, lines: positions.byKey))
        default:
            return .failure(Failure(problems: [Problem(
                line: 1, message: "expected an array of rows or an object of lists (users, posters, ...)"
            )]))
        }
    }
}
