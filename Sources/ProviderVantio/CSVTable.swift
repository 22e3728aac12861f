/// A CSV file (RFC 4180: quoted cells, `""` for a quote, LF or CRLF) as rows of cells, each row
/// with the line it starts on, so import problems point at the line an operator sees.
struct CSVTable {
    struct Row {
        let line: Int
        let cells: [String]
    }

    struct Failure: Error {
        let line: Int
        let message: String
    }

    let rows: [Row]

    init(_ bytes: [UInt8]) throws(Failure) {
        var rows: [Row] = []
        var cells: [String] = []
        var cell: [UInt8] = []
        var line = 1
        var rowLine = 1
        var index = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        var quoted = false
        var cellStarted = false

        func endCell() {
            cells.append(String(decoding: cell, as: UTF8.self))
            cell.removeAll(keepingCapacity: true)
            cellStarted = false
        }

        while index < bytes.count {
            let byte = bytes[index]
            if quoted {
                if byte == UInt8(ascii: "\"") {
                    if index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "\"") {
                        cell.append(byte)
                        index += 2
                        continue
                    }
                    quoted = false
                } else {
                    if byte == 0x0A { line += 1 }
                    cell.append(byte)
                }
                index += 1
                continue
            }
            switch byte {
            case UInt8(ascii: "\""):
                guard !cellStarted else {
                    throw Failure(line: line, message: "a quote inside an unquoted cell; quote the whole cell")
                }
                quoted = true
                cellStarted = true
            case UInt8(ascii: ","):
                endCell()
            case 0x0D where index + 1 < bytes.count && bytes[index + 1] == 0x0A:
                break
            case 0x0A:
                endCell()
                if !(cells.count == 1 && cells[0].isEmpty) { rows.append(Row(line: rowLine, cells: cells)) }
                cells.removeAll()
                line += 1
                rowLine = line
            default:
                cell.append(byte)
                cellStarted = true
            }
            index += 1
        }
        if quoted { throw Failure(line: rowLine, message: "a quoted cell is not closed") }
        endCell()
        if !(cells.count == 1 && cells[0].isEmpty) { rows.append(Row(line: rowLine, cells: cells)) }
        self.rows = rows
    }
}
