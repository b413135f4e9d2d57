import ConduitAtom
import ConduitBus
import Foundation

/// Between the management API's ATOM descriptions (ConduitAtom) and the embedded bus's own (ConduitBus). Settings
/// the bus does not have yet (sessions, auto-forwarding) are refused with a 400 that says so; settings that change
/// nothing here (size quotas, partitioning, express, batching, auto-delete on idle, metadata) are accepted and read
/// back as their defaults.
enum ManagementMapping {
    struct Refusal: Error {
        var message: String
    }

    static func seconds(_ duration: ISO8601Duration) -> Double? {
        duration.isMaximum ? nil : duration.timeInterval
    }

    static func duration(_ seconds: Double?) -> ISO8601Duration {
        seconds.map { ISO8601Duration(timeInterval: $0) } ?? .maximum
    }

    static func unsupported(forwardDeadLetters: String?) throws(Refusal) {
        if forwardDeadLetters?.isEmpty == false {
            throw Refusal(message: "ForwardDeadLetteredMessagesTo: forwarding dead letters is not built yet.")
        }
    }

    /// `ForwardTo` as the clients send it: a name, or a URL of the namespace (`sb://host/name`).
    static func forwardTarget(_ text: String?) -> String? {
        guard var text = text?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        if let scheme = text.range(of: "://") {
            text = String(text[scheme.upperBound...].drop { $0 != "/" }.dropFirst())
        }
        return text.isEmpty ? nil : text.lowercased()
    }

    // MARK: - Authorization rules

    /// An entity's SAS rules; a rule without keys gets new ones, as Azure makes them.
    static func rules(_ atom: [ConduitAtom.AuthorizationRule]) throws(Refusal) -> [ConduitBus.AuthorizationRule]? {
        guard !atom.isEmpty else { return nil }
        var rules: [ConduitBus.AuthorizationRule] = []
        for rule in atom {
            guard !rule.keyName.isEmpty else { throw Refusal(message: "An AuthorizationRule needs a KeyName.") }
            rules.append(
                ConduitBus.AuthorizationRule(
                    keyName: rule.keyName,
                    primaryKey: rule.primaryKey ?? BusNamespace.randomKey(),
                    secondaryKey: rule.secondaryKey ?? BusNamespace.randomKey(),
                    rights: Set(rule.rights.compactMap { ConduitBus.AccessRight(rawValue: $0.rawValue) })
                )
            )
        }
        return rules
    }

    static func atom(_ rules: [ConduitBus.AuthorizationRule]?) -> [ConduitAtom.AuthorizationRule] {
        (rules ?? []).map { rule in
            ConduitAtom.AuthorizationRule(
                keyName: rule.keyName,
                rights: rule.rights.sorted { $0.rawValue < $1.rawValue }.compactMap {
                    ConduitAtom.AccessRight(rawValue: $0.rawValue)
                },
                primaryKey: rule.primaryKey,
                secondaryKey: rule.secondaryKey
            )
        }
    }

    // MARK: - Queues

    static func queue(_ atom: ConduitAtom.QueueDescription, name: String) throws(Refusal) -> ConduitBus.QueueDescription
    {
        try unsupported(forwardDeadLetters: atom.forwardDeadLetteredMessagesTo)
        var queue = ConduitBus.QueueDescription(
            name: name,
            lockDurationSeconds: atom.lockDuration.timeInterval,
            maxDeliveryCount: atom.maxDeliveryCount,
            defaultMessageTimeToLiveSeconds: seconds(atom.defaultMessageTimeToLive),
            deadLetteringOnMessageExpiration: atom.deadLetteringOnMessageExpiration,
            duplicateDetectionWindowSeconds: atom.requiresDuplicateDetection
                ? atom.duplicateDetectionHistoryTimeWindow.timeInterval : nil,
            forwardTo: forwardTarget(atom.forwardTo)
        )
        queue.authorizationRules = try rules(atom.authorizationRules)
        queue.requiresSession = atom.requiresSession ? true : nil
        return queue
    }

