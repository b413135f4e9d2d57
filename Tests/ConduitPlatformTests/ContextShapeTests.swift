import ConduitContext
import ConduitPlatform
import ConduitTestSupport
import Foundation
import Testing

/// The context the pipeline captures for an asynchronous post-operation Update of a contact has the member set and
/// shapes of the captured Dataverse webhook body (`webhook-update-contact-docs.json`).
@Suite("captured context shape")
struct ContextShapeTests {
    static let fixtureDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent()
        .appendingPathComponent("ConduitContextTests/Fixtures/contexts")

    /// The JSON shape of a document: object member names in order (recursively), value kinds, and for
    /// key/value arrays the shapes by key.
    indirect enum Shape: Equatable, CustomStringConvertible {
        case null, string, number, boolean
        case date, guid
        case object([String], [String: Shape])
        case pairs([String], [String: Shape])
        case array([Shape])

        var description: String {
            switch self {
            case .null: return "null"
            case .string: return "string"
            case .number: return "number"
            case .boolean: return "boolean"
            case .date: return "date"
            case .guid: return "guid"
            case .object(let keys, _): return "{\(keys.joined(separator: ","))}"
            case .pairs(let keys, _): return "[pairs \(keys.joined(separator: ","))]"
            case .array(let items): return "[\(items.count) items]"
            }
        }
    }

    static func shape(_ json: Any) -> Shape {
        switch json {
        case is NSNull: return .null
        case let text as String:
            if text.hasPrefix("/Date(") { return .date }
            if text.count == 36, UUID(uuidString: text) != nil { return .guid }
            return .string
        case let number as NSNumber:
            return String(cString: number.objCType) == "c" ? .boolean : .number
        case let array as [Any]:
            let objects = array.compactMap { $0 as? [String: Any] }
            if objects.count == array.count, !objects.isEmpty,
                objects.allSatisfy({ $0["key"] is String && $0.keys.contains("value") && $0["__type"] == nil })
            {
                var shapes: [String: Shape] = [:]
                for object in objects { shapes[object["key"] as! String] = shape(object["value"]!) }
                return .pairs(objects.map { $0["key"] as! String }, shapes)
            }
            return .array(array.map(shape))
        case let object as [String: Any]:
            var shapes: [String: Shape] = [:]
            for (key, value) in object { shapes[key] = shape(value) }
            return .object(object.keys.sorted(), shapes)
        default:
            return .string
        }
    }

    /// Member names in document order (JSONSerialization loses order, so it is read separately).
    static func memberOrder(_ bytes: [UInt8]) throws -> [String] {
        guard case .object(let members) = try OrderedJSONLite.parse(bytes) else { return [] }
        return members.map(\.0)
    }

    /// Differences between two shapes, as paths.
    static func differences(_ a: Shape, _ b: Shape, path: String = "$", ignoringExtraPairs: Bool) -> [String] {
        switch (a, b) {
        case (.object(let keysA, let shapesA), .object(let keysB, let shapesB)):
            if keysA != keysB { return ["\(path): members \(keysA) vs \(keysB)"] }
            return keysA.flatMap {
                differences(shapesA[$0]!, shapesB[$0]!, path: path + "." + $0, ignoringExtraPairs: ignoringExtraPairs)
            }
        case (.pairs(let keysA, let shapesA), .pairs(let keysB, let shapesB)):
            if keysA != keysB && !(ignoringExtraPairs && Set(keysA).isSubset(of: Set(keysB))) {
                return ["\(path): keys \(keysA) vs \(keysB)"]
            }
            return keysA.filter { shapesB[$0] != nil }.flatMap {
                differences(shapesA[$0]!, shapesB[$0]!, path: path + "[\($0)]", ignoringExtraPairs: ignoringExtraPairs)
            }
        case (.array(let itemsA), .array(let itemsB)):
            if let first = itemsA.first, let other = itemsB.first {
                return differences(first, other, path: path + "[0]", ignoringExtraPairs: ignoringExtraPairs)
            }
            return []
        case (.array([]), .pairs), (.pairs, .array([])):
            return []
        default:
            return a == b ? [] : ["\(path): \(a) vs \(b)"]
        }
    }

