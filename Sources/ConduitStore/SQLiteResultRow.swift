import SQLKit
import SQLiteKit

/// One result row of an ``SQLiteHandle`` statement, read through SQLKit with SQLiteKit's decoder.
struct SQLiteResultRow: SQLRow {
    /// The column names of a statement's rows, with their positions.
    struct Columns: Sendable {
        let names: [String]
        let offsets: [String: Int]

        init(_ names: [String]) {
            self.names = names
            self.offsets = Dictionary(names.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        }
    }

    let columns: Columns
    let values: [SQLiteData]
    var decoder = SQLiteDataDecoder()

    var allColumns: [String] { self.columns.names }

    func contains(column: String) -> Bool {
        self.columns.offsets[column] != nil
    }

    func decodeNil(column: String) throws -> Bool {
        try self.value(column) == .null
    }

    func decode<D: Decodable>(column: String, as type: D.Type) throws -> D {
        try self.decoder.decode(D.self, from: self.value(column))
    }

    private func value(_ column: String) throws -> SQLiteData {
        guard let offset = self.columns.offsets[column] else {
            throw StoreError(
                .queryFailed,
                "the result has no column '\(column)' (it has \(self.columns.names.joined(separator: ", ")))"
            )
        }
        return self.values[offset]
    }
}
