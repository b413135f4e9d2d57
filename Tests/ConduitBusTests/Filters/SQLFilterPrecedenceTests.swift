import ConduitBus
import Testing

@Suite("Precedence and grouping")
struct SQLFilterPrecedenceTests {
    @Test("AND binds tighter than OR")
    func andOverOr() throws {
        // TRUE OR (FALSE AND FALSE) is true; (TRUE OR FALSE) AND FALSE would be false.
        #expect(try matches("1=1 OR 1=0 AND 1=0"))
        #expect(try matches("1=0 AND 1=0 OR 1=1"))
        #expect(try !matches("(1=1 OR 1=0) AND 1=0"))
    }

    @Test("NOT binds tighter than AND")
    func notOverAnd() throws {
        // (NOT TRUE) AND FALSE is false where NOT (TRUE AND FALSE) would be true, and so on.
        #expect(try !matches("NOT 1=1 AND 1=0"))
        #expect(try matches("NOT 1=0 AND 1=1"))
        #expect(try !matches("NOT 1=0 AND 1=0"))
        #expect(try matches("NOT (1=0 AND 1=1)"))
    }

    @Test("NOT binds tighter than OR")
    func notOverOr() throws {
        #expect(try matches("NOT 1=1 OR 1=1"))
        #expect(try !matches("NOT (1=1 OR 1=1)"))
    }

    @Test("NOT NOT cancels")
    func doubleNot() throws {
        #expect(try matches("NOT NOT 1=1"))
    }

    @Test(
        "Multiplication before addition, left to right within a level",
        arguments: [
            ("1 + 2 * 3 = 7", true), ("(1 + 2) * 3 = 9", true), ("10 - 4 - 3 = 3", true),
            ("100 / 10 / 5 = 2", true), ("2 * 3 % 4 = 2", true), ("2 + 3 % 2 = 3", true),
            ("-2 * -3 = 6", true), ("-(2 + 3) = -5", true), ("10 - -2 = 12", true),
        ]
    )
    func arithmetic(expression: String, expected: Bool) throws {
        #expect(try matches(expression) == expected)
    }

    @Test("Arithmetic binds tighter than comparison")
    func arithmeticOverComparison() throws {
        #expect(try matches("1 + 1 = 2 AND 2 * 2 > 3"))
    }

    @Test("Parentheses group conditions and values alike")
    func parentheses() throws {
        #expect(try matches("((1 = 1))"))
        #expect(try matches("((1 + 2)) * 2 = 6"))
        #expect(try matches("(1 = 1) AND ((2 = 2) OR (3 = 4))"))
    }

    @Test("Keywords are case-insensitive")
    func keywordCase() throws {
        #expect(try matches("not 1=0 and 1=1 or 1=0"))
        #expect(try matches("'a' iN ('a') AnD 'abc' LiKe 'a%' aNd NuLl iS nUlL"))
    }

    @Test("Whitespace is free, including none and line breaks")
    func whitespace() throws {
        #expect(try matches("(1)=(1)AND(2)=(2)"))
        #expect(try matches("1=1AND 2=2"))
        #expect(try matches("\n\t1 =\r\n 1  "))
    }
}
