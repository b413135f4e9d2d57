import ConduitBus
import Foundation
import Testing

@Suite("Long and hostile input")
struct RobustnessTests {
    @Test("A 10,000-term OR chain parses and evaluates in well under a second")
    func longOrChain() throws {
        let expression = (0..<10_000).map { "StoreId = 'Store\($0)'" }.joined(separator: " OR ")
        let clock = ContinuousClock()
        var filter: SQLFilter?
        let elapsed = try clock.measure {
            filter = try SQLFilter(expression)
        }
        #expect(elapsed < .seconds(1))
        #expect(filter?.matches(message(["StoreId": "Store9999"])) == true)
        #expect(filter?.matches(message(["StoreId": "Store10000"])) == false)
    }

    @Test("Long AND chains, arithmetic chains and IN lists stay flat")
    func otherLongChains() throws {
        let and = (0..<10_000).map { _ in "1 = 1" }.joined(separator: " AND ")
        #expect(try matches(and))
        let sum = (0..<10_000).map { _ in "1" }.joined(separator: " + ") + " = 10000"
        #expect(try matches(sum))
        let list = "5 IN (" + (0..<10_000).map(String.init).joined(separator: ", ") + ")"
        #expect(try matches(list))
    }

    @Test("Nesting up to the limit works")
    func nestingAtLimit() throws {
        let depth = SQLFilter.maximumNestingDepth
        let parentheses = String(repeating: "(", count: depth) + "1=1" + String(repeating: ")", count: depth)
        #expect(try matches(parentheses))
        let nots = String(repeating: "NOT ", count: depth) + "1=1"
        #expect(try matches(nots))
        let signs = "1 = " + String(repeating: "- ", count: depth) + "1"
        #expect(try matches(signs))
    }

    @Test("Every shape of nesting at the limit parses and evaluates on a 512 KiB stack (macOS's thread default)")
    func smallStack() {
        let depth = SQLFilter.maximumNestingDepth
        func nest(_ open: String, _ inner: String, _ close: String, _ count: Int) -> String {
            String(repeating: open, count: count) + inner + String(repeating: close, count: count)
        }
        let shapes = [
            nest("(", "1=1", ")", depth),
            String(repeating: "NOT ", count: depth) + "1=1",
            "1 = " + nest("-(", "1", ")", depth / 2),
            "'x' = " + nest("p(", "'x'", ")", depth),
            "\(depth) = " + nest("1 + (", "1", ")", depth - 1),
            nest("1=1 AND (1=0 OR (", "1=1", "))", (depth - 1) / 2),
            "1 IN (" + nest("1 * (", "1", ")", depth - 1) + ")",
            "'a' LIKE " + nest("('%' + ", "'a'", ")", depth),
        ]
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            let loop = FilteredMessage(userProperties: ["x": "x"])
            outcome.evaluated = shapes.filter { (try? SQLFilter($0).evaluate(loop)) == true }.count
            done.signal()
        }
        thread.stackSize = 512 * 1024
        thread.start()
        done.wait()
        #expect(outcome.evaluated == shapes.count)
    }

    @Test("Deep nesting of any kind is an error, not a crash", arguments: ["(", "NOT ", "- ", "p("])
    func deepNesting(opener: String) {
        let expression = String(repeating: opener, count: 100_000) + "1"
        #expect(filterError(expression)?.kind == .nestingTooDeep)
    }

    @Test(
        "Hostile fragments fail cleanly",
        arguments: [
            "'", "[", "\"", "@", "(", ")", "sys.", "NOT", "IN", "LIKE", "ESCAPE", ",", ";", "\u{0}", "1..2", "p(",
            "EXISTS(", "a IN (", "a LIKE",
        ]
    )
    func fragments(fragment: String) {
        #expect(filterError(fragment) != nil)
        #expect(actionError("SET a = " + fragment) != nil)
    }

    @Test("A long string constant and a long name")
    func longLiterals() throws {
        let long = String(repeating: "x", count: 100_000)
        #expect(try matches("[\(long)] = '\(long)'", message([long: .string(long)])))
    }
}

/// What the small-stack thread found; the semaphore orders its write before the test's read.
private final class Outcome: @unchecked Sendable {
    var evaluated = 0
}
