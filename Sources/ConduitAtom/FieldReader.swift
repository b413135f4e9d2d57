import Foundation

/// Converts the text of leaf elements into typed values, naming the element path in every error.
struct FieldReader {
    /// The path of the element whose children are read, e.g. `QueueDescription`.
    let parent: String

    /// The path of a child element.
    func path(_ node: XMLNode) -> String {
        parent + "/" + node.localName
    }

    /// A reader for the children of `node`.
    func nested(_ node: XMLNode) -> FieldReader {
        FieldReader(parent: path(node))
    }

    /// The element's text exactly as sent.
    func string(_ node: XMLNode) -> String {
        node.text
    }

    /// The element's text, or nil when it is empty or only whitespace (as the .NET client treats `ForwardTo`).
    func optionalString(_ node: XMLNode) -> String? {
        node.text.trimmingXMLWhitespace().isEmpty ? nil : node.text
    }

    /// An `xs:boolean`: `true`, `false` (any case), `1` or `0`.
    func bool(_ node: XMLNode) throws(ManagementCodecError) -> Bool {
        switch node.text.trimmingXMLWhitespace().lowercased() {
        case "true", "1":
            return true
        case "false", "0":
            return false
        default:
            throw .invalidValue(node.text, at: path(node), expected: "a boolean (true or false)")
        }
    }

    /// An integer within `range`.
    func int(_ node: XMLNode, in range: ClosedRange<Int> = 0...Int.max) throws(ManagementCodecError) -> Int {
        guard let value = Int(node.text.trimmingXMLWhitespace()), range.contains(value) else {
            let bounds =
                range.upperBound == Int.max
                ? "at least \(range.lowerBound)" : "between \(range.lowerBound) and \(range.upperBound)"
            throw .invalidValue(node.text, at: path(node), expected: "an integer \(bounds)")
        }
        return value
    }

    /// A 32-bit count (such as `MaxDeliveryCount`) within `range`.
    func int32(_ node: XMLNode, minimum: Int = 0) throws(ManagementCodecError) -> Int {
        try int(node, in: minimum...Int(Int32.max))
    }

    /// A non-negative ISO 8601 duration.
    func duration(_ node: XMLNode) throws(ManagementCodecError) -> ISO8601Duration {
        let value: ISO8601Duration
        do {
            value = try ISO8601Duration(parsing: node.text)
        } catch {
            throw .invalidValue(
                node.text,
                at: path(node),
                expected: "an ISO 8601 duration such as PT1M (\(error.reason))"
            )
        }
        guard value.ticks >= 0 else {
            throw .invalidValue(node.text, at: path(node), expected: "a non-negative ISO 8601 duration")
        }
        return value
    }

    /// An `xs:dateTime`; .NET's `DateTime.MinValue` (Azure's "never") reads as nil.
    func date(_ node: XMLNode) throws(ManagementCodecError) -> Date? {
        guard let date = ManagementDate.parse(node.text) else {
            throw .invalidValue(
                node.text,
                at: path(node),
                expected: "an ISO 8601 date and time such as 2021-10-21T05:18:38Z"
            )
        }
        return date == ManagementDate.minValue ? nil : date
    }

    /// An entity status such as `Active`; the case of the letters is not significant.
    func status(_ node: XMLNode) throws(ManagementCodecError) -> EntityStatus {
        let text = node.text.trimmingXMLWhitespace()
        guard let status = EntityStatus.allCases.first(where: { $0.rawValue.lowercased() == text.lowercased() }) else {
            let names = EntityStatus.allCases.map(\.rawValue).joined(separator: ", ")
            throw .invalidValue(node.text, at: path(node), expected: "one of \(names)")
        }
        return status
    }

    /// An availability status such as `Available`; the case of the letters is not significant.
    func availability(_ node: XMLNode) throws(ManagementCodecError) -> EntityAvailabilityStatus {
        let text = node.text.trimmingXMLWhitespace().lowercased()
        guard let status = EntityAvailabilityStatus.allCases.first(where: { $0.rawValue.lowercased() == text }) else {
            let names = EntityAvailabilityStatus.allCases.map(\.rawValue).joined(separator: ", ")
            throw .invalidValue(node.text, at: path(node), expected: "one of \(names)")
        }
        return status
    }
}
