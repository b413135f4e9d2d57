import Foundation
import Testing

@testable import ConduitAtom

/// Loads the recorded bodies in `Fixtures/` (see `Fixtures/SOURCES.md`).
enum Fixture {
    static func bytes(_ name: String) throws -> [UInt8] {
        let url = try #require(
            Bundle.module.url(forResource: name, withExtension: "xml", subdirectory: "Fixtures"),
            "missing fixture \(name).xml"
        )
        return Array(try Data(contentsOf: url))
    }

    static func text(_ name: String) throws -> String {
        String(decoding: try bytes(name), as: UTF8.self)
    }
}

/// Inspects XML produced by the encoder through the package's own parser.
enum XMLShape {
    static func parse(_ text: String) throws -> XMLNode {
        try XMLTreeBuilder.parse(Data(text.utf8), maxDepth: 64, maxElements: 100_000)
    }

    /// The local names of every element in document order, the root first.
    static func elementOrder(_ text: String) throws -> [String] {
        var names: [String] = []
        collect(try parse(text), into: &names)
        return names
    }

    /// The local names of the children of the first element called `name`.
    static func childNames(_ text: String, of name: String) throws -> [String] {
        let node = try #require(find(name, in: try parse(text)), "no element \(name)")
        return node.children.map(\.localName)
    }

    /// The text between `<content type="application/xml">` and the following `</content>`.
    static func content(_ text: String) throws -> String {
        let start = try #require(text.range(of: "<content type=\"application/xml\">"))
        let end = try #require(text.range(of: "</content>", range: start.upperBound..<text.endIndex))
        return String(text[start.upperBound..<end.lowerBound])
    }

    static func find(_ name: String, in node: XMLNode) -> XMLNode? {
        if node.localName == name {
            return node
        }
        for child in node.children {
            if let found = find(name, in: child) {
                return found
            }
        }
        return nil
    }

    private static func collect(_ node: XMLNode, into names: inout [String]) {
        names.append(node.localName)
        for child in node.children {
            collect(child, into: &names)
        }
    }
}

/// Builds a date from UTC components with a fractional second given in milliseconds.
func utc(_ year: Int, _ month: Int, _ day: Int, _ hour: Int, _ minute: Int, _ second: Int, ms: Int = 0) -> Date {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "UTC")!
    let components = DateComponents(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
    let date = calendar.date(from: components)!
    return date.addingTimeInterval(Double(ms) / 1000)
}

/// Decodes a body that is expected to fail and returns the error.
func decodeFailure(_ body: String, limits: ManagementDecoder.Limits = .init()) -> ManagementCodecError? {
    do {
        _ = try ManagementDecoder(limits: limits).decodeEntity(body.utf8)
        return nil
    } catch {
        return error
    }
}

/// Whether two instants are the same to within a microsecond (dates pass through `Double` arithmetic).
func sameInstant(_ date: Date?, _ expected: Date) -> Bool {
    guard let date else {
        return false
    }
    return abs(date.timeIntervalSince(expected)) < 0.000_001
}
