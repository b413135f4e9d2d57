import ConduitContext
import ConduitStore
import SQLKit

/// A system job a worker holds.
struct ClaimedJob: Sendable, Hashable {
    var id: Guid
    var name: String
    var data: String?
    var stepId: Guid?
    var retryCount: Int
    var createdOn: Int64
    var sequence: Int64
    var postponeUntil: Int64?
    /// When this run started (ticks).
    var startedOn: Int64
}

/// The `asyncoperation` rows as a work queue: claim with a lease, renew, finish, recover. One adapter for SQLite and
/// PostgreSQL; on PostgreSQL claims skip rows another node is claiming (`FOR UPDATE SKIP LOCKED`).
struct JobQueue: Sendable {
    let store: Store
    /// This node's `hostid`.
    let hostId: String
    let leaseTicks: Int64

    /// The jobs that may run now, in `sequence` order: Ready ones whose `postponeuntil` (if any) has passed, Waiting
    /// ones whose retry time has come, and Locked ones whose lease ran out (their node died) — unless an earlier
    /// job of the same record and step is not completed yet (per-record order).
    static let runnable = """
        ((j.statecode = 0 AND (j.postponeuntil IS NULL OR j.postponeuntil <= $1)) \
        OR (j.statecode = 1 AND j.postponeuntil IS NOT NULL AND j.postponeuntil <= $1) \
        OR (j.statecode = 2 AND j.statuscode = 20 AND j.conduit_leaseexpireson < $1)) \
        AND j.operationtype = 1 \
        AND NOT EXISTS (SELECT 1 FROM asyncoperation e WHERE e.regardingobjectid = j.regardingobjectid \
        AND e.owningextensionid = j.owningextensionid AND e.sequence < j.sequence AND e.statecode <> 3)
        """

    /// Claims up to `limit` runnable jobs for this node, in one statement.
    func claim(limit: Int, now: Int64) async throws -> [ClaimedJob] {
        guard limit > 0 else { return [] }
        let lock = store.flavor == .postgres ? " FOR UPDATE SKIP LOCKED" : ""
        // Walk the open jobs in sequence order and stop at `limit` (SQLite would otherwise gather and sort them all).
        let index = store.flavor == .sqlite ? " INDEXED BY asyncoperation_open" : ""
        // $1 now, $2 limit, $3 host, $4 lease expiry.
        let sql = """
            UPDATE asyncoperation SET statecode = 2, statuscode = 20, hostid = $3, conduit_leaseexpireson = $4, \
            startedon = $1, modifiedon = $1, versionnumber = versionnumber + 1 \
            WHERE asyncoperationid IN (SELECT j.asyncoperationid FROM asyncoperation j\(index) WHERE j.statecode <> 3 AND \
            \(Self.runnable) ORDER BY j.sequence LIMIT $2\(lock)) \
            RETURNING asyncoperationid, name, data, owningextensionid, retrycount, createdon, sequence, postponeuntil
            """
        let binds: [any Encodable & Sendable] = [now, limit, hostId, now + leaseTicks]
        // Safe to redo: a claim lost in a database crash leaves the job runnable. Job tables change faster than
        // their statistics: left to its estimates, PostgreSQL's planner may gather and sort every open job. Walking
        // `asyncoperation_open` in order and stopping at the limit is always right, so allow nothing else.
        let planner = [("enable_seqscan", "off"), ("enable_bitmapscan", "off"), ("enable_sort", "off")]
        let rows = try await store.relaxedTransaction(postgresSettings: planner) { db in
            try await db.rows(SQLNumberedStatement(sql, binds: binds))
        }
        return try rows.map { row in
            guard let id = Guid(try row.decode(column: "asyncoperationid", as: String.self)) else {
                throw PlatformError(.unexpected, "A system job has an unreadable id.")
            }
            return ClaimedJob(
                id: id,
                name: try row.decode(column: "name", as: String?.self) ?? "",
                data: try row.decode(column: "data", as: String?.self),
                stepId: try row.decode(column: "owningextensionid", as: String?.self).flatMap(Guid.init),
                retryCount: try row.decode(column: "retrycount", as: Int?.self) ?? 0,
                createdOn: try row.decode(column: "createdon", as: Int64?.self) ?? now,
                sequence: try row.decode(column: "sequence", as: Int64?.self) ?? 0,
                postponeUntil: try row.decode(column: "postponeuntil", as: Int64?.self),
                startedOn: now
            )
        }.sorted { $0.sequence < $1.sequence }
    }

    /// Extends the lease of the jobs this node runs.
    func renew(_ ids: [Guid], now: Int64) async throws {
        guard !ids.isEmpty else { return }
        var statement = SQLStatement("UPDATE asyncoperation SET conduit_leaseexpireson = ")
        statement.bind(now + leaseTicks)
        statement.append(" WHERE hostid = ")
        statement.bind(hostId)
        statement.append(" AND statecode = 2 AND asyncoperationid IN (")
        for (index, id) in ids.enumerated() {
            if index > 0 { statement.append(", ") }
            statement.bind(id.description)
        }
        statement.append(")")
        let renewal = statement
        try await store.relaxedTransaction { db in try await db.run(renewal) }
    }

