import ConduitBus
import ConduitContext
import ConduitPlatform
import ConduitTestSupport
import Foundation
import HTTPTypes
import Testing

/// The System Jobs console's API (`/api/console/…`) and its page, against a live server.
@Suite("console API")
struct ConsoleAPITests {
    static func array(_ value: Any?) -> [[String: Any]] { value as? [[String: Any]] ?? [] }

    @Test(
        "the job list pages, filters and counts on the server; bad filters say what is wrong",
        arguments: TestBackend.available
    )
    func jobList(backend: TestBackend) async throws {
        try await ServerHarness.run(backend) { s in
            let (step, jobs) = try await JobsAPITests.jobs(s, count: 5)
            #expect(jobs.count == 5)

            let all = try await s.send(.get, "/api/console/jobs")
            #expect(all.status == .ok, "\(all.body)")
            #expect(all.json["total"] as? Int == 5)
            #expect((all.json["counts"] as? [String: Int])?["0"] == 5)
            #expect((all.json["counts"] as? [String: Int])?["31"] == 0)
            let listed = Self.array(all.json["jobs"])
            // Newest first.
            #expect(listed.compactMap { ($0["id"] as? String).flatMap(Guid.init) } == jobs.reversed())
            #expect(listed.first?["stepName"] as? String == "Demo: Create of contact")
            #expect(listed.first?["status"] as? String == "Waiting For Resources")
            #expect(listed.first?["primaryentitytype"] as? String == "contact")

            // Server-side paging.
            let page = try await s.send(.get, "/api/console/jobs?pageSize=2&page=3")
            #expect(page.json["total"] as? Int == 5)
            #expect(Self.array(page.json["jobs"]).compactMap { $0["id"] as? String } == [jobs[0].description])

            // A status filter narrows the list and the total, not the counts.
            let failed = try await s.send(.get, "/api/console/jobs?status=31,10")
            #expect(failed.json["total"] as? Int == 0)
            #expect(Self.array(failed.json["jobs"]).isEmpty)
            #expect((failed.json["counts"] as? [String: Int])?["0"] == 5)

            let byStep = try await s.send(.get, "/api/console/jobs?step=\(step)&table=contact&message=Create")
            #expect(byStep.json["total"] as? Int == 5)
            let otherTable = try await s.send(.get, "/api/console/jobs?table=account")
            #expect(otherTable.json["total"] as? Int == 0)
            #expect((otherTable.json["counts"] as? [String: Int])?["0"] == 0)
            let regarding = try #require(listed.last?["regardingobjectid"] as? String)
            let search = try await s.send(.get, "/api/console/jobs?search=\(regarding)")
            #expect(Self.array(search.json["jobs"]).compactMap { $0["id"] as? String } == [jobs[0].description])
            let future = try await s.send(.get, "/api/console/jobs?since=2100-01-01T00:00:00Z")
            #expect(future.json["total"] as? Int == 0)
            let past = try await s.send(.get, "/api/console/jobs?until=2100-01-01T00:00:00.000Z")
            #expect(past.json["total"] as? Int == 5)

            for (query, expected) in [
                ("status=99", "status: '99' is not a system job statuscode"),
                ("pageSize=0", "pageSize: '0' is not a whole number from 1 to 500"),
                ("page=x", "page: 'x' is not a whole number"),
                ("since=yesterday", "since: 'yesterday' is not an ISO 8601 time"),
                ("step=nope", "step: 'nope' is not a GUID"),
            ] {
                let reply = try await s.send(.get, "/api/console/jobs?\(query)")
                #expect(reply.status == .badRequest, "\(query)")
                #expect(reply.errorMessage?.hasPrefix(expected) == true, "\(query): \(reply.body)")
            }
            let anonymous = try await s.send(.get, "/api/console/jobs", authorized: false)
            #expect(anonymous.status == .unauthorized)
            let session = try await s.send(.get, "/api/console/session")
            #expect(session.json["userId"] as? String == s.platform.administratorId.description)
            #expect(try await s.send(.get, "/api/console/session", authorized: false).status == .unauthorized)
        }
    }