    static func atom(
        _ queue: ConduitBus.QueueDescription,
        createdOn: Int64,
        counts: MessageCounts
    ) -> ConduitAtom.QueueDescription {
        var atom = ConduitAtom.QueueDescription()
        atom.lockDuration = ISO8601Duration(timeInterval: queue.lockDurationSeconds)
        atom.maxDeliveryCount = queue.maxDeliveryCount
        atom.defaultMessageTimeToLive = duration(queue.defaultMessageTimeToLiveSeconds)
        atom.deadLetteringOnMessageExpiration = queue.deadLetteringOnMessageExpiration
        atom.forwardTo = queue.forwardTo
        atom.authorizationRules = Self.atom(queue.authorizationRules)
        atom.requiresSession = queue.isSessionful
        atom.requiresDuplicateDetection = queue.duplicateDetectionWindowSeconds != nil
        if let window = queue.duplicateDetectionWindowSeconds {
            atom.duplicateDetectionHistoryTimeWindow = ISO8601Duration(timeInterval: window)
        }
        let created = Date(timeIntervalSince1970: Double(createdOn) / 1000)
        atom.createdAt = created
        atom.updatedAt = created
        atom.accessedAt = created
        atom.messageCount = counts.total
        atom.sizeInBytes = 0
        atom.countDetails = details(counts)
        return atom
    }

    static func details(_ counts: MessageCounts) -> MessageCountDetails {
        MessageCountDetails(
            activeMessageCount: counts.active,
            deadLetterMessageCount: counts.deadLettered,
            scheduledMessageCount: counts.scheduled,
            transferMessageCount: 0,
            transferDeadLetterMessageCount: 0
        )
    }

    // MARK: - Topics and subscriptions

    static func topic(_ atom: ConduitAtom.TopicDescription, name: String) throws(Refusal) -> ConduitBus.TopicDescription
    {
        var topic = ConduitBus.TopicDescription(
            name: name,
            defaultMessageTimeToLiveSeconds: seconds(atom.defaultMessageTimeToLive),
            duplicateDetectionWindowSeconds: atom.requiresDuplicateDetection
                ? atom.duplicateDetectionHistoryTimeWindow.timeInterval : nil
        )
        topic.authorizationRules = try rules(atom.authorizationRules)
        return topic
    }

    static func atom(
        _ topic: ConduitBus.TopicDescription,
        createdOn: Int64,
        subscriptions: Int
    )
        -> ConduitAtom.TopicDescription
    {
        var atom = ConduitAtom.TopicDescription()
        atom.defaultMessageTimeToLive = duration(topic.defaultMessageTimeToLiveSeconds)
        atom.authorizationRules = Self.atom(topic.authorizationRules)
        atom.requiresDuplicateDetection = topic.duplicateDetectionWindowSeconds != nil
        if let window = topic.duplicateDetectionWindowSeconds {
            atom.duplicateDetectionHistoryTimeWindow = ISO8601Duration(timeInterval: window)
        }
        let created = Date(timeIntervalSince1970: Double(createdOn) / 1000)
        atom.createdAt = created
        atom.updatedAt = created
        atom.accessedAt = created
        atom.sizeInBytes = 0
        atom.subscriptionCount = subscriptions
        atom.countDetails = details(MessageCounts())
        return atom
    }

    static func subscription(
        _ atom: ConduitAtom.SubscriptionDescription,
        topic: String,
        name: String
    ) throws(Refusal) -> ConduitBus.SubscriptionDescription {
        try unsupported(forwardDeadLetters: atom.forwardDeadLetteredMessagesTo)
        return ConduitBus.SubscriptionDescription(
            topic: topic,
            name: name,
            lockDurationSeconds: atom.lockDuration.timeInterval,
            maxDeliveryCount: atom.maxDeliveryCount,
            defaultMessageTimeToLiveSeconds: seconds(atom.defaultMessageTimeToLive),
            deadLetteringOnMessageExpiration: atom.deadLetteringOnMessageExpiration,
            forwardTo: forwardTarget(atom.forwardTo),
            requiresSession: atom.requiresSession ? true : nil
        )
    }

    static func atom(
        _ subscription: ConduitBus.SubscriptionDescription,
        counts: MessageCounts
    )
        -> ConduitAtom.SubscriptionDescription
    {
        var atom = ConduitAtom.SubscriptionDescription()
        atom.lockDuration = ISO8601Duration(timeInterval: subscription.lockDurationSeconds)
        atom.maxDeliveryCount = subscription.maxDeliveryCount
        atom.defaultMessageTimeToLive = duration(subscription.defaultMessageTimeToLiveSeconds)
        atom.deadLetteringOnMessageExpiration = subscription.deadLetteringOnMessageExpiration
        atom.forwardTo = subscription.forwardTo
        atom.requiresSession = subscription.requiresSession == true
        atom.messageCount = counts.total
        atom.countDetails = details(counts)
        return atom
    }

