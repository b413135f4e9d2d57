import ConduitBus
import Testing

@Suite("Correlation filters")
struct CorrelationFilterTests {
    @Test("A correlation id alone")
    func correlationId() {
        let filter = CorrelationFilter(correlationId: "Contoso")
        #expect(filter.matches(message(system: [.correlationId: "Contoso"])))
        #expect(!filter.matches(message(system: [.correlationId: "contoso"])))
        #expect(!filter.matches(message()))
    }

    @Test("System and user properties combine with AND, like the documented SQL equivalent")
    func combined() throws {
        var filter = CorrelationFilter(replyTo: "johndoe@contoso.com", properties: ["color": "Red"])
        filter.label = "Important"
        let sql = try SQLFilter("sys.ReplyTo = 'johndoe@contoso.com' AND sys.Label = 'Important' AND color = 'Red'")
        let candidates = [
            message(["color": "Red"], system: [.replyTo: "johndoe@contoso.com", .label: "Important"]),
            message(["color": "red"], system: [.replyTo: "johndoe@contoso.com", .label: "Important"]),
            message(["color": "Red"], system: [.replyTo: "johndoe@contoso.com"]),
            message(["color": "Red"], system: [.replyTo: "jane@contoso.com", .label: "Important"]),
            message(system: [.replyTo: "johndoe@contoso.com", .label: "Important"]),
        ]
        for candidate in candidates {
            #expect(filter.matches(candidate) == sql.matches(candidate))
        }
        #expect(filter.matches(candidates[0]))
        #expect(filter.subject == "Important")
    }

    @Test("Every system field takes part", arguments: 0..<8)
    func everyField(index: Int) {
        var filter = CorrelationFilter()
        let property: SystemProperty
        switch index {
        case 0: (filter.correlationId, property) = ("v", .correlationId)
        case 1: (filter.messageId, property) = ("v", .messageId)
        case 2: (filter.to, property) = ("v", .to)
        case 3: (filter.replyTo, property) = ("v", .replyTo)
        case 4: (filter.subject, property) = ("v", .label)
        case 5: (filter.sessionId, property) = ("v", .sessionId)
        case 6: (filter.replyToSessionId, property) = ("v", .replyToSessionId)
        default: (filter.contentType, property) = ("v", .contentType)
        }
        #expect(filter.systemConditions.count == 1)
        #expect(filter.matches(message(system: [property: "v"])))
        #expect(!filter.matches(message(system: [property: "w"])))
    }

    @Test("User property values compare by value; names ignore case; other types do not match")
    func userValues() {
        let filter = CorrelationFilter(properties: ["Property1": 47381])
        #expect(filter.matches(message(["Property1": 47381])))
        #expect(filter.matches(message(["property1": .double(47381)])))
        #expect(!filter.matches(message(["Property1": "47381"])))
        #expect(!filter.matches(message(["Property1": 47382])))
        #expect(!filter.matches(message()))
    }

    @Test("An empty correlation filter matches everything")
    func empty() {
        #expect(CorrelationFilter().matches(message()))
    }
}