    /// How one run ended, to be recorded.
    struct Finished: Sendable {
        var job: ClaimedJob
        var outcome: JobRunOutcome
        var autoDelete: Bool
        /// A number in [0, 1) for the retry delay's jitter.
        var random: Double
    }

    /// Records how runs ended, in one transaction (group commit: workers that finish together share it). A job this
    /// node lost meanwhile (its lease ran out and another node took it) is left alone: its status is `nil`.
    func finish(_ batch: [Finished], policy: RetryPolicy, now: Int64) async throws -> [JobStatus?] {
        let hostId = self.hostId
        let lock = store.flavor == .postgres ? " FOR UPDATE" : ""
        // Safe to redo: an outcome lost in a database crash makes the job run again (at least once).
        return try await store.relaxedTransaction { db in
            var statuses: [JobStatus?] = []
            for item in batch {
                let job = item.job
                // The common case, in one statement: the job is still this node's and still plainly In Progress.
                if !(item.autoDelete && item.outcome == .succeeded) {
                    let change = JobLifecycle.finish(
                        JobLifecycle.Snapshot(
                            status: .inProgress,
                            retryCount: job.retryCount,
                            createdOn: job.createdOn,
                            postponeUntil: job.postponeUntil
                        ),
                        outcome: item.outcome,
                        policy: policy,
                        now: now,
                        random: item.random
                    )
                    let updated = try await Self.write(
                        change,
                        to: job.id,
                        db: db,
                        now: now,
                        executionSeconds: job.executionSeconds(now),
                        onlyIfRunningOn: hostId
                    )
                    if updated {
                        statuses.append(change.status)
                        continue
                    }
                }
                // Otherwise look at the job as it is now: a person may have paused or canceled it, or it is gone.
                let rows = try await db.rows(
                    SQLNumberedStatement(
                        "SELECT statuscode, hostid, retrycount, postponeuntil FROM asyncoperation WHERE asyncoperationid = $1\(lock)",
                        binds: [job.id.description]
                    )
                )
                guard let row = rows.first,
                    try row.decode(column: "hostid", as: String?.self) == hostId,
                    let status = JobStatus(
                        statusCode: Int32(try row.decode(column: "statuscode", as: Int?.self) ?? -1)
                    ),
                    status.stateCode == 2
                else {
                    statuses.append(nil)
                    continue
                }
                let snapshot = JobLifecycle.Snapshot(
                    status: status,
                    retryCount: try row.decode(column: "retrycount", as: Int?.self) ?? job.retryCount,
                    createdOn: job.createdOn,
                    postponeUntil: try row.decode(column: "postponeuntil", as: Int64?.self)
                )
                let change = JobLifecycle.finish(
                    snapshot,
                    outcome: item.outcome,
                    policy: policy,
                    now: now,
                    random: item.random
                )
                if change.status == .succeeded && item.autoDelete {
                    _ = try await db.rows(
                        SQLNumberedStatement(
                            "DELETE FROM asyncoperation WHERE asyncoperationid = $1",
                            binds: [job.id.description]
                        )
                    )
                } else {
                    try await Self.write(
                        change,
                        to: job.id,
                        db: db,
                        now: now,
                        executionSeconds: job.executionSeconds(now)
                    )
                }
                statuses.append(change.status)
            }
            return statuses
        }
    }

    /// Writes a transition's columns (and clears the lease). With `onlyIfRunningOn`, only while the job is In
    /// Progress (20) on that node; returns whether a row changed.
    @discardableResult
    static func write(
        _ change: JobLifecycle.Change,
        to id: Guid,
        db: any SQLDatabase,
        now: Int64,
        executionSeconds: Double? = nil,
        onlyIfRunningOn host: String? = nil
    ) async throws -> Bool {
        var sql = """
            UPDATE asyncoperation SET statecode = $1, statuscode = $2, retrycount = $3, postponeuntil = $4, \
            modifiedon = $5, versionnumber = versionnumber + 1
            """
        var binds: [any Encodable & Sendable] = [
            change.status.stateCode, change.status.statusCode, change.retryCount, change.postponeUntil, now,
        ]
        func set(_ column: String, _ value: any Encodable & Sendable) {
            binds.append(value)
            sql += ", \(column) = $\(binds.count)"
        }
        if change.status.stateCode != 2 { sql += ", conduit_leaseexpireson = NULL" }
        if let error = change.error {
            set("errorcode", error.code)
            set("message", error.message)
            set("friendlymessage", error.friendlyMessage)
        }
        if let completed = change.completedOn { set("completedon", completed) }
        if let executionSeconds { set("executiontimespan", executionSeconds) }
        binds.append(id.description)
        sql += " WHERE asyncoperationid = $\(binds.count)"
        if let host {
            binds.append(host)
            sql += " AND statuscode = 20 AND hostid = $\(binds.count)"
        }
        sql += " RETURNING asyncoperationid"
        return !(try await db.rows(SQLNumberedStatement(sql, binds: binds))).isEmpty
    }

