import ConduitBus
import Foundation
import Testing

/// The relay hub with listeners as plain channels: answers, the 504 deadline, a lost listener, messages' JSON.
@Suite("relay hub")
struct RelayHubTests {
    static let request = RelayHub.Request(
        method: "POST",
        target: "/a",
        headers: ["Content-Type": "text/plain"],
        body: [1, 2]
    )

    @Test("No listener: 502; a listener that does not answer: 504 after the timeout, and its late answer is dropped")
    func deadlines() async throws {
        let hub = RelayHub()
        await #expect(throws: RelayFailure.self) { _ = try await hub.send(Self.request, to: "a") }
        let channel = try hub.openListener(relay: "a", address: "ws://h/$hc/a")
        let started = ContinuousClock.now
        do {
            _ = try await hub.send(Self.request, to: "a", timeout: .milliseconds(200))
            Issue.record("A request no listener answered succeeded")
        } catch let failure as RelayFailure {
            #expect(failure.httpStatus == 504)
        }
        #expect(ContinuousClock.now - started >= .milliseconds(200))
        // The request reached the listener as a text frame and a binary body.
        var frames = channel.frames.makeAsyncIterator()
        guard case .text(let json)? = await frames.next(), case .request(let head) = try RelayControlMessage(json: json)
        else {
            Issue.record("The listener got no request")
            return
        }
        #expect(
            head.method == "POST" && head.body
                && head.address == "ws://h/$hc/a?sb-hc-action=request&sb-hc-id=\(head.id)"
        )
        #expect(await frames.next() == .binary([1, 2]))
        #expect(
            !hub.respond(
                RelayResponseHead(requestId: head.id, statusCode: 200, body: false),
                body: [],
                from: channel.id
            )
        )
    }

    @Test("A listener that disconnects fails the requests it holds with 502")
    func listenerGone() async throws {
        let hub = RelayHub()
        let channel = try hub.openListener(relay: "a", address: "ws://h/$hc/a")
        async let answer = hub.send(Self.request, to: "a")
        var frames = channel.frames.makeAsyncIterator()
        _ = await frames.next()
        hub.close(channel.id)
        do {
            _ = try await answer
            Issue.record("A request whose listener left succeeded")
        } catch let failure as RelayFailure {
            #expect(failure.kind == .listenerGone && failure.httpStatus == 502)
        }
        #expect(hub.listenerCount("a") == 0)
    }

    @Test("Control messages: the documented shapes read, bad ones say what is wrong")
    func controlMessages() throws {
        let accept = try RelayControlMessage(
            json: Array(
                #"{"accept":{"address":"wss://dc/$hc/p?sb-hc-action=accept","id":"4cb5","connectHeaders":{"Host":"x"}}}"#
                    .utf8
            )
        )
        #expect(
            accept
                == .accept(
                    RelayAccept(
                        address: "wss://dc/$hc/p?sb-hc-action=accept",
                        id: "4cb5",
                        connectHeaders: ["Host": "x"]
                    )
                )
        )
        let response = try RelayControlMessage(
            json: Array(
                #"{"response":{"requestId":"42","statusCode":"200","statusDescription":"OK","responseHeaders":{"Content-Type":"application/json"},"body":true}}"#
                    .utf8
            )
        )
        #expect(
            response
                == .response(
                    RelayResponseHead(
                        requestId: "42",
                        statusCode: 200,
                        statusDescription: "OK",
                        responseHeaders: ["Content-Type": "application/json"],
                        body: true
                    )
                )
        )
        // What it writes, it reads.
        let head = RelayRequestHead(
            address: "ws://h",
            id: "1",
            requestTarget: "/p?x=1",
            method: "GET",
            requestHeaders: ["A": "b"],
            body: false
        )
        #expect(try RelayControlMessage(json: RelayControlMessage.request(head).json) == .request(head))
        let bad: [(String, String)] = [
            ("not json", "not a JSON object"),
            (#"{"response":{"statusCode":"200"}}"#, "has no 'response.requestId'"),
            (#"{"response":{"requestId":"1","statusCode":"abc"}}"#, "'response.statusCode'"),
            (#"{"response":{"requestId":"1","statusCode":"999"}}"#, "'response.statusCode'"),
            (#"{"hello":{}}"#, "exactly one member"),
        ]
        for (json, expected) in bad {
            let error = #expect(throws: RelayProtocolError.self) { try RelayControlMessage(json: Array(json.utf8)) }
            #expect(error?.message.contains(expected) == true, "\(json): \(error?.message ?? "no error")")
        }
    }
}
