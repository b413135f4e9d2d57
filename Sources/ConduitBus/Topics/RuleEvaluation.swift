import Foundation

/// Which copies of a message a subscription's rules select (Azure's topic filters): every rule without an action
/// that matches contributes to one unchanged copy; every matching rule with an action makes its own copy, changed
/// by the action and marked with the `RuleName` property. A rule whose filter or action fails to evaluate selects
/// nothing.
enum RuleEvaluation {
    static func copies(of message: BusMessage, rules: [SubscriptionRule]) -> [BusMessage] {
        let filtered = FilteredMessage(message)
        var plain = false
        var copies: [BusMessage] = []
        for rule in rules where rule.filter.matches(filtered) {
            guard let action = rule.action else {
                plain = true
                continue
            }
            guard var changed = try? action.applied(to: filtered) else { continue }
            changed.userProperties["RuleName"] = .string(rule.name)
            var copy = message
            copy.apply(changed)
            copies.append(copy)
        }
        return (plain ? [message] : []) + copies
    }
}

extension FilteredMessage {
    /// The properties of a message being sent, as a rule sees them.
    init(_ message: BusMessage) {
        var system: [SystemProperty: PropertyValue] = [:]
        if let value = message.messageId { system[.messageId] = .string(value) }
        if let value = message.correlationId { system[.correlationId] = .string(value) }
        if let value = message.label { system[.label] = .string(value) }
        if let value = message.to { system[.to] = .string(value) }
        if let value = message.replyTo { system[.replyTo] = .string(value) }
        if let value = message.sessionId { system[.sessionId] = .string(value) }
        if let value = message.contentType { system[.contentType] = .string(value) }
        if let value = message.timeToLiveSeconds { system[.timeToLive] = .duration(.milliseconds(Int64(value * 1000))) }
        if let value = message.scheduledEnqueueTime {
            system[.scheduledEnqueueTimeUtc] = .date(Date(timeIntervalSince1970: Double(value) / 1000))
        }
        system[.size] = .int64(Int64(message.body.count))
        self.init(systemProperties: system, userProperties: message.userProperties)
    }
}

extension BusMessage {
    /// Takes the settable properties an action changed.
    mutating func apply(_ filtered: FilteredMessage) {
        func text(_ property: SystemProperty) -> String? {
            if case .string(let value)? = filtered[system: property] { return value }
            return nil
        }
        messageId = text(.messageId)
        correlationId = text(.correlationId)
        label = text(.label)
        to = text(.to)
        replyTo = text(.replyTo)
        sessionId = text(.sessionId)
        contentType = text(.contentType)
        userProperties = filtered.userProperties
    }
}
