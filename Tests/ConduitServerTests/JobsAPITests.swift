import ConduitContext
import ConduitPlatform
import ConduitTestSupport
import Foundation
import HTTPTypes
import Testing

@Suite("Web API: managing system jobs")
struct JobsAPITests {
    /// Registers an asynchronous step on Create of contact and creates `count` contacts: `count` Ready jobs.
    static func jobs(_ s: ServerHarness, count: Int) async throws -> (step: Guid, jobs: [Guid]) {
        let pluginType = try #require(
            ServerHarness.id(
                try await s.send(.post, "plugintypes", body: #"{"name":"Demo.Async","typename":"Demo.Async"}"#)
            )
        )
        let filter = Platform.messageFilterId(message: "Create", table: "contact")
        let step = try #require(
            ServerHarness.id(
                try await s.send(
                    .post,
                    "sdkmessageprocessingsteps",
                    body:
                        #"{"name":"Demo: Create of contact","stage":40,"mode":1,"rank":1,"supporteddeployment":0,"sdkmessageid@odata.bind":"/sdkmessages(\#(Platform.messageId("Create")))","sdkmessagefilterid@odata.bind":"/sdkmessagefilters(\#(filter))","eventhandler_plugintype@odata.bind":"/plugintypes(\#(pluginType))"}"#
                )
            )
        )
        for index in 0..<count {
            _ = try await s.send(.post, "contacts", body: #"{"lastname":"Job \#(index)"}"#)
        }
        let list = try await s.send(.get, "asyncoperations?$select=name&$orderby=sequence")
        let ids = (list.json["value"] as? [[String: Any]] ?? []).compactMap {
            ($0["asyncoperationid"] as? String).flatMap(Guid.init)
        }
        return (step, ids)
    }

    static func status(_ s: ServerHarness, _ job: Guid) async throws -> (Int?, Int?, String?) {
        let row = try await s.send(.get, "asyncoperations(\(job))?$select=statecode,statuscode,postponeuntil").json
        return (row["statecode"] as? Int, row["statuscode"] as? Int, row["postponeuntil"] as? String)
    }

    @Test(
        "filter, pause, resume, postpone, cancel, retry now and delete; illegal changes get the reason",
        arguments: TestBackend.available
    )
    func manage(backend: TestBackend) async throws {
        try await ServerHarness.run(backend) { s in
            let (step, jobs) = try await Self.jobs(s, count: 2)
            #expect(jobs.count == 2)
            let job = jobs[0]

            // The query Dataverse's docs give for a step's jobs.
            let filtered = try await s.send(
                .get,
                "asyncoperations?$filter=statuscode%20eq%200%20and%20_owningextensionid_value%20eq%20\(step)&$select=name,statuscode"
            )
            #expect((filtered.json["value"] as? [[String: Any]])?.count == 2, "\(filtered.body)")

            let pause = try await s.send(.patch, "asyncoperations(\(job))", body: #"{"statecode":1,"statuscode":10}"#)
            #expect(pause.status == .noContent, "\(pause.body)")
            #expect(try await Self.status(s, job) == (1, 10, nil))

            let resume = try await s.send(.patch, "asyncoperations(\(job))", body: #"{"statecode":0}"#)
            #expect(resume.status == .noContent, "\(resume.body)")
            #expect(try await Self.status(s, job) == (0, 0, nil))

            let postpone = try await s.send(
                .patch,
                "asyncoperations(\(job))",
                body: #"{"postponeuntil":"2030-01-01T00:00:00Z"}"#
            )
            #expect(postpone.status == .noContent, "\(postpone.body)")
            #expect(try await Self.status(s, job) == (0, 0, "2030-01-01T00:00:00Z"))

            let cancel = try await s.send(.patch, "asyncoperations(\(job))", body: #"{"statecode":3,"statuscode":32}"#)
            #expect(cancel.status == .noContent, "\(cancel.body)")
            #expect(try await Self.status(s, job).1 == 32)

            let illegal = try await s.send(.patch, "asyncoperations(\(job))", body: #"{"statecode":0}"#)
            #expect(illegal.status == .badRequest)
            #expect(illegal.errorMessage == "A system job that is Canceled cannot be resumed; only Waiting jobs can.")
            let succeeded = try await s.send(
                .patch,
                "asyncoperations(\(job))",
                body: #"{"statecode":3,"statuscode":30}"#
            )
            #expect(succeeded.status == .badRequest)
            let otherColumn = try await s.send(.patch, "asyncoperations(\(job))", body: #"{"name":"renamed"}"#)
            #expect(otherColumn.status == .badRequest)
            #expect(otherColumn.errorMessage?.contains("not 'name'") == true)
            let retryCanceled = try await s.send(
                .post,
                "asyncoperations(\(job))/Microsoft.Dynamics.CRM.conduit_RetryNow"
            )
            #expect(retryCanceled.status == .badRequest)
            #expect(retryCanceled.errorMessage?.contains("only Waiting or Failed jobs can") == true)

            // Retry now: a paused (Waiting) job is Ready at once.
            let second = jobs[1]
            _ = try await s.send(.patch, "asyncoperations(\(second))", body: #"{"statecode":1,"statuscode":10}"#)
            let retry = try await s.send(.post, "asyncoperations(\(second))/Microsoft.Dynamics.CRM.conduit_RetryNow")
            #expect(retry.status == .noContent, "\(retry.body)")
            #expect(try await Self.status(s, second) == (0, 0, nil))

            let create = try await s.send(.post, "asyncoperations", body: #"{"name":"mine"}"#)
            #expect(create.status == .badRequest)
            #expect(create.errorMessage?.contains("created by the platform") == true)

            let delete = try await s.send(.delete, "asyncoperations(\(job))")
            #expect(delete.status == .noContent, "\(delete.body)")
            #expect(try await s.send(.get, "asyncoperations(\(job))").status == .notFound)
        }
    }
}
