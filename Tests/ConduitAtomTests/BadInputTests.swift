import Foundation
import Testing

@testable import ConduitAtom

/// Every bad body gives a ``ManagementCodecError`` that names the element and the problem.
@Suite("Bad input")
struct BadInputTests {
    static let entryStart =
        #"<entry xmlns="http://www.w3.org/2005/Atom"><content type="application/xml">"#
    static let entryEnd = "</content></entry>"
    static let sb = #"xmlns="http://schemas.microsoft.com/netservices/2010/10/servicebus/connect""#
    static let xsi = #"xmlns:i="http://www.w3.org/2001/XMLSchema-instance""#

    static func queue(_ children: String) -> String {
        entryStart + "<QueueDescription \(sb)>" + children + "</QueueDescription>" + entryEnd
    }

    static func rule(_ children: String) -> String {
        entryStart + "<RuleDescription \(sb) \(xsi)>" + children + "</RuleDescription>" + entryEnd
    }

    @Test(
        "invalid values name the element and what was expected",
        arguments: [
            (
                queue("<MaxDeliveryCount>abc</MaxDeliveryCount>"),
                "Invalid value 'abc' for QueueDescription/MaxDeliveryCount: expected an integer between 1 and "
                    + "2147483647."
            ),
            (
                queue("<MaxDeliveryCount>0</MaxDeliveryCount>"),
                "Invalid value '0' for QueueDescription/MaxDeliveryCount: expected an integer between 1 and 2147483647."
            ),
            (
                queue("<LockDuration>PT1X</LockDuration>"),
                "Invalid value 'PT1X' for QueueDescription/LockDuration: expected an ISO 8601 duration such as PT1M "
                    + "(unexpected character 'X' at offset 3, expected a unit designator)."
            ),
            (
                queue("<DefaultMessageTimeToLive>-PT1M</DefaultMessageTimeToLive>"),
                "Invalid value '-PT1M' for QueueDescription/DefaultMessageTimeToLive: expected a non-negative ISO 8601 "
                    + "duration."
            ),
            (
                queue("<RequiresSession>yes</RequiresSession>"),
                "Invalid value 'yes' for QueueDescription/RequiresSession: expected a boolean (true or false)."
            ),
            (
                queue("<Status>Sleeping</Status>"),
                "Invalid value 'Sleeping' for QueueDescription/Status: expected one of Active, Creating, Deleting, "
                    + "Disabled, ReceiveDisabled, Renaming, Restoring, SendDisabled, Unknown."
            ),
            (
                queue("<MaxSizeInMegabytes>-5</MaxSizeInMegabytes>"),
                "Invalid value '-5' for QueueDescription/MaxSizeInMegabytes: expected an integer at least 1."
            ),
            (
                queue("<CreatedAt>yesterday</CreatedAt>"),
                "Invalid value 'yesterday' for QueueDescription/CreatedAt: expected an ISO 8601 date and time such as "
                    + "2021-10-21T05:18:38Z."
            ),
            (
                queue("<CountDetails><ActiveMessageCount>many</ActiveMessageCount></CountDetails>"),
                "Invalid value 'many' for QueueDescription/CountDetails/ActiveMessageCount: expected an integer at "
                    + "least 0."
            ),
            (
                queue(
                    "<AuthorizationRules><AuthorizationRule><KeyName>k</KeyName><Rights>"
                        + "<AccessRights>Admin</AccessRights>"
                        + "</Rights></AuthorizationRule></AuthorizationRules>"
                ),
                "Invalid value 'Admin' for QueueDescription/AuthorizationRules/AuthorizationRule/Rights/AccessRights: "
                    + "expected one of Manage, Send, Listen."
            ),
            (
                rule(
                    #"<Filter i:type="CorrelationFilter"><Properties><KeyValueOfstringanyType><Key>k</Key>"#
                        + #"<Value xmlns:d6p1="http://www.w3.org/2001/XMLSchema" i:type="d6p1:int">2147483650</Value>"#
                        + "</KeyValueOfstringanyType></Properties></Filter>"
                ),
                "Invalid value '2147483650' for RuleDescription/Filter/Properties/KeyValueOfstringanyType/Value: "
                    + "expected a 32-bit integer (i:type d6p1:int)."
            ),
            (
                rule(
                    #"<Filter i:type="SqlFilter"><SqlExpression>a = @p</SqlExpression><Parameters>"#
                        + #"<KeyValueOfstringanyType><Key>@p</Key>"#
                        + #"<Value xmlns:d6p1="http://www.w3.org/2001/XMLSchema" i:type="d6p1:decimal">1</Value>"#
                        + "</KeyValueOfstringanyType></Parameters></Filter>"
                ),
                "Unsupported value type 'd6p1:decimal' for "
                    + "RuleDescription/Filter/Parameters/KeyValueOfstringanyType/Value: expected string, int, long, "
                    + "boolean, double, dateTime or duration."
            ),
            (
                rule(#"<Filter i:type="BananaFilter"/>"#),
                "Invalid value 'BananaFilter' for RuleDescription/Filter/@i:type: expected SqlFilter, "
                    + "CorrelationFilter, TrueFilter or FalseFilter."
            ),
        ] as [(String, String)]
    )
    func invalidValues(body: String, message: String) throws {
        let error = try #require(decodeFailure(body))
        #expect(error.kind == .invalidValue)
        #expect(error.message == message)
    }

    @Test(
        "missing required parts are named",
        arguments: [
            (
                rule(#"<Filter i:type="SqlFilter"><CompatibilityLevel>20</CompatibilityLevel></Filter>"#),
                "Missing element RuleDescription/Filter/SqlExpression."
            ),
            (
                rule("<Filter><SqlExpression>1=1</SqlExpression></Filter>"),
                "Missing attribute i:type on RuleDescription/Filter: expected SqlFilter, CorrelationFilter, "
                    + "TrueFilter or FalseFilter."
            ),
            (
                rule("<Action/>"),
                "Missing attribute i:type on RuleDescription/Action: expected EmptyRuleAction or SqlRuleAction."
            ),
            (
                rule(
                    #"<Filter i:type="CorrelationFilter"><Properties><KeyValueOfstringanyType><Key>k</Key>"#
                        + "<Value>v</Value></KeyValueOfstringanyType></Properties></Filter>"
                ),
                "Missing attribute i:type on RuleDescription/Filter/Properties/KeyValueOfstringanyType/Value; it "
                    + "names the value type, e.g. d6p1:string."
            ),
            (
                rule(
                    #"<Filter i:type="CorrelationFilter"><Properties><KeyValueOfstringanyType><Key>k</Key>"#
                        + "</KeyValueOfstringanyType></Properties></Filter>"
                ),
                "Missing element RuleDescription/Filter/Properties/KeyValueOfstringanyType/Value."
            ),
            (
                queue("<AuthorizationRules><AuthorizationRule><Rights/></AuthorizationRule></AuthorizationRules>"),
                "Missing element QueueDescription/AuthorizationRules/AuthorizationRule/KeyName."
            ),
            (
                #"<entry xmlns="http://www.w3.org/2005/Atom"><title>no content</title></entry>"#,
                "Missing element entry/content."
            ),
            (
                entryStart + entryEnd,
                "The element entry/content is empty: expected an entity description such as QueueDescription."
            ),
        ] as [(String, String)]
    )
    func missingParts(body: String, message: String) throws {
        let error = try #require(decodeFailure(body))
        #expect(error.kind == .missingElement)
        #expect(error.message == message)
    }

    @Test("a wrong root or content element is refused")
    func wrongRoots() throws {
        let foo = try #require(decodeFailure("<foo><bar/></foo>"))
        #expect(foo.kind == .unexpectedRoot)
        #expect(
            foo.message
                == "Unexpected root element 'foo': expected an Atom <entry> whose <content> holds the entity "
                + "description."
        )
        let banana = try #require(decodeFailure(Self.entryStart + "<BananaDescription/>" + Self.entryEnd))
        #expect(banana.kind == .unexpectedRoot)
        #expect(
            banana.message
                == "Unexpected element 'BananaDescription' at entry/content/BananaDescription: expected "
                + "QueueDescription, TopicDescription, SubscriptionDescription, RuleDescription, EventHubDescription or "
                + "HybridConnectionDescription."
        )
        let info = try #require(decodeFailure(Self.entryStart + "<NamespaceInfo/>" + Self.entryEnd))
        #expect(info.kind == .unexpectedRoot)
    }