    /// SQLite serves one node: jobs still Locked at start were left by this node's previous process, so they are
    /// runnable again now (Pausing ones become Waiting, Canceling ones Canceled).
    func recoverAfterRestart(now: Int64) async throws -> Int {
        try await store.transaction { db in
            let rows = try await db.rows(
                SQLNumberedStatement(
                    """
                    UPDATE asyncoperation SET \
                    statecode = CASE statuscode WHEN 21 THEN 1 WHEN 22 THEN 3 ELSE 0 END, \
                    statuscode = CASE statuscode WHEN 21 THEN 10 WHEN 22 THEN 32 ELSE 0 END, \
                    completedon = CASE statuscode WHEN 22 THEN $1 ELSE completedon END, \
                    conduit_leaseexpireson = NULL, modifiedon = $1, versionnumber = versionnumber + 1 \
                    WHERE statecode = 2 RETURNING asyncoperationid
                    """,
                    binds: [now]
                )
            )
            return rows.count
        }
    }

    /// Jobs whose node died while they were Pausing or Canceling: finish the person's request (PostgreSQL nodes
    /// run this on every poll; a plain In Progress job with an expired lease is simply claimed again).
    func settleAbandoned(now: Int64) async throws {
        try await store.transaction { db in
            _ = try await db.rows(
                SQLNumberedStatement(
                    """
                    UPDATE asyncoperation SET \
                    statecode = CASE statuscode WHEN 21 THEN 1 ELSE 3 END, \
                    statuscode = CASE statuscode WHEN 21 THEN 10 ELSE 32 END, \
                    completedon = CASE statuscode WHEN 22 THEN $1 ELSE completedon END, \
                    conduit_leaseexpireson = NULL, modifiedon = $1, versionnumber = versionnumber + 1 \
                    WHERE statecode = 2 AND statuscode IN (21, 22) AND conduit_leaseexpireson < $1
                    """,
                    binds: [now]
                )
            )
        }
    }

    /// Deletes up to `limit` jobs that completed before `before`; returns how many. Small batches keep the writer
    /// free for commits between them.
    func purge(completedBefore before: Int64, limit: Int = 500) async throws -> Int {
        try await store.relaxedTransaction { db in
            try await db.rows(
                SQLNumberedStatement(
                    """
                    DELETE FROM asyncoperation WHERE asyncoperationid IN (SELECT asyncoperationid FROM asyncoperation \
                    WHERE statecode = 3 AND completedon < $1 ORDER BY completedon LIMIT $2) RETURNING asyncoperationid
                    """,
                    binds: [before, limit]
                )
            ).count
        }
    }

    /// The earliest time a Waiting or postponed Ready job becomes runnable, if any (to sleep until then).
    func nextDueTime() async throws -> Int64? {
        try await store.withDatabase { db in
            let rows = try await db.rows(
                SQLNumberedStatement(
                    "SELECT MIN(postponeuntil) AS due FROM asyncoperation WHERE statecode IN (0, 1) AND postponeuntil IS NOT NULL",
                    binds: []
                )
            )
            return try rows.first?.decode(column: "due", as: Int64?.self)
        }
    }
}

extension ClaimedJob {
    func executionSeconds(_ now: Int64) -> Double {
        Double(now - startedOn) / Double(JobLifecycle.ticksPerSecond)
    }
}

/// SQL written with `$1`, `$2`… placeholders (PostgreSQL's form), rewritten to `?N` for SQLite by the dialect.
struct SQLNumberedStatement: SQLExpression {
    let sql: String
    let binds: [any Encodable & Sendable]

    init(_ sql: String, binds: [any Encodable & Sendable]) {
        self.sql = sql
        self.binds = binds
    }

    func serialize(to serializer: inout SQLSerializer) {
        // Split at each $N and emit the dialect's placeholder for bind N (binds are numbered in order of use, so
        // a repeated $1 binds its value again).
        var text = Substring(sql)
        while let dollar = text.firstIndex(of: "$") {
            serializer.write(String(text[..<dollar]))
            let digits = text[text.index(after: dollar)...].prefix { $0.isNumber }
            guard let number = Int(digits), (1...binds.count).contains(number) else {
                serializer.write("$")
                text = text[text.index(after: dollar)...]
                continue
            }
            serializer.write(bind: binds[number - 1])
            text = text[text.index(dollar, offsetBy: 1 + digits.count)...]
        }
        serializer.write(String(text))
    }
}