    @Test(
        "async PostOperation Update of a contact: same members and shapes as the captured context",
        arguments: TestBackend.available
    )
    func sameShapeAsCapture(backend: TestBackend) async throws {
        let fixture = Array(
            try Data(contentsOf: Self.fixtureDirectory.appendingPathComponent("webhook-update-contact-docs.json"))
        )
        let captured = try await PlatformHarness.run(backend, contextMembers: .classic) { h in
            try await h.registerStep(
                "Microsoft.Crm.ServiceBus.ServiceBusPlugin: Update of contact",
                plugin: "Recording",
                message: "Update",
                table: "contact",
                stage: 40,
                mode: 1,
                configuration: "shape|async",
                filteringAttributes: "firstname,lastname"
            )
            let id = try await h.service.create(
                Entity(
                    logicalName: "contact",
                    attributes: [("firstname", .string("Jim")), ("lastname", .string("Glynn (sample)"))]
                )
            )
            var request = OrganizationRequest.update(
                Entity(logicalName: "contact", id: id, attributes: [("firstname", .string("James"))])
            )
            request.parameters.append(key: "SuppressDuplicateDetection", value: .boolean(false))
            _ = try await h.service.execute(request)
            let job = try #require(try await h.jobs().entities.first)
            guard case .string(let data)? = job.attributes["data"] else { throw PlatformError(.unexpected, "no data") }
            return Array(data.utf8)
        }
        // The same members, in the same order, at the top and in the parent.
        #expect(try Self.memberOrder(captured) == (try Self.memberOrder(fixture)))
        let expected = Self.shape(try JSONSerialization.jsonObject(with: Data(fixture)))
        let actual = Self.shape(try JSONSerialization.jsonObject(with: Data(captured)))
        // The capture's parent ChangedEntityTypes lists 14 tables, ours the one that changed: compare by shape.
        let differences = Self.differences(expected, actual, ignoringExtraPairs: false)
        #expect(differences == [], "\(differences.joined(separator: "\n"))")
        // And it decodes as a context with the expected values.
        let context = try ContextCodec.decode(captured, format: .json)
        #expect(context.stage == 40)
        #expect(context.mode == 1)
        #expect(context.parent?.stage == 30)
        #expect(context.secondaryEntityName == "none")
        #expect(context.requestId == nil)
    }
}

/// A small order-keeping JSON reader for member order (the test target's own, independent of the codec).
enum OrderedJSONLite {
    indirect enum Value { case other, object([(String, Value)]) }

    static func parse(_ bytes: [UInt8]) throws -> Value {
        var index = 0
        return try value(bytes, &index)
    }

    private static func skip(_ b: [UInt8], _ i: inout Int) {
        while i < b.count, [0x20, 0x0A, 0x0D, 0x09].contains(b[i]) { i += 1 }
    }

    private static func string(_ b: [UInt8], _ i: inout Int) -> String {
        let start = i + 1
        i += 1
        while b[i] != UInt8(ascii: "\"") { i += b[i] == UInt8(ascii: "\\") ? 2 : 1 }
        i += 1
        return String(decoding: b[start..<(i - 1)], as: UTF8.self)
    }

    private static func value(_ b: [UInt8], _ i: inout Int) throws -> Value {
        skip(b, &i)
        switch b[i] {
        case UInt8(ascii: "{"):
            i += 1
            var members: [(String, Value)] = []
            skip(b, &i)
            if b[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
            while true {
                skip(b, &i)
                let key = string(b, &i)
                skip(b, &i)
                i += 1  // :
                members.append((key, try value(b, &i)))
                skip(b, &i)
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                i += 1
                return .object(members)
            }
        case UInt8(ascii: "["):
            i += 1
            skip(b, &i)
            if b[i] == UInt8(ascii: "]") { i += 1; return .other }
            while true {
                _ = try value(b, &i)
                skip(b, &i)
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                i += 1
                return .other
            }
        case UInt8(ascii: "\""):
            _ = string(b, &i)
            return .other
        default:
            while i < b.count, !",]}".utf8.contains(b[i]), ![0x20, 0x0A, 0x0D, 0x09].contains(b[i]) { i += 1 }
            return .other
        }
    }
}
