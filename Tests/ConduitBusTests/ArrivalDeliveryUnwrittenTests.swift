import Foundation
import Testing

@testable import ConduitBus

/// The bookkeeping behind a completion that comes before its message's round: which writes it may still cancel.
@Suite("bus delivery on arrival: unwritten messages")
struct ArrivalDeliveryUnwrittenTests {
    @Test("a completion cancels a write not started yet, once; a started write is no longer cancelled, even run again")
    func cancelOrWrite() {
        let arrival = ArrivalDelivery()
        let first = MessageLockToken.make(sequence: 1)
        arrival.handedOver(first, queue: "orders", lockedUntil: 1_000)
        #expect(arrival.completeUnwritten(first, queue: "orders", now: 10))
        #expect(!arrival.completeUnwritten(first, queue: "orders", now: 10), "only once")
        #expect(!arrival.startWrite(first), "its round writes nothing")

        let second = MessageLockToken.make(sequence: 2)
        arrival.handedOver(second, queue: "orders", lockedUntil: 1_000)
        #expect(arrival.startWrite(second))
        #expect(!arrival.completeUnwritten(second, queue: "orders", now: 10), "being written: delete it instead")
        #expect(arrival.startWrite(second), "a write run again after a failed shared round still writes")
        arrival.written(second)
        #expect(!arrival.startWrite(second))
    }

    @Test("another queue's token, or a lock that ran out, cancels nothing")
    func wrongQueueOrExpired() {
        let arrival = ArrivalDelivery()
        let token = MessageLockToken.make(sequence: 7)
        arrival.handedOver(token, queue: "orders", lockedUntil: 1_000)
        #expect(!arrival.completeUnwritten(token, queue: "invoices", now: 10))
        #expect(!arrival.completeUnwritten(token, queue: "orders", now: 1_001))
        #expect(arrival.startWrite(token), "still written")
    }
}
