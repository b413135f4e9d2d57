import ConduitBus
import Foundation
import Testing

@Suite("Comparison, arithmetic and constants")
struct SQLFilterOperatorTests {
    let order = message(["quantity": 10, "price": 2.5, "color": "red", "urgent": true])

    @Test(
        "Each comparison operator",
        arguments: [
            ("quantity = 10", true), ("quantity = 11", false),
            ("quantity <> 10", false), ("quantity <> 11", true),
            ("quantity != 10", false), ("quantity != 11", true),
            ("quantity > 9", true), ("quantity > 10", false),
            ("quantity >= 10", true), ("quantity >= 11", false),
            ("quantity < 11", true), ("quantity < 10", false),
            ("quantity <= 10", true), ("quantity <= 9", false),
        ]
    )
    func comparison(expression: String, expected: Bool) throws {
        #expect(try matches(expression, order) == expected)
    }

    @Test("Integers and doubles compare by value")
    func numericPromotion() throws {
        #expect(try matches("quantity = 10.0", order))
        #expect(try matches("price > 2", order))
        #expect(try matches("price < 3", order))
        #expect(try matches("price = 2.5", order))
        #expect(try matches("quantity > 9.99", order))
        #expect(try !matches("quantity = 10.5", order))
    }

    @Test("Strings compare ordinally and case-sensitively")
    func strings() throws {
        #expect(try matches("color = 'red'", order))
        #expect(try !matches("color = 'Red'", order))
        #expect(try matches("color <> 'blue'", order))
        #expect(try matches("color > 'blue'", order))
        #expect(try matches("color < 'yellow'", order))
    }

    @Test("Booleans compare with TRUE and FALSE, in any case")
    func booleans() throws {
        #expect(try matches("urgent = TRUE", order))
        #expect(try matches("urgent = true", order))
        #expect(try !matches("urgent = False", order))
        #expect(try matches("urgent <> FALSE", order))
    }

    @Test("String constants escape a quote by doubling it")
    func stringEscape() throws {
        let quoted = message(["name": "O'Brien"])
        #expect(try matches("name = 'O''Brien'", quoted))
        #expect(try matches("'' = ''"))
        #expect(try matches("'it''s' = 'it' + '''s'"))
    }

    @Test(
        "Number constants: integer, decimal, exponent",
        arguments: [
            ("1894 = 1894", true), ("1894.1204 > 1894", true), ("2.0 = 2", true),
            ("101.5E5 = 10150000", true), ("0.5E-2 = 0.005", true), ("1e3 = 1000", true),
            ("1E+2 = 100", true), (".5 = 0.5", true), ("-3 < -2", true),
        ]
    )
    func numbers(expression: String, expected: Bool) throws {
        #expect(try matches(expression) == expected)
    }

    @Test(
        "Arithmetic follows C#: integer division truncates, a double makes a double",
        arguments: [
            ("1 + 2 = 3", true), ("5 - 7 = -2", true), ("6 * 7 = 42", true), ("7 / 2 = 3", true),
            ("-7 / 2 = -3", true), ("7 % 3 = 1", true), ("-7 % 3 = -1", true), ("7.0 / 2 = 3.5", true),
            ("7 / 2.0 = 3.5", true), ("7.5 % 2 = 1.5", true), ("- -4 = 4", true), ("+4 = 4", true),
            ("quantity / 4 = 2", true), ("quantity * price = 25", true), ("price * 2 = 5.0", true),
        ]
    )
    func arithmetic(expression: String, expected: Bool) throws {
        #expect(try matches(expression, order) == expected)
    }

    @Test("Strings join with +")
    func concatenation() throws {
        #expect(try matches("color + '-' + 'car' = 'red-car'", order))
    }

    @Test("IN and NOT IN compare with = against each item")
    func inList() throws {
        #expect(try matches("color IN ('blue', 'red')", order))
        #expect(try !matches("color IN ('blue', 'green')", order))
        #expect(try matches("color NOT IN ('blue', 'green')", order))
        #expect(try !matches("color NOT IN ('red')", order))
        #expect(try matches("quantity IN (1, 5.0, 10.0)", order))
        #expect(try matches("quantity + 1 IN (quantity + 1)", order))
    }

    @Test("The shorthand filters 1=1 and 1=0")
    func shorthand() throws {
        #expect(try matches("1=1"))
        #expect(try !matches("1=0"))
        #expect(try evaluate("1=0") == false)
    }

    @Test("Dates and durations compare and combine")
    func datesAndDurations() throws {
        let enqueued = Date(timeIntervalSince1970: 1_700_000_000)
        let scheduled = Date(timeIntervalSince1970: 1_700_000_060)
        let timed = message(
            system: [
                .enqueuedTimeUtc: .date(enqueued), .scheduledEnqueueTimeUtc: .date(scheduled),
                .timeToLive: .duration(.seconds(60)),
            ]
        )
        #expect(try matches("sys.ScheduledEnqueueTimeUtc > sys.EnqueuedTimeUtc", timed))
        #expect(try matches("sys.EnqueuedTimeUtc + sys.TimeToLive = sys.ScheduledEnqueueTimeUtc", timed))
        #expect(try matches("sys.ScheduledEnqueueTimeUtc - sys.EnqueuedTimeUtc = sys.TimeToLive", timed))
        #expect(try matches("sys.ScheduledEnqueueTimeUtc - sys.TimeToLive = sys.EnqueuedTimeUtc", timed))
    }

    @Test("Parameters stand for constants")
    func parameters() throws {
        let filter = try SQLFilter(
            "source = @stringParam AND quantity > @min",
            parameters: ["@stringParam": "orders", "min": 5]
        )
        #expect(filter.matches(message(["source": "orders", "quantity": 6])))
        #expect(!filter.matches(message(["source": "orders", "quantity": 5])))
    }

    @Test("newid() makes a fresh GUID each time")
    func newID() throws {
        #expect(try matches("newid() <> newid()"))
        #expect(try matches("newid() IS NOT NULL"))
    }
}
