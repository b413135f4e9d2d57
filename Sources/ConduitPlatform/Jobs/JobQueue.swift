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
    /// The trace context of the request that wrote the job.
    var traceparent: String? = nil
    /// The `correlationid` of the operation that wrote the job (for the logs).
    var correlationId: String? = nil
}

/// The `asyncoperation` rows as a work queue: claim with a lease, renew, finish, recover. One adapter for SQLite and
/// PostgreSQL; on PostgreSQL claims skip rows another node is claiming (`FOR UPDATE SKIP LOCKED`).
struct JobQueue: Sendable {
    let store: Store
    /// This node's `hostid`.
    let hostId: String
    let leaseTicks: Int64

    /// The jobs that may run at `now`, in `sequence` order: Ready ones whose `postponeuntil` (if any) has passed,
    /// Waiting ones whose retry time has come, and Locked ones whose lease ran out (their node died) — unless an
    /// earlier job of the same record and step is not completed yet (per-record order).
    static func runnable(now: Int64) -> SQLQueryString {
        """
        ((j.statecode = 0 AND (j.postponeuntil IS NULL OR j.postponeuntil <= \(bind: now))) \
        OR (j.statecode = 1 AND j.postponeuntil IS NOT NULL AND j.postponeuntil <= \(bind: now)) \
        OR (j.statecode = 2 AND j.statuscode = 20 AND j.conduit_leaseexpireson < \(bind: now))) \
        AND j.operationtype IN (1, 10) \
        AND NOT EXISTS (SELECT 1 FROM asyncoperation e WHERE e.regardingobjectid = j.regardingobjectid \
        AND e.owningextensionid = j.owningextensionid AND e.sequence < j.sequence AND e.statecode <> 3)
        """
    }

