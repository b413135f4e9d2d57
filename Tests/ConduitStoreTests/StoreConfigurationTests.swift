import Foundation
import Testing

@testable import ConduitStore

private let form = "; the form is postgres://user[:password]@host[:port]/database[?sslmode=disable]"
private let usage = "; give a postgres:// URL, sqlite:PATH or the path of an SQLite file"

@Suite("Parsing --database values")
struct StoreConfigurationTests {
    @Test(
        "accepted forms",
        arguments: [
            (
                "postgres://conduit:secret@db.example:5433/conduit",
                StoreConfiguration.Backend.postgres(url: "postgres://conduit:secret@db.example:5433/conduit")
            ),
            (
                "postgresql://conduit@127.0.0.1/conduit?sslmode=disable",
                .postgres(url: "postgresql://conduit@127.0.0.1/conduit?sslmode=disable")
            ),
            ("  postgres://u@h/d  ", .postgres(url: "postgres://u@h/d")),
            ("sqlite:./conduit-data/conduit.sqlite", .sqlite(path: "./conduit-data/conduit.sqlite")),
            ("sqlite:///var/lib/conduit/conduit.sqlite", .sqlite(path: "/var/lib/conduit/conduit.sqlite")),
            ("sqlite::memory:", .sqliteInMemory),
            (":memory:", .sqliteInMemory),
            ("conduit-data/conduit.sqlite", .sqlite(path: "conduit-data/conduit.sqlite")),
            ("/tmp/conduit.db", .sqlite(path: "/tmp/conduit.db")),
        ]
    )
    func accepted(_ value: String, _ backend: StoreConfiguration.Backend) throws {
        let configuration = try StoreConfiguration(parsing: value)
        #expect(configuration.backend == backend)
        #expect(configuration.maximumConnections == 16)
        #expect(configuration.sqliteSynchronous == .normal)
    }

    @Test(
        "refused forms say what is wrong",
        arguments: [
            ("", "the --database value is empty" + usage),
            (
                "mysql://root@localhost/conduit",
                "unsupported database URL scheme 'mysql'" + usage
            ),
            ("postgres:conduit", "a PostgreSQL URL starts with postgres:// (as in postgres://user@host:5432/database)"),
            (
                "postgres://db.example/conduit",
                "the PostgreSQL URL has no user name" + form
            ),
            (
                "postgres://u@/conduit",
                "the PostgreSQL URL has no host" + form
            ),
            (
                "postgres://u@h/a/b",
                "the PostgreSQL URL has the path '/a/b'; it takes one database name" + form
            ),
            (
                "postgres://u@h/d?sslmode=sometimes",
                "the PostgreSQL URL has sslmode=sometimes; use disable, prefer or require" + form
            ),
            (
                "postgres://u@h/d?pool=3",
                "the PostgreSQL URL has the unsupported parameter 'pool' (only sslmode is understood)" + form
            ),
            (
                "postgres://u@h:99999/d",
                "the PostgreSQL URL has port 99999, outside 1…65535" + form
            ),
            (
                "postgres://u:secret@h:abc/d",
                "the PostgreSQL URL is not a valid URL "
                    + "(percent-encode special characters in the user name and password)" + form
            ),
            ("sqlite:", "the SQLite path is empty" + usage),
            (
                "conduit-data/",
                "the SQLite path 'conduit-data/' is a directory; "
                    + "give a file inside it, such as conduit-data/conduit.sqlite"
            ),
        ]
    )
    func refused(_ value: String, _ message: String) {
        let error = #expect(throws: StoreError.self) { try StoreConfiguration(parsing: value) }
        #expect(error?.code == .invalidConfiguration)
        #expect(error?.description == message)
    }

    @Test("an existing directory is not a database file")
    func directory() {
        let path = FileManager.default.temporaryDirectory.path
        let error = #expect(throws: StoreError.self) { try StoreConfiguration(parsing: path) }
        #expect(error?.description.contains("is a directory") == true)
    }

    @Test("messages never show the password")
    func noPassword() {
        let error = #expect(throws: StoreError.self) {
            try StoreConfiguration(parsing: "postgres://conduit:hunter2@h/d?x=1")
        }
        #expect(error?.description.contains("hunter2") == false)
    }

    @Test("PostgreSQL URL parts, and TLS off by default only on loopback")
    func postgresURL() throws {
        let remote = try PostgresURL(parsing: "postgresql://con%40duit:p%2Fw@db.example:6543/conduit")
        #expect(remote.host == "db.example")
        #expect(remote.port == 6543)
        #expect(remote.username == "con@duit")
        #expect(remote.password == "p/w")
        #expect(remote.database == "conduit")
        #expect(remote.tls == .prefer)
        #expect(remote.endpoint == "db.example:6543")

        let local = try PostgresURL(parsing: "postgres://postgres@127.0.0.1/conduit_test")
        #expect(local.port == 5432)
        #expect(local.password == nil)
        #expect(local.tls == .disable)
        #expect(try PostgresURL(parsing: "postgres://u@localhost").database == nil)
        #expect(try PostgresURL(parsing: "postgres://u@[::1]:5432/d").endpoint == "[::1]:5432")
        #expect(try PostgresURL(parsing: "postgres://u@[::1]:5432/d").tls == .disable)
        #expect(try PostgresURL(parsing: "postgres://u@127.0.0.1/d?sslmode=require").tls == .require)
        #expect(try PostgresURL(parsing: "postgres://u@db.example/d?sslmode=disable").tls == .disable)
        // A URL put together with one slash after the scheme.
        let error = #expect(throws: StoreError.self) { try PostgresURL(parsing: "postgres:/u@127.0.0.1:5432/d") }
        #expect(error?.description == "the PostgreSQL URL does not start with postgres:// or postgresql://" + form)
    }
}
