import ConduitBus
import Testing

@Suite("The message a filter sees")
struct FilteredMessageTests {
    @Test("value(of:) reaches system and user properties; missing ones are nil")
    func lookup() {
        let sample = message(["Color": "red", "empty": .null], system: [.messageId: "m1"])
        #expect(sample.value(of: .system(.messageId)) == "m1")
        #expect(sample.value(of: .system(.sessionId)) == nil)
        #expect(sample.value(of: .user("color")) == "red")
        #expect(sample.value(of: .user("empty")) == .null)
        #expect(sample.value(of: .user("other")) == nil)
        #expect(sample.contains(.user("EMPTY")))
        #expect(!sample.contains(.user("other")))
        #expect(sample.userPropertyKey(matching: "COLOR") == "Color")
    }

    @Test("Setting a system property to nil or null unsets it")
    func unset() {
        var sample = message(system: [.to: "a", .replyTo: "b"])
        sample[system: .to] = nil
        sample[system: .replyTo] = .null
        sample[system: .label] = "c"
        #expect(sample.systemProperties == [.label: "c"])
    }

    @Test("Property references parse scopes the way property() reads them")
    func references() throws {
        #expect(try PropertyReference(parsing: "SYS.subject") == .system(.label))
        #expect(try PropertyReference(parsing: "user.sys.x") == .user("sys.x"))
        #expect(try PropertyReference(parsing: "plain") == .user("plain"))
        #expect(throws: FilterError.self) { try PropertyReference(parsing: "sys.nothing") }
        #expect(PropertyReference.system(.label).description == "sys.Label")
        #expect(PropertyReference.user("a").description == "user.a")
    }

    @Test("sys and user alone are ordinary user property names")
    func scopeWordsAsNames() throws {
        #expect(try matches("sys = 1 AND user = 2", message(["sys": 1, "user": 2])))
    }

    @Test("Which system properties actions may change follows the documentation's read-only marks")
    func settable() {
        let readOnly = SystemProperty.allCases.filter { !$0.isSettable }
        #expect(
            Set(readOnly) == [
                .deadLetterSource, .deliveryCount, .enqueuedSequenceNumber, .enqueuedTimeUtc, .expiresAtUtc,
                .lockedUntilUtc, .lockToken, .sequenceNumber, .size,
            ]
        )
        #expect(SystemProperty.timeToLive.valueType == .duration)
        #expect(SystemProperty.label.name == "Label")
    }
}