    /// Claims up to `limit` runnable jobs for this node, in one statement.
    func claim(limit: Int, now: Int64) async throws -> [ClaimedJob] {
        guard limit > 0 else { return [] }
        let lock = store.flavor == .postgres ? " FOR UPDATE SKIP LOCKED" : ""
        // Walk the open jobs in sequence order and stop at `limit` (SQLite would otherwise gather and sort them all).
        let index = store.flavor == .sqlite ? " INDEXED BY asyncoperation_open" : ""
        let sql: SQLQueryString = """
            UPDATE asyncoperation SET statecode = 2, statuscode = 20, hostid = \(bind: hostId), \
            conduit_leaseexpireson = \(bind: now + leaseTicks), startedon = \(bind: now), modifiedon = \(bind: now), \
            versionnumber = versionnumber + 1 WHERE asyncoperationid IN (SELECT j.asyncoperationid FROM asyncoperation \
            j\(unsafeRaw: index) WHERE j.statecode <> 3 AND \(Self.runnable(now: now)) ORDER BY j.sequence \
            LIMIT \(bind: limit)\(unsafeRaw: lock)) \
            RETURNING asyncoperationid, name, data, owningextensionid, retrycount, createdon, sequence, postponeuntil, \
            conduit_traceparent, correlationid
            """
        // Safe to redo: a claim lost in a database crash leaves the job runnable. Job tables change faster than
        // their statistics: left to its estimates, PostgreSQL's planner may gather and sort every open job. Walking
        // `asyncoperation_open` in order and stopping at the limit is always right, so allow nothing else.
        let planner = [("enable_seqscan", "off"), ("enable_bitmapscan", "off"), ("enable_sort", "off")]
        let rows = try await store.relaxedTransaction(postgresSettings: planner) { db in
            try await db.raw(sql).all()
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
                startedOn: now,
                traceparent: try row.decode(column: "conduit_traceparent", as: String?.self),
                correlationId: try row.decode(column: "correlationid", as: String?.self)
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
        /// A two-way or REST relay listener's answer, kept in `conduit_response`.
        var answer: String? = nil
        var autoDelete: Bool
        /// A number in [0, 1) for the retry delay's jitter.
        var random: Double
        /// The service endpoint the job's step posts to (for the logs).
        var endpointId: Guid? = nil
    }

    /// Records how runs ended, in one transaction (group commit: workers that finish together share it). A job this
    /// node lost meanwhile (its lease ran out and another node took it) is left alone: its status is `nil`.
    func finish(_ batch: [Finished], policy: RetryPolicy, now: Int64) async throws -> [JobStatus?] {
        let hostId = self.hostId
        let lock = store.flavor == .postgres
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
                        answer: item.answer,
                        runStartedOn: job.startedOn,
                        onlyIfRunningOn: hostId
                    )
                    if updated {
                        statuses.append(change.status)
                        continue
                    }
                }
                // Otherwise look at the job as it is now: a person may have paused or canceled it, or it is gone.
                guard let current = try await Self.current(job.id, db: db, lock: lock),
                    current.hostId == hostId, let snapshot = current.snapshot, snapshot.status.stateCode == 2
                else {
                    statuses.append(nil)
                    continue
                }
                let change = JobLifecycle.finish(
                    snapshot,
                    outcome: item.outcome,
                    policy: policy,
                    now: now,
                    random: item.random
                )
                if change.status == .succeeded && item.autoDelete {
                    try await db.raw("DELETE FROM asyncoperation WHERE asyncoperationid = \(bind: job.id.description)")
                        .run()
                } else {
                    try await Self.write(
                        change,
                        to: job.id,
                        db: db,
                        now: now,
                        executionSeconds: job.executionSeconds(now),
                        answer: item.answer,
                        runStartedOn: job.startedOn
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
        answer: String? = nil,
        runStartedOn: Int64? = nil,
        onlyIfRunningOn host: String? = nil
    ) async throws -> Bool {
        var sql: SQLQueryString = """
            UPDATE asyncoperation SET statecode = \(bind: change.status.stateCode), \
            statuscode = \(bind: change.status.statusCode), retrycount = \(bind: change.retryCount), \
            postponeuntil = \(bind: change.postponeUntil), modifiedon = \(bind: now), versionnumber = versionnumber + 1
            """
        if change.status.stateCode != 2 { sql.appendLiteral(", conduit_leaseexpireson = NULL") }
        if let error = change.error {
            sql.appendLiteral(", errorcode = ")
            sql.appendInterpolation(bind: error.code)
            sql.appendLiteral(", message = ")
            sql.appendInterpolation(bind: error.message)
            sql.appendLiteral(", friendlymessage = ")
            sql.appendInterpolation(bind: error.friendlyMessage)
        }
        if let completed = change.completedOn {
            sql.appendLiteral(", completedon = ")
            sql.appendInterpolation(bind: completed)
        }
        if let answer, change.status == .succeeded {
            sql.appendLiteral(", conduit_response = ")
            sql.appendInterpolation(bind: String(answer.prefix(100_000)))
        }
        if let executionSeconds {
            sql.appendLiteral(", executiontimespan = ")
            sql.appendInterpolation(bind: executionSeconds)
        }
        if let runStartedOn {
            // The run history: one line per run, appended.
            sql.appendLiteral(", conduit_attempts = COALESCE(conduit_attempts, '') || ")
            sql.appendInterpolation(bind: JobAttempt(startedOn: runStartedOn, endedOn: now, change: change).line)
        }
        sql.appendLiteral(" WHERE asyncoperationid = ")
        sql.appendInterpolation(bind: id.description)
        if let host {
            sql.appendLiteral(" AND statuscode = 20 AND hostid = ")
            sql.appendInterpolation(bind: host)
        }
        sql.appendLiteral(" RETURNING asyncoperationid")
        return !(try await db.raw(sql).all()).isEmpty
    }

    /// A job's row as it is now (on PostgreSQL with `lock`, locked for the transaction), or `nil` when it is gone.
    static func current(_ id: Guid, db: any SQLDatabase, lock: Bool) async throws -> CurrentJob? {
        let row = try await db.raw(
            """
            SELECT statuscode, hostid, retrycount, createdon, postponeuntil FROM asyncoperation \
            WHERE asyncoperationid = \(bind: id.description)\(unsafeRaw: lock ? " FOR UPDATE" : "")
            """
        ).first()
        guard let row else { return nil }
        return CurrentJob(
            statusCode: Int32(try row.decode(column: "statuscode", as: Int?.self) ?? -1),
            hostId: try row.decode(column: "hostid", as: String?.self),
            retryCount: try row.decode(column: "retrycount", as: Int?.self) ?? 0,
            createdOn: try row.decode(column: "createdon", as: Int64?.self) ?? 0,
            postponeUntil: try row.decode(column: "postponeuntil", as: Int64?.self)
        )
    }

    /// SQLite serves one node: jobs still Locked at start were left by this node's previous process, so they are
    /// runnable again now (Pausing ones become Waiting, Canceling ones Canceled).
    func recoverAfterRestart(now: Int64) async throws -> Int {
        try await store.transaction { db in
            try await db.raw(
                """
                UPDATE asyncoperation SET \
                statecode = CASE statuscode WHEN 21 THEN 1 WHEN 22 THEN 3 ELSE 0 END, \
                statuscode = CASE statuscode WHEN 21 THEN 10 WHEN 22 THEN 32 ELSE 0 END, \
                completedon = CASE statuscode WHEN 22 THEN \(bind: now) ELSE completedon END, \
                conduit_leaseexpireson = NULL, modifiedon = \(bind: now), versionnumber = versionnumber + 1 \
                WHERE statecode = 2 RETURNING asyncoperationid
                """
            ).all().count
        }
    }

    /// Jobs whose node died while they were Pausing or Canceling: finish the person's request (PostgreSQL nodes
    /// run this on every poll; a plain In Progress job with an expired lease is simply claimed again).
    func settleAbandoned(now: Int64) async throws {
        try await store.transaction { db in
            try await db.raw(
                """
                UPDATE asyncoperation SET \
                statecode = CASE statuscode WHEN 21 THEN 1 ELSE 3 END, \
                statuscode = CASE statuscode WHEN 21 THEN 10 ELSE 32 END, \
                completedon = CASE statuscode WHEN 22 THEN \(bind: now) ELSE completedon END, \
                conduit_leaseexpireson = NULL, modifiedon = \(bind: now), versionnumber = versionnumber + 1 \
                WHERE statecode = 2 AND statuscode IN (21, 22) AND conduit_leaseexpireson < \(bind: now)
                """
            ).run()
        }
    }

    /// Deletes up to `limit` jobs that completed before `before`; returns how many. Small batches keep the writer
    /// free for commits between them.
    func purge(completedBefore before: Int64, limit: Int = 500) async throws -> Int {
        try await store.relaxedTransaction { db in
            try await db.raw(
                """
                DELETE FROM asyncoperation WHERE asyncoperationid IN (SELECT asyncoperationid FROM asyncoperation \
                WHERE statecode = 3 AND completedon < \(bind: before) ORDER BY completedon LIMIT \(bind: limit)) \
                RETURNING asyncoperationid
                """
            ).all().count
        }
    }
}

extension ClaimedJob {
    func executionSeconds(_ now: Int64) -> Double {
        Double(now - startedOn) / Double(JobLifecycle.ticksPerSecond)
    }
}

/// A job's row as it is now.
struct CurrentJob: Sendable {
    var statusCode: Int32
    var hostId: String?
    var retryCount: Int
    var createdOn: Int64
    var postponeUntil: Int64?

    /// The lifecycle's view of it; `nil` for a `statuscode` that is none of the eight.
    var snapshot: JobLifecycle.Snapshot? {
        JobStatus(statusCode: statusCode).map {
            JobLifecycle.Snapshot(
                status: $0,
                retryCount: retryCount,
                createdOn: createdOn,
                postponeUntil: postponeUntil
            )
        }
    }
}