    // MARK: - Rules

    static func rule(_ atom: RuleDescription, name: String) throws -> SubscriptionRule {
        let filter: ConduitBus.RuleFilter
        switch atom.filter {
        case .trueFilter: filter = .true
        case .falseFilter: filter = .false
        case .sql(let sql):
            filter = .sql(try SQLFilter(sql.sqlExpression, parameters: values(sql.parameters)))
        case .correlation(let correlation):
            filter = .correlation(
                CorrelationFilter(
                    correlationId: correlation.correlationId,
                    messageId: correlation.messageId,
                    to: correlation.to,
                    replyTo: correlation.replyTo,
                    subject: correlation.label,
                    sessionId: correlation.sessionId,
                    replyToSessionId: correlation.replyToSessionId,
                    contentType: correlation.contentType,
                    properties: values(correlation.properties)
                )
            )
        }
        var action: SQLRuleAction?
        if case .sql(let sql) = atom.action {
            action = try SQLRuleAction(sql.sqlExpression, parameters: values(sql.parameters))
        }
        return SubscriptionRule(name: name, filter: filter, action: action)
    }

    static func atom(_ rule: SubscriptionRule) -> RuleDescription {
        let filter: ConduitAtom.RuleFilter
        switch rule.filter {
        case .true: filter = .trueFilter
        case .false: filter = .falseFilter
        case .sql(let sql):
            var body = SqlRuleFilter(sqlExpression: sql.expression)
            body.parameters = keyValues(sql.parameters)
            filter = .sql(body)
        case .correlation(let correlation):
            var body = CorrelationRuleFilter()
            body.correlationId = correlation.correlationId
            body.messageId = correlation.messageId
            body.to = correlation.to
            body.replyTo = correlation.replyTo
            body.label = correlation.subject
            body.sessionId = correlation.sessionId
            body.replyToSessionId = correlation.replyToSessionId
            body.contentType = correlation.contentType
            body.properties = keyValues(correlation.properties)
            filter = .correlation(body)
        }
        var action = RuleAction.empty
        if let sql = rule.action {
            var body = ConduitAtom.SqlRuleAction(sqlExpression: sql.expression)
            body.parameters = keyValues(sql.parameters)
            action = .sql(body)
        }
        return RuleDescription(filter: filter, action: action, name: rule.name)
    }

    static func values(_ pairs: [RuleKeyValue]) -> [String: PropertyValue] {
        var result: [String: PropertyValue] = [:]
        for pair in pairs {
            switch pair.value {
            case .string(let text): result[pair.key] = .string(text)
            case .int(let number): result[pair.key] = .int64(Int64(number))
            case .long(let number): result[pair.key] = .int64(number)
            case .boolean(let flag): result[pair.key] = .bool(flag)
            case .double(let number): result[pair.key] = .double(number)
            case .dateTime: result[pair.key] = pair.value.date.map { .date($0) } ?? .string(pair.value.lexicalValue)
            case .duration(let duration): result[pair.key] = .duration(duration.duration)
            }
        }
        return result
    }

    static func keyValues(_ values: [String: PropertyValue]) -> [RuleKeyValue] {
        values.sorted { $0.key < $1.key }.compactMap { key, value in
            let converted: RuleValue
            switch value {
            case .null: return nil
            case .string(let text): converted = .string(text)
            case .int64(let number): converted = .long(number)
            case .double(let number): converted = .double(number)
            case .bool(let flag): converted = .boolean(flag)
            case .date(let date): converted = .dateTime(ManagementDate.format(date))
            case .duration(let duration):
                converted = .duration(
                    ISO8601Duration(
                        timeInterval: Double(duration.components.seconds) + Double(duration.components.attoseconds)
                            / 1e18
                    )
                )
            case .uuid(let id): converted = .string(id.uuidString.lowercased())
            }
            return RuleKeyValue(key: key, value: converted)
        }
    }
}
