import ConduitBus
import Testing

@Suite("Parse errors name what was wrong and where")
struct SQLFilterErrorTests {
    @Test(
        "Syntax errors",
        arguments: [
            ("a = 'abc", "Unterminated string literal starting at offset 4."),
            ("[abc = 1", "Unterminated delimited identifier starting at offset 0."),
            ("\"abc = 1", "Unterminated quoted identifier starting at offset 0."),
            ("a = ", "Expected an expression at offset 4 but found end of input."),
            ("a = 1 AND", "Expected an expression at offset 9 but found end of input."),
            ("", "Expected an expression at offset 0 but found end of input."),
            ("a = 1 b", "Expected end of input at offset 6 but found 'b'."),
            ("(a = 1))", "Expected end of input at offset 7 but found ')'."),
            ("(a = 1 AND b = 2", "Expected ')' at offset 16 but found end of input."),
            ("a IN (1, 2 AND b = 1", "Expected ')' at offset 11 but found 'AND'."),
            ("a IN ()", "Expected an expression at offset 6 but found ')'."),
            ("a = 1 # 2", "Unexpected character '#' at offset 6."),
            ("a ! 1", "Unexpected character '!' at offset 2."),
            ("a = 1e", "Invalid number '1e' at offset 4."),
            ("a = 1.2.3", "Invalid number '1.2.3' at offset 4."),
            ("a = 99999999999999999999", "Integer constant '99999999999999999999' at offset 4 is out of range."),
            ("a = 1e999", "Number constant '1e999' at offset 4 is out of range."),
            ("a", "Expected a condition at offset 0 but found 'a'."),
            ("a + 1", "Expected a condition at offset 0 but found 'a'."),
            ("a AND b = 1", "Expected a condition at offset 0 but found 'a'."),
            ("NOT 5", "Expected a condition at offset 4 but found '5'."),
            ("(a = 1) + 2 = 3", "Expected a value at offset 0 but found a condition starting with '('."),
            ("a = 1 = 2", "Expected end of input at offset 6 but found '='."),
            ("a IS 5", "Expected NULL at offset 5 but found '5'."),
            ("a NOT 5", "Expected IN or LIKE at offset 6 but found '5'."),
            ("EXISTS(1)", "Expected a property name at offset 7 but found '1'."),
            ("EXISTS a", "Expected '(' at offset 7 but found 'a'."),
            ("AND = 1", "Expected an expression at offset 0 but found 'AND'."),
            ("sys. = 1", "Expected a property name at offset 5 but found '='."),
            ("[] = 1", "Empty property name [] at offset 0."),
            ("newid(1) = 1", "Expected ')' at offset 6 but found '1'."),
            ("a @ 1", "Unexpected character '@' at offset 2."),
        ]
    )
    func syntax(expression: String, expected: String) {
        let error = filterError(expression)
        #expect(error?.message == expected)
        #expect(error?.kind == .syntax)
    }

    @Test("An unknown function")
    func unknownFunction() {
        let error = filterError("a = 1 AND upper(b) = 'X'")
        #expect(error?.message == "Unknown function 'upper' at offset 10.")
        #expect(error?.kind == .unknownFunction)
        #expect(error?.offset == 10)
        #expect(error?.token == "upper")
    }

    @Test("An unknown system property is an error, where a missing user property is not")
    func unknownSystemProperty() {
        let error = filterError("sys.Colour = 'red'")
        #expect(error?.message == "Unknown system property 'Colour' at offset 4.")
        #expect(error?.kind == .unknownSystemProperty)
    }

    @Test("An unknown scope")
    func unknownScope() {
        let error = filterError("app.color = 'red'")
        #expect(error?.message == "Unknown property scope 'app' at offset 0; expected 'sys' or 'user'.")
        #expect(error?.kind == .unknownScope)
    }

    @Test("A parameter without a value")
    func missingParameter() {
        let error = filterError("a = @p")
        #expect(error?.message == "Parameter '@p' at offset 4 has no value.")
        #expect(error?.kind == .missingParameter)
    }

    @Test("An ESCAPE constant that is not one character")
    func badEscape() {
        let error = filterError("a LIKE 'x' ESCAPE 'ab'")
        #expect(error?.message == "ESCAPE needs a single character at offset 18 but found ''ab''.")
        #expect(error?.kind == .invalidArgument)
    }

    @Test("Nesting deeper than the limit")
    func tooDeep() {
        let depth = SQLFilter.maximumNestingDepth
        let error = filterError(
            String(repeating: "(", count: depth + 1) + "1=1" + String(repeating: ")", count: depth + 1)
        )
        #expect(error?.message == "Nesting depth exceeds the maximum of 64 at offset 64.")
        #expect(error?.kind == .nestingTooDeep)
    }

    @Test("The error's description is its message")
    func description() {
        let error = FilterError(.syntax, "Broken.", offset: 3, token: "x")
        #expect(String(describing: error) == "Broken.")
    }
}
