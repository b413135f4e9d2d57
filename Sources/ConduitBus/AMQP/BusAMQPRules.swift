import ConduitAMQP
import Foundation

/// The rule operations of a subscription's `$management` node (`com.microsoft:add-rule`, `remove-rule`,
/// `enumerate-rules`), in the encoding the .NET and Java SDKs' rule managers use: string keys, rule descriptions as
/// described lists with numeric descriptors (the filter codes as the SDKs' 15-digit literals give them).
enum BusAMQPRules {
    static let ruleDescription: UInt64 = 0x0000_0137_0000_0004
    static let sqlFilter: UInt64 = 0x0000_0013_7000_0006
    static let trueFilter: UInt64 = 0x0000_0013_7000_0007
    static let falseFilter: UInt64 = 0x0000_0013_7000_0008
    static let correlationFilter: UInt64 = 0x0000_0013_7000_0009
    static let emptyRuleAction: UInt64 = 0x0000_0137_0000_0005
    static let sqlRuleAction: UInt64 = 0x0000_0137_0000_0006

    /// The correlation filter's keys, in the order of its described list.
    static let correlationKeys = [
        "correlation-id", "message-id", "to", "reply-to", "label", "session-id", "reply-to-session-id", "content-type",
    ]

    /// The topic and subscription of a `<topic>/Subscriptions/<name>` entity.
    static func subscription(of entity: String) throws(BusAMQPError) -> (topic: String, subscription: String) {
        let parts = entity.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[1].lowercased() == "subscriptions", !parts[0].isEmpty, !parts[2].isEmpty else {
            throw BusAMQPError(
                condition: "com.microsoft:argument-error",
                message:
                    "Rules belong to subscriptions: send rule operations to <topic>/Subscriptions/<name>/$management, not \(entity)/$management."
            )
        }
        return (String(parts[0]), String(parts[2]))
    }

    /// The rule an `add-rule` request's `rule-description` map describes.
    static func rule(named name: String, from description: AMQPValue?) throws -> SubscriptionRule {
        guard case .map(let entries)? = description else {
            throw BusAMQPError.argument("add-rule needs a rule-description map.")
        }
        func value(_ key: String, in entries: [AMQPMapEntry]) -> AMQPValue? {
            guard let found = entries.first(where: { $0.key.text == key })?.value, found != .null else { return nil }
            return found
        }
        let filter: RuleFilter
        if case .map(let sql)? = value("sql-filter", in: entries) {
            guard let expression = value("expression", in: sql)?.text else {
                throw BusAMQPError.argument("The sql-filter has no expression.")
            }
            filter = .sql(try SQLFilter(expression))
        } else if case .map(let fields)? = value("correlation-filter", in: entries) {
            var properties: [String: PropertyValue] = [:]
            if case .map(let map)? = value("properties", in: fields) {
                for entry in map {
                    guard let key = entry.key.text else { continue }
                    properties[key] = BusAMQPMessages.propertyValue(entry.value)
                }
            }
            let texts = correlationKeys.map { value($0, in: fields)?.text }
            guard texts.contains(where: { $0 != nil }) || !properties.isEmpty else {
                throw BusAMQPError.argument("A correlation-filter needs at least one field or property.")
            }
            filter = .correlation(
                CorrelationFilter(
                    correlationId: texts[0],
                    messageId: texts[1],
                    to: texts[2],
                    replyTo: texts[3],
                    subject: texts[4],
                    sessionId: texts[5],
                    replyToSessionId: texts[6],
                    contentType: texts[7],
                    properties: properties
                )
            )
        } else {
            throw BusAMQPError.argument("The rule-description needs a sql-filter or a correlation-filter map.")
        }
        var action: SQLRuleAction?
        if case .map(let fields)? = value("sql-rule-action", in: entries),
            let expression = value("expression", in: fields)?.text
        {
            action = try SQLRuleAction(expression)
        }
        return SubscriptionRule(name: name, filter: filter, action: action)
    }

    /// A rule as `enumerate-rules` lists it: `{rule-description: described(rule-description, [filter, action, name])}`.
    static func entry(_ rule: SubscriptionRule) -> AMQPValue {
        let filter: AMQPValue
        switch rule.filter {
        case .sql(let sql): filter = described(sqlFilter, [.string(sql.expression)])
        case .true: filter = described(trueFilter, [])
        case .false: filter = described(falseFilter, [])
        case .correlation(let correlation):
            let texts = [
                correlation.correlationId, correlation.messageId, correlation.to, correlation.replyTo,
                correlation.subject, correlation.sessionId, correlation.replyToSessionId, correlation.contentType,
            ]
            let properties = correlation.properties.sorted { $0.key < $1.key }.map {
                AMQPMapEntry(.string($0.key), BusAMQPMessages.amqpValue($0.value))
            }
            // The properties are always a map: .NET walks them without a null check.
            filter = described(correlationFilter, texts.map { $0.map(AMQPValue.string) ?? .null } + [.map(properties)])
        }
        // The action is always there: both SDKs dereference it.
        let action =
            rule.action.map { described(sqlRuleAction, [.string($0.expression)]) } ?? described(emptyRuleAction, [])
        return .map([
            AMQPMapEntry(
                .string("rule-description"),
                described(ruleDescription, [filter, action, .string(rule.name)])
            )
        ])
    }

    private static func described(_ code: UInt64, _ fields: [AMQPValue]) -> AMQPValue {
        .described(descriptor: .ulong(code), value: .list(fields))
    }
}
