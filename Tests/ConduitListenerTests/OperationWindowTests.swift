import ConduitListener
import Testing

@Suite("listener de-duplication window")
struct OperationWindowTests {
    @Test("a handled operation is a duplicate, one being handled is in progress, a failed one may be claimed again")
    func claims() {
        var window = OperationWindow(capacity: 10)
        #expect(window.claim("a") == .new)
        #expect(window.claim("a") == .inProgress)
        window.finished("a", handled: true)
        #expect(window.claim("a") == .handled)
        #expect(window.claim("b") == .new)
        window.finished("b", handled: false)
        #expect(window.claim("b") == .new, "its handler failed: the next delivery is handled")
    }

    @Test("the oldest handled operations are forgotten beyond the capacity")
    func capacity() {
        var window = OperationWindow(capacity: 3)
        for operation in ["a", "b", "c", "d"] {
            #expect(window.claim(operation) == .new)
            window.finished(operation, handled: true)
        }
        #expect(window.count == 3)
        #expect(window.claim("a") == .new, "forgotten")
        #expect(window.claim("d") == .handled)
        for index in 0..<100 {
            _ = window.claim("x\(index)")
            window.finished("x\(index)", handled: true)
        }
        #expect(window.count == 3)
    }
}
