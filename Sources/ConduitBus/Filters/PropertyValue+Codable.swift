import Foundation

/// A stable coded form: `{"type": "int64", "value": 5}`. Dates are Unix seconds, durations are whole seconds
/// and attoseconds, doubles that are not finite are the strings `"nan"`, `"inf"` and `"-inf"`.
extension PropertyValue: Codable {
    private enum CodingKeys: String, CodingKey {
        case type
        case value
        case seconds
        case attoseconds
    }

    /// Encodes the value as `{"type": …, "value": …}`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(typeName, forKey: .type)
        switch self {
        case .null:
            break
        case .string(let value):
            try container.encode(value, forKey: .value)
        case .int64(let value):
            try container.encode(value, forKey: .value)
        case .double(let value):
            if value.isFinite {
                try container.encode(value, forKey: .value)
            } else {
                try container.encode(value.isNaN ? "nan" : (value > 0 ? "inf" : "-inf"), forKey: .value)
            }
        case .bool(let value):
            try container.encode(value, forKey: .value)
        case .date(let value):
            try container.encode(value.timeIntervalSince1970, forKey: .value)
        case .duration(let value):
            try container.encode(value.components.seconds, forKey: .seconds)
            try container.encode(value.components.attoseconds, forKey: .attoseconds)
        case .uuid(let value):
            try container.encode(value.uuidString, forKey: .value)
        }
    }

    /// Decodes what ``encode(to:)`` wrote, or a bare string (how message properties were stored before they were
    /// typed).
    public init(from decoder: any Decoder) throws {
        if let single = try? decoder.singleValueContainer(), let text = try? single.decode(String.self) {
            self = .string(text)
            return
        }
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let type = try container.decode(String.self, forKey: .type)
        switch type {
        case "null":
            self = .null
        case "string":
            self = .string(try container.decode(String.self, forKey: .value))
        case "int64":
            self = .int64(try container.decode(Int64.self, forKey: .value))
        case "double":
            self = .double(try Self.decodeDouble(container))
        case "bool":
            self = .bool(try container.decode(Bool.self, forKey: .value))
        case "date":
            self = .date(Date(timeIntervalSince1970: try container.decode(Double.self, forKey: .value)))
        case "duration":
            let seconds = try container.decode(Int64.self, forKey: .seconds)
            let attoseconds = try container.decode(Int64.self, forKey: .attoseconds)
            self = .duration(Duration(secondsComponent: seconds, attosecondsComponent: attoseconds))
        case "uuid":
            let text = try container.decode(String.self, forKey: .value)
            guard let uuid = UUID(uuidString: text) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .value,
                    in: container,
                    debugDescription: "'\(text)' is not a UUID."
                )
            }
            self = .uuid(uuid)
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .type,
                in: container,
                debugDescription: "Unknown filter value type '\(type)'."
            )
        }
    }

    private static func decodeDouble(_ container: KeyedDecodingContainer<CodingKeys>) throws -> Double {
        if let value = try? container.decode(Double.self, forKey: .value) {
            return value
        }
        switch try container.decode(String.self, forKey: .value) {
        case "nan": return .nan
        case "inf": return .infinity
        case "-inf": return -.infinity
        case let other:
            throw DecodingError.dataCorruptedError(
                forKey: .value,
                in: container,
                debugDescription: "'\(other)' is not a double."
            )
        }
    }
}
