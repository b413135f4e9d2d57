/// An error of the rule language: an expression that does not parse, or one that fails while it is evaluated
/// (the broker's `FilterException`).
///
/// ``message`` says what was wrong and where, for example `Expected ')' at offset 17 but found 'AND'.`
/// Offsets count characters (extended grapheme clusters) from 0.
public struct FilterError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong.
    public enum Kind: Sendable, Hashable {
        /// The text does not follow the grammar: an unexpected character or token, a missing operand, an
        /// unterminated literal, a number out of range.
        case syntax
        /// A function name that is not `newid`, `property` or `p`.
        case unknownFunction
        /// A `sys.` name that is not a system property (an error, where a missing user property is not).
        case unknownSystemProperty
        /// A scope other than `sys` or `user`.
        case unknownScope
        /// An `@parameter` with no value in the parameters given.
        case missingParameter
        /// An action sets or removes a read-only system property.
        case readOnlyProperty
        /// Parentheses, `NOT` or unary signs nested deeper than ``SQLFilter/maximumNestingDepth``.
        case nestingTooDeep
        /// An operator met operands of types it does not apply to (evaluation).
        case typeMismatch
        /// Integer division by zero or integer overflow (evaluation).
        case arithmetic
        /// A function or `ESCAPE` argument of the wrong form.
        case invalidArgument
    }

    /// What went wrong.
    public var kind: Kind
    /// The whole explanation, naming the place and the offending token.
    public var message: String
    /// Where in the expression, if the error has a place.
    public var offset: Int?
    /// The offending token as written, if there is one (`nil` at the end of the input).
    public var token: String?

    /// Makes an error.
    public init(_ kind: Kind, _ message: String, offset: Int? = nil, token: String? = nil) {
        self.kind = kind
        self.message = message
        self.offset = offset
        self.token = token
    }

    /// The message.
    public var description: String { message }
}

extension FilterError {
    /// "Expected X at offset N but found 'T'." for the token at hand.
    static func expected(_ what: String, found token: SQLToken) -> FilterError {
        FilterError(
            .syntax,
            "Expected \(what) at offset \(token.offset) but found \(token.display).",
            offset: token.offset,
            token: token.isEnd ? nil : token.text
        )
    }

    static func conditionNotValue(_ start: SQLToken) -> FilterError {
        FilterError(
            .syntax,
            "Expected a value at offset \(start.offset) but found a condition starting with \(start.display).",
            offset: start.offset,
            token: start.text
        )
    }

    static func tooDeep(_ maximum: Int, at token: SQLToken) -> FilterError {
        FilterError(
            .nestingTooDeep,
            "Nesting depth exceeds the maximum of \(maximum) at offset \(token.offset).",
            offset: token.offset,
            token: token.text
        )
    }

    static func badEscape(_ token: SQLToken) -> FilterError {
        FilterError(
            .invalidArgument,
            "ESCAPE needs a single character at offset \(token.offset) but found \(token.display).",
            offset: token.offset,
            token: token.text
        )
    }

    static func unknownSystemProperty(_ token: SQLToken) -> FilterError {
        FilterError(
            .unknownSystemProperty,
            "Unknown system property \(token.display) at offset \(token.offset).",
            offset: token.offset,
            token: token.text
        )
    }

    static func unknownScope(_ token: SQLToken) -> FilterError {
        FilterError(
            .unknownScope,
            "Unknown property scope \(token.display) at offset \(token.offset); expected 'sys' or 'user'.",
            offset: token.offset,
            token: token.text
        )
    }

    static func unknownFunction(_ name: String, at token: SQLToken) -> FilterError {
        FilterError(
            .unknownFunction,
            "Unknown function '\(name)' at offset \(token.offset).",
            offset: token.offset,
            token: token.text
        )
    }

    static func missingParameter(_ name: String, at token: SQLToken) -> FilterError {
        FilterError(
            .missingParameter,
            "Parameter '\(name)' at offset \(token.offset) has no value.",
            offset: token.offset,
            token: token.text
        )
    }

    /// An error of evaluation at an operator's place.
    static func evaluation(_ kind: Kind, _ message: String, offset: Int, token: String) -> FilterError {
        FilterError(kind, "\(message) at offset \(offset).", offset: offset, token: token)
    }
}
