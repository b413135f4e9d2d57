import ConduitContext
import ConduitPlatform
import ConduitTestSupport
import Foundation
import Logging
import Synchronization
import Testing

/// The asynchronous service running real system jobs on both backends.
@Suite("asynchronous service", .timeLimit(.minutes(3)))
struct AsyncServiceTests {
    /// Retries in milliseconds, so tests need not wait.
    static let quickRetries = RetryPolicy(
        initialDelay: .milliseconds(20),
        multiplier: 2,
        maximumDelay: .milliseconds(200),
        minimumDelay: .milliseconds(5),
        giveUpAfter: .seconds(60)
    )

    static func configuration(
        workers: Int = 4,
        retryPolicy: RetryPolicy = quickRetries,
        hostId: String = "test-node"
    ) -> AsyncServiceConfiguration {
        AsyncServiceConfiguration(
            workers: workers,
            pollInterval: .milliseconds(200),
            leaseDuration: .seconds(5),
            executionTimeout: .seconds(20),
            retryPolicy: retryPolicy,
            hostId: hostId
        )
    }

    /// Runs `body` while an asynchronous service works on the platform.
    static func withService<T: Sendable>(
        _ h: PlatformHarness,
        _ configuration: AsyncServiceConfiguration = configuration(),
        _ body: @Sendable (AsyncService) async throws -> T
    ) async throws -> T {
        var logger = Logger(label: "conduit.test.jobs")
        logger.logLevel = .warning
        let service = AsyncService(platform: h.platform, configuration: configuration, logger: logger)
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                try await service.run()
                return nil
            }
            let result = try await body(service)
            group.cancelAll()
            while try await group.next() != nil {}
            return result
        }
    }

    /// The job's status, retry count and messages.
    static func job(_ h: PlatformHarness, _ id: Guid) async throws -> Entity {
        try await h.service.retrieve(
            EntityReference(logicalName: "asyncoperation", id: id),
            columns: .columns(["statuscode", "statecode", "retrycount", "message", "friendlymessage", "errorcode"])
        )
    }

    static func status(_ job: Entity) -> Int32? {
        if case .optionSetValue(let option)? = job.attributes["statuscode"] { return option.value }
        return nil
    }

    /// Waits until every system job is completed (state 3); returns them all.
    static func waitForJobs(_ h: PlatformHarness, timeout: Duration = .seconds(60)) async throws -> [Entity] {
        let deadline = ContinuousClock.now + timeout
        let open = QueryExpression(
            entityName: "asyncoperation",
            columnSet: .columns(["statuscode"]),
            criteria: FilterExpression(conditions: [ConditionExpression("statecode", .notEqual, [.int(3)])])
        )
        while true {
            let remaining = try await h.service.retrieveMultiple(open).entities
            if remaining.isEmpty { break }
            guard ContinuousClock.now < deadline else {
                Issue.record(
                    "\(remaining.count) system jobs still open after \(timeout): \(remaining.map { status($0) ?? -1 })"
                )
                break
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return try await h.service.retrieveMultiple(
            QueryExpression(entityName: "asyncoperation", columnSet: .columns(["statuscode", "statecode"]))
        ).entities
    }

    @Test(
        "a job that fails externally N times goes Waiting N times with growing postponeuntil, then Succeeded",
        arguments: TestBackend.available
    )
    func retriesThenSucceeds(backend: TestBackend) async throws {
        try await PlatformHarness.run(backend) { h in
            let key = "flaky-\(backend)-\(UUID())"
            try await h.registerStep(
                "flaky",
                plugin: "Flaky",
                message: "Create",
                table: "contact",
                stage: 40,
                mode: 1,
                configuration: "\(key)|3|external"
            )
            try await Self.withService(h) { _ in
                _ = try await h.service.create(
                    Entity(logicalName: "contact", attributes: [("lastname", .string("Ada"))])
                )
                let jobs = try await Self.waitForJobs(h)
                #expect(jobs.count == 1)
                let job = try await Self.job(h, jobs[0].id)
                #expect(Self.status(job) == 30)
                #expect(job.attributes["retrycount"] == .int(3))
                #expect(job.attributes["message"] == .string("flaky failure 3"))
                // The run history: three retries with their errors, then the success, in order.
                let row = try await h.service.retrieve(
                    EntityReference(logicalName: "asyncoperation", id: jobs[0].id),
                    columns: .columns(["conduit_attempts"])
                )
                guard case .string(let text)? = row.attributes["conduit_attempts"] else {
                    Issue.record("no run history: \(row.attributes)")
                    return
                }
                let history = JobAttempt.history(text)
                #expect(history.map(\.outcome) == ["retry", "retry", "retry", "succeeded"])
                #expect(history.prefix(3).map(\.message) == ["flaky failure 1", "flaky failure 2", "flaky failure 3"])
                #expect(history.prefix(3).allSatisfy { $0.errorCode != nil } && history[3].errorCode == nil)
                #expect(zip(history, history.dropFirst()).allSatisfy { $0.endedOn <= $1.startedOn })
                #expect(history.allSatisfy { $0.startedOn <= $0.endedOn })
            }
            let attempts = PluginLog.lines(key)
            #expect(attempts.count == 4)
            // Attempt n sees the retry count and the postponeuntil its previous failure set.
            #expect(attempts.map { $0.split(separator: " ")[3] } == ["0", "1", "2", "3"])
            let postponed = attempts.dropFirst().compactMap { Int64($0.split(separator: " ")[5]) }
            #expect(postponed.count == 3)
            #expect(postponed == postponed.sorted() && Set(postponed).count == 3)
            // Every attempt had the same OperationId: the job's id, stable across retries.
            #expect(Set(PluginLog.contexts(key).map(\.operationId)).count == 1)
        }
    }

    @Test(
        "a permanent external failure ends Failed after the give-up time; an internal one at once",
        arguments: TestBackend.available
    )
    func failures(backend: TestBackend) async throws {
        try await PlatformHarness.run(backend) { h in
            let external = "permanent-\(backend)-\(UUID())"
            let internalKey = "internal-\(backend)-\(UUID())"
            try await h.registerStep(
                "down",
                plugin: "Flaky",
                message: "Create",
                table: "contact",
                stage: 40,
                mode: 1,
                configuration: "\(external)|1000|external"
            )
            try await h.registerStep(
                "broken",
                plugin: "Flaky",
                message: "Create",
                table: "account",
                stage: 40,
                mode: 1,
                configuration: "\(internalKey)|1000|internal"
            )
            var policy = Self.quickRetries
            policy.giveUpAfter = .milliseconds(400)
            try await Self.withService(h, Self.configuration(retryPolicy: policy)) { service in
                _ = try await h.service.create(Entity(logicalName: "contact", attributes: [("lastname", .string("X"))]))
                _ = try await h.service.create(Entity(logicalName: "account", attributes: [("name", .string("Y"))]))
                let jobs = try await Self.waitForJobs(h)
                #expect(jobs.count == 2)
                for summary in jobs {
                    let job = try await Self.job(h, summary.id)
                    #expect(Self.status(job) == 31)
                    guard case .string(let message)? = job.attributes["message"],
                        case .string(let friendly)? = job.attributes["friendlymessage"],
                        case .int(let retries)? = job.attributes["retrycount"]
                    else {
                        Issue.record("a failed job without its message or retry count")
                        continue
                    }
                    if message.hasPrefix("broken") {
                        #expect(message == "broken on attempt 1")
                        #expect(retries == 0)
                        #expect(job.attributes["errorcode"] == .int(Int32(bitPattern: 0x8004_0265)))
                    } else {
                        #expect(message == "flaky failure \(retries)")
                        #expect(retries >= 1)
                        #expect(friendly.hasPrefix("Gave up after \(retries) attempts"))
                        #expect(friendly.hasSuffix("Last error: Try later."))
                    }
                }
                #expect(service.counters.failed == 2)
            }
            #expect(PluginLog.lines(internalKey).count == 1)
        }
    }

    @Test(
        "jobs of one record run in commit order; a record whose jobs wait to retry holds up no other record",
        arguments: TestBackend.available
    )
    func perRecordOrder(backend: TestBackend) async throws {
        try await PlatformHarness.run(backend) { h in
            let key = "order-\(backend)-\(UUID())"
            var records: [Guid] = []
            for index in 0..<50 {
                records.append(
                    try await h.service.create(
                        Entity(logicalName: "contact", attributes: [("lastname", .string("R\(index)"))])
                    )
                )
            }
            let failing = records[0]
            try await h.registerStep(
                "order",
                plugin: "Order",
                message: "Update",
                table: "contact",
                stage: 40,
                mode: 1,
                configuration: "\(key)|\(failing)"
            )
            // 1,000 updates: each record gets 20, in order; records are updated concurrently.
            let started = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for record in records {
                    group.addTask {
                        for value in 1...20 {
                            var target = Entity(logicalName: "contact", id: record)
                            target.attributes["numberofchildren"] = .int(Int32(value))
                            try await h.service.update(target)
                        }
                    }
                }
                try await group.waitForAll()
            }
            let updated = ContinuousClock.now
            // The failing record's first job fails until all 980 jobs of the other records have run: if they waited
            // behind it, this would never end.
            OrderPlugin.othersFirst.withLock { $0[key] = 980 }
            try await Self.withService(h, Self.configuration(workers: 8)) { _ in
                _ = try await Self.waitForJobs(h, timeout: .seconds(120))
            }
            let ran = ContinuousClock.now
            print("1,000 updates in \(updated - started), their jobs in \(ran - updated) (\(backend))")
            let lines = PluginLog.lines(key)
            #expect(lines.count == 1000)
            var handled: [Guid: [Int]] = [:]
            var firstSuccessOfFailing: Int?
            var lastOtherIndex = 0
            for (index, line) in lines.enumerated() {
                let parts = line.split(separator: " ")
                guard let record = Guid(String(parts[0])), let value = Int(parts[1]) else { continue }
                handled[record, default: []].append(value)
                if record == failing {
                    if firstSuccessOfFailing == nil { firstSuccessOfFailing = index }
                } else {
                    lastOtherIndex = index
                }
            }
            for record in records {
                #expect(handled[record] == Array(1...20), "record \(record)")
            }
            // While the failing record waited, every other record's jobs went on and finished.
            #expect((firstSuccessOfFailing ?? 0) > lastOtherIndex)
            let failingJobs = try await h.service.retrieveMultiple(
                QueryExpression(
                    entityName: "asyncoperation",
                    columnSet: .columns(["retrycount"]),
                    criteria: FilterExpression(conditions: [
                        ConditionExpression(
                            "regardingobjectid",
                            .equal,
                            [.entityReference(EntityReference(logicalName: "contact", id: failing))]
                        )
                    ]),
                    orders: [OrderExpression("sequence")]
                )
            ).entities
            #expect(failingJobs.count == 20)
            if case .int(let retries)? = failingJobs.first?.attributes["retrycount"] { #expect(retries >= 1) }
        }
    }

    @Test(
        "asyncautodelete removes succeeded jobs; completed jobs past the retention are purged",
        arguments: TestBackend.available
    )
    func cleanup(backend: TestBackend) async throws {
        try await PlatformHarness.run(backend) { h in
            let kept = "kept-\(backend)-\(UUID())"
            let deleted = "deleted-\(backend)-\(UUID())"
            try await h.registerStep(
                "kept",
                plugin: "Flaky",
                message: "Create",
                table: "account",
                stage: 40,
                mode: 1,
                configuration: "\(kept)|0|external"
            )
            let autoDelete = try await h.registerStep(
                "auto-deleted",
                plugin: "Flaky",
                message: "Create",
                table: "contact",
                stage: 40,
                mode: 1,
                configuration: "\(deleted)|0|external"
            )
            var step = Entity(logicalName: "sdkmessageprocessingstep", id: autoDelete)
            step.attributes["asyncautodelete"] = .boolean(true)
            try await h.service.update(step)
            _ = try await h.service.create(Entity(logicalName: "contact", attributes: [("lastname", .string("A"))]))
            _ = try await h.service.create(Entity(logicalName: "account", attributes: [("name", .string("B"))]))
            try await Self.withService(h) { _ in
                let jobs = try await Self.waitForJobs(h)
                // The contact's job ran and was deleted; the account's job is kept, Succeeded.
                #expect(PluginLog.lines(deleted).count == 1)
                #expect(jobs.count == 1)
                #expect(jobs.first.map(Self.status) == 30)
            }
            var purging = Self.configuration()
            purging.retention = .zero
            purging.purgeInterval = .milliseconds(50)
            try await Self.withService(h, purging) { _ in
                let deadline = ContinuousClock.now + .seconds(30)
                while try await !h.jobs().entities.isEmpty, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(20))
                }
                #expect(try await h.jobs().entities.isEmpty)
            }
        }
    }
}