    @Test(
        "malformed XML is reported with its position",
        arguments: [
            "<entry><content></entry>",
            "<entry>",
            "",
            "not xml at all",
            "<entry><content type='application/xml'><QueueDescription></content></entry>",
            "<entry a='1' a='2'/>",
            "<entry>&undefined;</entry>",
            "<x:entry/>",
            "<entry/><entry/>",
        ]
    )
    func malformed(body: String) throws {
        let error = try #require(decodeFailure(body))
        #expect(error.kind == .malformedXML)
        #expect(error.message.hasPrefix("Malformed XML"))
    }

    @Test("an undeclared namespace prefix names the prefix")
    func undeclaredPrefix() throws {
        let error = try #require(decodeFailure(Self.rule(#"<Filter p9:type="TrueFilter"/>"#)))
        #expect(error.kind == .malformedXML)
        #expect(error.message.hasSuffix(": a namespace prefix is not declared (XMLParser error 201)."))
    }

    @Test("DTDs are refused before parsing, so entity expansion cannot happen")
    func documentTypeDeclarations() throws {
        let laughs =
            #"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>"#
            + "<entry>&lol2;</entry>"
        let error = try #require(decodeFailure(laughs))
        #expect(error.kind == .forbiddenConstruct)
        #expect(error.message == "XML document type (<!DOCTYPE>) declarations are not allowed in management requests.")
    }

