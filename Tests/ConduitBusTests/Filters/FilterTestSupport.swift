import ConduitBus
import Foundation

/// A message with the given user and system properties.
func message(
    _ user: [String: PropertyValue] = [:],
    system: [SystemProperty: PropertyValue] = [:]
) -> FilteredMessage {
    FilteredMessage(systemProperties: system, userProperties: user)
}

/// The three-valued result of a filter on a message.
func evaluate(_ expression: String, on message: FilteredMessage = message()) throws -> Bool? {
    try SQLFilter(expression).evaluate(message)
}

/// Whether a filter matches a message.
func matches(_ expression: String, _ message: FilteredMessage = message()) throws -> Bool {
    try SQLFilter(expression).matches(message)
}

/// The parse error of a filter, or `nil` if it parses.
func filterError(_ expression: String) -> FilterError? {
    do throws(FilterError) {
        _ = try SQLFilter(expression)
        return nil
    } catch {
        return error
    }
}

/// The parse error of an action, or `nil` if it parses.
func actionError(_ expression: String) -> FilterError? {
    do throws(FilterError) {
        _ = try SQLRuleAction(expression)
        return nil
    } catch {
        return error
    }
}

/// The evaluation error of a filter on a message, or `nil` if it evaluates.
func evaluationError(_ expression: String, on message: FilteredMessage = message()) throws -> FilterError? {
    let filter = try SQLFilter(expression)
    do throws(FilterError) {
        _ = try filter.evaluate(message)
        return nil
    } catch {
        return error
    }
}
