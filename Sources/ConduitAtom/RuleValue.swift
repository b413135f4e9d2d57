import Foundation

/// A typed value of a correlation filter property or a SQL filter/action parameter.
///
/// On the wire it is `<Value i:type="d6p1:int" xmlns:d6p1="http://www.w3.org/2001/XMLSchema">5</Value>`; Azure
/// binds the prefix of `duration` to the .NET serialization namespace instead of XML Schema. These are the
/// types the Python and .NET administration clients send and read.
public enum RuleValue: Sendable, Hashable {
    /// `xs:string`.
    case string(String)
    /// `xs:int` (32-bit).
    case int(Int32)
    /// `xs:long` (64-bit).
    case long(Int64)
    /// `xs:boolean`.
    case boolean(Bool)
    /// `xs:double`.
    case double(Double)
    /// `xs:dateTime`, kept as sent (e.g. `2020-07-05T11:12:13`, with or without a zone) so it reads back the
    /// same; ``date`` gives the instant (no zone counts as UTC).
    case dateTime(String)
    /// A duration (`ser:duration`).
    case duration(ISO8601Duration)

    /// The type name after the prefix of `i:type`, e.g. `int`.
    public var typeName: String {
        switch self {
        case .string: "string"
        case .int: "int"
        case .long: "long"
        case .boolean: "boolean"
        case .double: "double"
        case .dateTime: "dateTime"
        case .duration: "duration"
        }
    }

    /// The text of the value as written on the wire.
    public var lexicalValue: String {
        switch self {
        case .string(let text): text
        case .int(let value): String(value)
        case .long(let value): String(value)
        case .boolean(let value): value ? "true" : "false"
        case .double(let value): Self.format(value)
        case .dateTime(let text): text
        case .duration(let value): value.description
        }
    }

    /// The instant of a ``dateTime(_:)`` value; nil for other cases.
    public var date: Date? {
        if case .dateTime(let text) = self {
            return ManagementDate.parse(text)
        }
        return nil
    }

    /// Reads a `Value` element; `path` names it in errors.
    init(decoding node: XMLNode, path: String) throws(ManagementCodecError) {
        guard let type = node.schemaType else {
            throw ManagementCodecError(
                kind: .missingElement,
                element: path,
                message: "Missing attribute i:type on \(path); it names the value type, e.g. d6p1:string."
            )
        }
        let text = node.text
        let trimmed = text.trimmingXMLWhitespace()
        switch node.resolveQualifiedValue(type).localName {
        case "string":
            self = .string(text)
        case "int":
            guard let value = Int32(trimmed) else {
                throw .invalidValue(text, at: path, expected: "a 32-bit integer (i:type \(type))")
            }
            self = .int(value)
        case "long":
            guard let value = Int64(trimmed) else {
                throw .invalidValue(text, at: path, expected: "a 64-bit integer (i:type \(type))")
            }
            self = .long(value)
        case "boolean":
            switch trimmed.lowercased() {
            case "true", "1": self = .boolean(true)
            case "false", "0": self = .boolean(false)
            default: throw .invalidValue(text, at: path, expected: "a boolean (i:type \(type))")
            }
        case "double":
            guard let value = Self.parseDouble(trimmed) else {
                throw .invalidValue(text, at: path, expected: "a double (i:type \(type))")
            }
            self = .double(value)
        case "dateTime":
            guard ManagementDate.parse(trimmed) != nil else {
                throw .invalidValue(text, at: path, expected: "a date and time (i:type \(type))")
            }
            self = .dateTime(trimmed)
        case "duration":
            do {
                self = .duration(try ISO8601Duration(parsing: trimmed))
            } catch {
                throw .invalidValue(text, at: path, expected: "an ISO 8601 duration (\(error.reason))")
            }
        default:
            throw ManagementCodecError(
                kind: .invalidValue,
                element: path,
                message: "Unsupported value type '\(type.truncatedForMessage())' for \(path): expected string, int, "
                    + "long, boolean, double, dateTime or duration."
            )
        }
    }

    /// Writes the `Value` element as Azure does.
    func write(to writer: inout XMLWriter) {
        let namespace: String
        if case .duration = self {
            namespace = ServiceBusXMLNamespace.serialization
        } else {
            namespace = ServiceBusXMLNamespace.schema
        }
        writer.leaf("Value", lexicalValue, [("i:type", "d6p1:" + typeName), ("xmlns:d6p1", namespace)])
    }

    private static func parseDouble(_ text: String) -> Double? {
        switch text {
        case "INF", "+INF": return .infinity
        case "-INF": return -.infinity
        case "NaN": return .nan
        default:
            guard !text.isEmpty, text.allSatisfy({ "0123456789+-.eE".contains($0) }) else {
                return nil
            }
            return Double(text)
        }
    }

    private static func format(_ value: Double) -> String {
        if value.isNaN {
            return "NaN"
        }
        if value.isInfinite {
            return value < 0 ? "-INF" : "INF"
        }
        return String(value)
    }
}
