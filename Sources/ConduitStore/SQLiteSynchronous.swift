/// SQLite's `PRAGMA synchronous` setting for a file database in WAL mode.
///
/// With ``normal`` a committed transaction survives a killed process but may be lost if the machine loses power
/// before the next checkpoint; with ``full`` every commit waits for the disk.
public enum SQLiteSynchronous: String, Sendable {
    /// `PRAGMA synchronous = NORMAL`: commits survive a crash of the process (the default).
    case normal = "NORMAL"
    /// `PRAGMA synchronous = FULL`: commits survive a power failure too, at the cost of an fsync per commit.
    case full = "FULL"
}