    @Test("size, depth and element-count limits are enforced")
    func limits() throws {
        let big = Self.queue("<UserMetadata>" + String(repeating: "x", count: 2_000) + "</UserMetadata>")
        let tooLarge = try #require(decodeFailure(big, limits: .init(maxBytes: 1_000)))
        #expect(tooLarge.kind == .inputTooLarge)
        #expect(tooLarge.message == "The body has \(big.utf8.count) bytes, more than the limit of 1000 bytes.")

        let deep = String(repeating: "<a>", count: 100) + String(repeating: "</a>", count: 100)
        let tooDeep = try #require(decodeFailure(deep))
        #expect(tooDeep.kind == .nestingTooDeep)
        #expect(tooDeep.message == "XML nesting exceeds the limit of 32 levels at element 'a'.")

        let many = Self.queue(String(repeating: "<X/>", count: 50))
        let tooMany = try #require(decodeFailure(many, limits: .init(maxElements: 20)))
        #expect(tooMany.kind == .tooManyElements)
        #expect(tooMany.message == "The body has more than the allowed 20 XML elements.")
    }

    @Test(
        "unusual documents are decoded or refused as expected, never trapped on",
        arguments: [
            (#"<?xml version="1.0" encoding="UTF-16"?><entry/>"#, .malformedXML),
            (#"<?xml version="1.0" encoding="EBCDIC-US"?><entry/>"#, .malformedXML),
            (
                #"<?xml version="1.0" encoding="ISO-8859-1"?><QueueDescription><UserMetadata>é</UserMetadata>"#
                    + "</QueueDescription>",
                nil
            ),
            ("\u{FEFF}<QueueDescription/>", nil),
            ("<entry>&#xD800;</entry>", .malformedXML),
            ("<entry>&#x110000;</entry>", .malformedXML),
            ("<entry>&#0;</entry>", .malformedXML),
            ("<entry>\u{0}</entry>", .malformedXML),
            ("<entry><!-- c --><?pi x?><content><![CDATA[x]]><QueueDescription/></content></entry>", nil),
            (#"<entry xmlns:a="" a:b="1"/>"#, .malformedXML),
            (#"<é xmlns="urn:x"/>"#, .unexpectedRoot),
            ("<QueueDescription><UserMetadata>\u{1F600}</UserMetadata></QueueDescription>", nil),
            ("<entry " + (0..<1_000).map { "a\($0)=\"\($0)\"" }.joined(separator: " ") + "/>", .missingElement),
        ] as [(String, ManagementCodecError.Kind?)]
    )
    func unusualDocuments(body: String, expected: ManagementCodecError.Kind?) {
        do {
            _ = try ManagementDecoder().decodeEntity(body.utf8)
            #expect(expected == nil, "decoded, but \(String(describing: expected)) was expected")
        } catch {
            #expect(error.kind == expected, "\(error.message)")
        }
    }

    @Test("bytes that are not UTF-8 are refused before they reach the parser")
    func invalidUTF8() throws {
        var bytes = Array(Self.queue("<UserMetadata>x</UserMetadata>").utf8)
        bytes.insert(0xCD, at: 130)
        do {
            _ = try ManagementDecoder().decodeEntity(bytes)
            Issue.record("invalid UTF-8 was accepted")
        } catch {
            #expect(error.message == "Malformed XML: the body is not valid UTF-8 (at byte offset 130).")
        }
    }

    @Test("mutated and truncated recorded bodies never trap")
    func mutations() throws {
        let decoder = ManagementDecoder()
        let originals = [
            try Fixture.bytes("python-rule-correlation-sql-action"), try Fixture.bytes("dotnet-queue-create"),
            try Fixture.bytes("dotnet-subscription-create-default-rule"),
        ]
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        var outcomes = (decoded: 0, refused: 0)
        for round in 0..<600 {
            var bytes = originals[round % originals.count]
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let position = Int(seed >> 33) % bytes.count
            switch round % 3 {
            case 0: bytes[position] = UInt8(truncatingIfNeeded: seed >> 13)
            case 1: bytes.removeSubrange(position...)
            default: bytes.insert(contentsOf: Array("<&\u{0}>".utf8), at: position)
            }
            do {
                _ = try decoder.decodeEntity(bytes)
                outcomes.decoded += 1
            } catch {
                #expect(!error.message.isEmpty)
                outcomes.refused += 1
            }
        }
        #expect(outcomes.decoded + outcomes.refused == 600)
        #expect(outcomes.refused > 0)
    }
}
