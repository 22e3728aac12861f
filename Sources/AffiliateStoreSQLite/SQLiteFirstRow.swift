import GRDB

extension Statement {
    /// The first row, decoded while the statement still holds it. `Row.fetchOne` copies the
    /// row out first, which a single-record read (the hot path of every request) does not need.
    func decodeFirstRow<T>(_ arguments: StatementArguments, _ decode: (Row) throws -> T) throws -> T? {
        let cursor = try Row.fetchCursor(self, arguments: arguments)
        return try withExtendedLifetime(cursor) { try cursor.next().map(decode) }
    }
}
