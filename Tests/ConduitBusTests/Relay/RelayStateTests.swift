import Testing

@testable import ConduitBus

/// The relay's routing as a pure state machine.
@Suite("relay state machine")
struct RelayStateTests {
    @Test("Listeners up to the limit; a request goes to the one picked, and only that channel may answer it")
    func routing() {
        var state = RelayState(listenerLimit: 2)
        let result1 = state.route(request: "r0", relay: "a", needsRendezvous: false) { _ in 0 }
        #expect(result1 == .noListener)
        let first = state.openListener(relay: "a")
        let second = state.openListener(relay: "a")
        #expect(first != nil && second != nil && first != second)
        let result2 = state.openListener(relay: "a")
        #expect(result2 == nil)
        let result3 = state.openListener(relay: "b")
        #expect(result3 != nil)
        #expect(state.listenerCount("a") == 2)
        let result4 = state.route(request: "r1", relay: "a", needsRendezvous: false) { _ in 1 }
        #expect(result4 == .forward(channel: second!))
        let result5 = state.answer(request: "r1", from: first!)
        #expect(!result5)
        let result6 = state.answer(request: "r1", from: second!)
        #expect(result6)
        // Answered once: a second answer, or one for an unknown request, is not taken.
        let result7 = state.answer(request: "r1", from: second!)
        #expect(!result7)
        let result8 = state.answer(request: "nope", from: second!)
        #expect(!result8)
    }

    @Test("A closed listener fails its pending requests; an expired request is done")
    func closing() {
        var state = RelayState()
        let channel = state.openListener(relay: "a")!
        _ = state.route(request: "r1", relay: "a", needsRendezvous: false) { _ in 0 }
        _ = state.route(request: "r2", relay: "a", needsRendezvous: false) { _ in 0 }
        let result9 = state.expire(request: "r2")
        #expect(result9)
        let result10 = state.expire(request: "r2")
        #expect(!result10)
        let result11 = state.close(channel: channel)
        #expect(result11 == ["r1"])
        #expect(state.listenerCount("a") == 0)
        let result12 = state.route(request: "r3", relay: "a", needsRendezvous: false) { _ in 0 }
        #expect(result12 == .noListener)
        let result13 = state.close(channel: channel)
        #expect(result13.isEmpty)
    }

    @Test("A large request is answered on its rendezvous, which opens once, and survives its control channel")
    func rendezvous() {
        var state = RelayState()
        let channel = state.openListener(relay: "a")!
        _ = state.route(request: "small", relay: "a", needsRendezvous: false) { _ in 0 }
        let result14 = state.openRendezvous(request: "small")
        #expect(result14 == nil)
        _ = state.route(request: "large", relay: "a", needsRendezvous: true) { _ in 0 }
        let socket = state.openRendezvous(request: "large")
        #expect(socket != nil)
        let result15 = state.openRendezvous(request: "large")
        #expect(result15 == nil)
        // The control channel closes: the small request is lost, the large one is still answered on its socket.
        let result16 = state.close(channel: channel)
        #expect(result16 == ["small"])
        let result17 = state.answer(request: "large", from: socket!)
        #expect(result17)
    }

    @Test("A rendezvous socket that closes before answering fails its request")
    func rendezvousClosed() {
        var state = RelayState()
        _ = state.openListener(relay: "a")
        _ = state.route(request: "large", relay: "a", needsRendezvous: true) { _ in 0 }
        let socket = state.openRendezvous(request: "large")!
        let result18 = state.close(channel: socket)
        #expect(result18 == ["large"])
        #expect(state.pending.isEmpty)
    }
}
