import Testing

@testable import ConduitStore

/// The writer lock and reader pool state machine, event by event.
@Suite("LeaseQueue state machine")
struct LeaseQueueTests {
    typealias Queue = LeaseQueue<String, String>

    @Test("opens up to the limit, then queues callers in arrival order")
    func fifo() {
        var queue = Queue(limit: 1)
        #expect(queue.leaseRequested(id: 1, waiter: "w1", isCancelled: false).grant == .open)
        #expect(queue.connectionOpened().isUse)
        #expect(queue.leaseRequested(id: 2, waiter: "w2", isCancelled: false).isWait)
        #expect(queue.leaseRequested(id: 3, waiter: "w3", isCancelled: false).isWait)
        #expect(queue.connectionReleased("c").resumed == Resumed(waiter: "w2", grant: .connection("c")))
        #expect(queue.connectionReleased("c").resumed == Resumed(waiter: "w3", grant: .connection("c")))
        #expect(queue.connectionReleased("c").isNone)
        #expect(queue.idleCount == 1)
        #expect(queue.leaseRequested(id: 4, waiter: "w4", isCancelled: false).grant == .connection("c"))
        #expect(queue.count == 1)
    }

    @Test("a cancelled waiter leaves the queue; a cancelled caller never enters it")
    func cancellation() {
        var queue = Queue(limit: 1)
        _ = queue.leaseRequested(id: 1, waiter: "w1", isCancelled: false)
        _ = queue.leaseRequested(id: 2, waiter: "w2", isCancelled: false)
        _ = queue.leaseRequested(id: 3, waiter: "w3", isCancelled: false)
        #expect(queue.leaseCancelled(id: 2) == "w2")
        #expect(queue.leaseCancelled(id: 2) == nil)
        #expect(queue.leaseRequested(id: 4, waiter: "w4", isCancelled: true).isFailCancelled)
        #expect(queue.waiting == 1)
        #expect(queue.connectionReleased("c").resumed == Resumed(waiter: "w3", grant: .connection("c")))
    }

    @Test("a failed open hands its slot to the next waiter")
    func failedOpen() {
        var queue = Queue(limit: 1)
        #expect(queue.leaseRequested(id: 1, waiter: "w1", isCancelled: false).grant == .open)
        _ = queue.leaseRequested(id: 2, waiter: "w2", isCancelled: false)
        #expect(queue.connectionGone().resumed == Resumed(waiter: "w2", grant: .open))
        #expect(queue.count == 1)
        #expect(queue.connectionGone().isNone)
        #expect(queue.count == 0)
    }

    @Test("shutdown closes idle connections, fails waiters and later callers, closes leased ones on release")
    func shutdown() {
        var queue = Queue(limit: 2)
        _ = queue.leaseRequested(id: 1, waiter: "w1", isCancelled: false)
        _ = queue.leaseRequested(id: 2, waiter: "w2", isCancelled: false)
        _ = queue.connectionOpened()
        _ = queue.connectionOpened()
        _ = queue.connectionReleased("a")
        _ = queue.leaseRequested(id: 3, waiter: "w3", isCancelled: false)  // takes "a"
        _ = queue.connectionReleased("a")
        _ = queue.leaseRequested(id: 4, waiter: "w4", isCancelled: false)  // takes "a" again
        _ = queue.leaseRequested(id: 5, waiter: "w5", isCancelled: false)  // waits
        let action = queue.shutdownRequested()
        #expect(action.close == [])
        #expect(action.fail == ["w5"])
        #expect(queue.leaseRequested(id: 6, waiter: "w6", isCancelled: false).isFailShutDown)
        #expect(queue.connectionReleased("a").closed == "a")
        #expect(queue.connectionReleased("b").closed == "b")
        #expect(queue.count == 0)
    }

    @Test("a connection opened after shutdown is closed")
    func openedAfterShutdown() {
        var queue = Queue(limit: 1)
        _ = queue.leaseRequested(id: 1, waiter: "w1", isCancelled: false)
        _ = queue.shutdownRequested()
        #expect(!queue.connectionOpened().isUse)
        #expect(queue.count == 0)
    }
}

struct Resumed: Equatable {
    var waiter: String
    var grant: LeaseGrant<String>
}

extension LeaseQueue.LeaseAction where Connection == String {
    var grant: LeaseGrant<String>? {
        if case .grant(let grant) = self { grant } else { nil }
    }
    var isWait: Bool {
        if case .wait = self { true } else { false }
    }
    var isFailCancelled: Bool {
        if case .failCancelled = self { true } else { false }
    }
    var isFailShutDown: Bool {
        if case .failShutDown = self { true } else { false }
    }
}

extension LeaseQueue.ReleaseAction where Connection == String {
    var resumed: Resumed? {
        if case .resume(let waiter, let grant) = self { Resumed(waiter: "\(waiter)", grant: grant) } else { nil }
    }
    var closed: String? {
        if case .close(let connection) = self { connection } else { nil }
    }
    var isNone: Bool {
        if case .none = self { true } else { false }
    }
}

extension LeaseQueue.OpenedAction {
    var isUse: Bool {
        if case .use = self { true } else { false }
    }
}
