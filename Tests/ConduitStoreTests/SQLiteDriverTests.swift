import ConduitTestSupport
import Foundation
import SQLKit
import Testing

@testable import ConduitStore

@Suite("SQLite driver (the system library behind the store)", .timeLimit(.minutes(1)))
struct SQLiteDriverTests {
    struct Row: Codable, Equatable {
        var i: Int
        var d: Double
        var t: String
        var b: Data
        var n: String?
        var flag: Bool
    }

    @Test("values round-trip through binds and rows, on the writer and on readers")
    func values() async throws {
        try await TestBackend.sqliteFile.withStore { store in
            let row = Row(i: Int(Int64.min) + 1, d: 0.1, t: "é 😀 \u{0}x", b: Data([0, 1, 255]), n: nil, flag: true)
            let written = try await store.transaction { db in
                try await db.raw("CREATE TABLE v (i INTEGER, d REAL, t TEXT, b BLOB, n TEXT, flag INTEGER)").run()
                try await db.insert(into: "v").model(row).run()
                return try await db.select().columns("*").from("v").first(decoding: Row.self)
            }
            #expect(written == row)
            let read = try await store.withDatabase { db in
                try await db.select().columns("*").from("v").first(decoding: Row.self)
            }
            #expect(read == row)
        }
    }

    @Test("errors carry SQLite's message; a text with two statements is refused, not half run")
    func errors() async throws {
        try await TestBackend.sqliteFile.withStore { store in
            try await store.transaction { db in
                try await db.raw("CREATE TABLE u (id INTEGER PRIMARY KEY)").run()
            }
            let duplicate = await #expect(throws: (any Error).self) {
                try await store.transaction { db in
                    try await db.raw("INSERT INTO u (id) VALUES (1)").run()
                    try await db.raw("INSERT INTO u (id) VALUES (1)").run()
                }
            }
            #expect(String(describing: duplicate).contains("UNIQUE constraint failed: u.id"))
            let syntax = await #expect(throws: (any Error).self) {
                try await store.withDatabase { db in try await db.raw("SELEC 1").run() }
            }
            #expect(String(describing: syntax).contains("syntax error"))
            let two = await #expect(throws: (any Error).self) {
                try await store.transaction { db in
                    try await db.raw("INSERT INTO u (id) VALUES (2); INSERT INTO u (id) VALUES (3)").run()
                }
            }
            #expect(String(describing: two).contains("more than one statement"))
            let count = try await store.withDatabase { db in
                try await db.raw("SELECT COUNT(*) AS n FROM u").first(decodingColumn: "n", as: Int.self)
            }
            #expect(count == 0)
            // A trailing semicolon is one statement.
            try await store.transaction { db in try await db.raw("INSERT INTO u (id) VALUES (4);\n").run() }
        }
    }
}