    @Test("a job's detail shows its context as JSON and XML; actions follow the job rules, one result per job")
    func detailAndActions() async throws {
        try await ServerHarness.run(.sqliteFile) { s in
            let (_, jobs) = try await JobsAPITests.jobs(s, count: 3)
            let detail = try await s.send(.get, "/api/console/jobs/\(jobs[0])")
            #expect(detail.status == .ok, "\(detail.body)")
            let context = try #require(detail.json["context"] as? [String: Any])
            #expect((context["json"] as? [String: Any])?["MessageName"] as? String == "Create")
            #expect((context["jsonText"] as? String)?.contains("\n  \"MessageName\": \"Create\"") == true)
            let xml = try #require(context["xml"] as? String)
            #expect(xml.hasPrefix("<RemoteExecutionContext"))
            #expect(xml.contains("\n  <MessageName>Create</MessageName>\n"))
            #expect(detail.json["contextError"] is NSNull)
            #expect(Self.array(detail.json["attempts"]).isEmpty)
            #expect(detail.json["correlationid"] as? String != nil)

            #expect(try await s.send(.get, "/api/console/jobs/\(Guid.random())").status == .notFound)
            #expect(try await s.send(.get, "/api/console/jobs/not-a-guid").status == .badRequest)

            func act(_ body: String) async throws -> ServerHarness.Reply {
                try await s.send(.post, "/api/console/jobs/actions", body: body)
            }
            let ids = jobs.map { "\"\($0)\"" }.joined(separator: ",")
            let pause = try await act(#"{"action":"pause","ids":[\#(ids)]}"#)
            #expect(pause.status == .ok, "\(pause.body)")
            #expect(Self.array(pause.json["results"]).map { $0["statuscode"] as? Int } == [10, 10, 10])
            let resume = try await act(#"{"action":"resume","ids":["\#(jobs[0])"]}"#)
            #expect(Self.array(resume.json["results"]).first?["statuscode"] as? Int == 0)
            let postpone = try await act(
                #"{"action":"postpone","ids":["\#(jobs[0])"],"until":"2030-01-01T00:00:00Z"}"#
            )
            #expect(Self.array(postpone.json["results"]).first?["ok"] as? Bool == true)
            let cancel = try await act(#"{"action":"cancel","ids":["\#(jobs[1])","nope"]}"#)
            let results = Self.array(cancel.json["results"])
            #expect(results.first?["statuscode"] as? Int == 32)
            #expect(results.last?["ok"] as? Bool == false)
            #expect(results.last?["error"] as? String == "'nope' is not a GUID.")
            // A canceled job cannot be retried: the refusal says why.
            let retry = try await act(#"{"action":"retry","ids":["\#(jobs[1])","\#(jobs[2])"]}"#)
            let retried = Self.array(retry.json["results"])
            #expect(retried.first?["ok"] as? Bool == false)
            #expect((retried.first?["error"] as? String)?.contains("only Waiting or Failed jobs can") == true)
            #expect(retried.last?["statuscode"] as? Int == 0)

            let unknown = try await act(#"{"action":"explode","ids":[]}"#)
            #expect(unknown.status == .badRequest)
            #expect(unknown.errorMessage?.contains("'explode' is not one of cancel, pause") == true)
            let noDate = try await act(#"{"action":"postpone","ids":["\#(jobs[0])"]}"#)
            #expect(noDate.errorMessage?.hasPrefix("postpone needs 'until'") == true)
            let garbage = try await act("{not json")
            #expect(garbage.status == .badRequest)
            #expect(garbage.errorMessage?.hasPrefix("The request body is not what this call takes") == true)
            let missing = try await act(#"{"action":"pause"}"#)
            #expect(missing.errorMessage?.contains("ids") == true, "\(missing.body)")
        }
    }

    @Test("steps of an endpoint: register, disable, rename and delete")
    func steps() async throws {
        try await ServerHarness.run(.sqliteFile) { s in
            let endpoint = try #require(
                ServerHarness.id(
                    try await s.send(
                        .post,
                        "serviceendpoints",
                        body:
                            #"{"name":"orders","contract":2,"connectionmode":1,"messageformat":2,"authtype":2,"namespaceaddress":"sb://localhost/","path":"orders","saskeyname":"send","saskey":"c2VjcmV0"}"#
                    )
                )
            )
            let added = try await s.send(
                .post,
                "/api/console/steps",
                body:
                    #"{"endpointId":"\#(endpoint)","message":"Update","table":"Contact","filteringattributes":"lastname"}"#
            )
            #expect(added.status == .created, "\(added.body)")
            let step = try #require(added.json["id"] as? String)
            var listed = Self.array(try await s.send(.get, "/api/console/steps?endpoint=\(endpoint)").json["steps"])
            #expect(listed.count == 1)
            #expect(listed.first?["name"] as? String == "orders: Update of contact")
            #expect(listed.first?["table"] as? String == "contact")
            #expect(listed.first?["message"] as? String == "Update")
            #expect(listed.first?["filteringattributes"] as? String == "lastname")
            #expect(listed.first?["endpointName"] as? String == "orders")
            #expect(listed.first?["statecode"] as? Int == 0)

            let disable = try await s.send(.patch, "/api/console/steps/\(step)", body: #"{"statecode":1,"name":"x"}"#)
            #expect(disable.status == .noContent, "\(disable.body)")
            listed = Self.array(try await s.send(.get, "/api/console/steps?endpoint=\(endpoint)").json["steps"])
            #expect(listed.first?["statecode"] as? Int == 1)
            #expect(listed.first?["name"] as? String == "x")
            let bad = try await s.send(.patch, "/api/console/steps/\(step)", body: #"{"statecode":7}"#)
            #expect(bad.status == .badRequest)
            let noEndpoint = try await s.send(
                .post,
                "/api/console/steps",
                body: #"{"endpointId":"\#(Guid.random())","message":"Create","table":"contact"}"#
            )
            #expect(noEndpoint.status == .notFound, "\(noEndpoint.body)")

            #expect(try await s.send(.delete, "/api/console/steps/\(step)").status == .noContent)
            listed = Self.array(try await s.send(.get, "/api/console/steps?endpoint=\(endpoint)").json["steps"])
            #expect(listed.isEmpty)
        }
    }

    @Test("the bus explorer counts, peeks, resubmits and purges dead letters", arguments: TestBackend.available)
    func busExplorer(backend: TestBackend) async throws {
        try await ServerHarness.run(backend, withBus: true) { s in
            let bus = try #require(s.bus)
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            try await bus.queues.createQueue(QueueDescription(name: "orders"), now: now)
            try await bus.queues.send(
                (1...3).map { BusMessage(body: Data("order \($0)".utf8), messageId: "m\($0)", label: "order") },
                to: "orders",
                now: now
            )
            for _ in 0..<2 {
                let message = try #require(try await bus.queues.peekLock("orders", now: now))
                try await bus.queues.deadLetter(
                    "orders",
                    lockToken: try #require(message.lockToken),
                    reason: "Broken",
                    description: "cannot be read",
                    now: now
                )
            }
            func counts() async throws -> [String: Any]? {
                let overview = try await s.send(.get, "/api/console/bus")
                return Self.array(overview.json["queues"]).first { $0["name"] as? String == "orders" }
            }
            var orders = try await counts()
            #expect(orders?["active"] as? Int == 1)
            #expect(orders?["deadLettered"] as? Int == 2)

            let peeked = Self.array(
                try await s.send(.get, "/api/console/bus/messages?entity=orders&deadLetter=true").json["messages"]
            )
            #expect(peeked.map { $0["body"] as? String } == ["order 1", "order 2"])
            #expect(peeked.first?["deadLetterReason"] as? String == "Broken")
            #expect(peeked.first?["label"] as? String == "order")
            let first = try #require(peeked.first?["sequence"] as? Int)

            let resubmit = try await s.send(
                .post,
                "/api/console/bus/deadletters",
                body: #"{"entity":"orders","action":"resubmit","sequences":[\#(first)]}"#
            )
            #expect(resubmit.json["count"] as? Int == 1, "\(resubmit.body)")
            orders = try await counts()
            #expect(orders?["active"] as? Int == 2)
            #expect(orders?["deadLettered"] as? Int == 1)
            let active = Self.array(try await s.send(.get, "/api/console/bus/messages?entity=orders").json["messages"])
            #expect(Set(active.compactMap { $0["body"] as? String }) == ["order 1", "order 3"])

            let purge = try await s.send(
                .post,
                "/api/console/bus/deadletters",
                body: #"{"entity":"orders","action":"purge"}"#
            )
            #expect(purge.json["count"] as? Int == 1)
            orders = try await counts()
            #expect(orders?["deadLettered"] as? Int == 0)

            let missing = try await s.send(.get, "/api/console/bus/messages?entity=nothing")
            #expect(missing.status == .notFound, "\(missing.body)")
            let badCount = try await s.send(.get, "/api/console/bus/messages?entity=orders&count=0")
            #expect(badCount.status == .badRequest)
            let badAction = try await s.send(
                .post,
                "/api/console/bus/deadletters",
                body: #"{"entity":"orders","action":"burn"}"#
            )
            #expect(badAction.errorMessage == "action: 'burn' is neither resubmit nor purge.")
        }
    }

    @Test("the page and its assets are served without a key, with a policy that allows nothing from elsewhere")
    func assets() async throws {
        try await ServerHarness.run(.sqliteFile) { s in
            let page = try await s.send(.get, "/", authorized: false)
            #expect(page.status == .ok)
            #expect(page.headers[.contentType] == "text/html; charset=utf-8")
            #expect(page.headers[.contentSecurityPolicy]?.hasPrefix("default-src 'self'") == true)
            #expect(page.body.contains("/console/console.js"))
            for name in ["console.js", "console.css"] {
                let asset = try await s.send(.get, "/console/\(name)", authorized: false)
                #expect(asset.status == .ok, "\(name)")
                #expect(asset.body.count > 1_000, "\(name)")
            }
            #expect(try await s.send(.get, "/console/other.js", authorized: false).status == .notFound)
        }
    }
}
