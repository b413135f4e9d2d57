import ConduitBus
import Testing

@Suite("Evaluation errors (the broker's FilterException)")
struct SQLFilterEvaluationErrorTests {
    let sample = message(["text": "10", "number": 10, "flag": true, "zero": 0])

    @Test(
        "Operands of unrelated types",
        arguments: [
            ("text = number", "Cannot compare string with int64 using '=' at offset 5."),
            ("number > 'a'", "Cannot compare int64 with string using '>' at offset 7."),
            ("flag < TRUE", "Cannot compare bool with bool using '<' at offset 5."),
            ("number IN ('10')", "Cannot compare int64 with string using '=' at offset 7."),
            ("text + number = 1", "Cannot apply '+' to string and int64 at offset 5."),
            ("'a' - 'b' = ''", "Cannot apply '-' to string and string at offset 4."),
            ("-text = 1", "Cannot apply unary '-' to string at offset 0."),
            ("number LIKE '1%'", "LIKE needs strings but found int64 at offset 7."),
            ("text LIKE 'a' ESCAPE number", "ESCAPE needs a single character at offset 5."),
            ("p(number) = 1", "property() needs a string but found int64 at offset 0."),
            ("p('sys.Nope') = 1", "Unknown system property 'Nope' in property() at offset 0."),
        ]
    )
    func mismatch(expression: String, expected: String) throws {
        let error = try evaluationError(expression, on: sample)
        #expect(error?.message == expected)
        #expect(try !SQLFilter(expression).matches(sample))
    }

    @Test("Integer division by zero fails; double division by zero is infinite")
    func divisionByZero() throws {
        let error = try evaluationError("number / zero = 1", on: sample)
        #expect(error?.message == "Division by zero in '/' at offset 7.")
        #expect(error?.kind == .arithmetic)
        #expect(try evaluationError("number % 0 = 1", on: sample)?.kind == .arithmetic)
        #expect(try matches("1.0 / 0 > 1000000"))
    }

    @Test("Integer overflow wraps like unchecked C#, except the one division that cannot")
    func overflow() throws {
        #expect(try matches("9223372036854775807 + 1 < 0"))
        let error = try evaluationError("(-9223372036854775807 - 1) / -1 = 0")
        #expect(error?.message == "Integer overflow in '/' at offset 27.")
    }

    @Test("A short-circuited operand is not evaluated")
    func shortCircuit() throws {
        #expect(try evaluate("1=0 AND text = number", on: sample) == false)
        #expect(try evaluate("1=1 OR text = number", on: sample) == true)
    }
}
