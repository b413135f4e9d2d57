import Foundation

/// A property value as a Service Bus subscription rule sees it.
///
/// The cases mirror the .NET types the broker's filter language works with: `System.String`, `System.Int64`
/// (every integer type is widened to it), `System.Double` (so is every floating-point type), `System.Boolean`,
/// `System.DateTime`, `System.TimeSpan` and `System.Guid` (what `newid()` returns).
///
/// `Equatable` and `Hashable` compare the representation: `.int64(1)` and `.double(1)` are different values.
/// The filter language compares by value instead (see ``SQLFilter`` and ``CorrelationFilter``).
public enum PropertyValue: Sendable, Hashable {
    /// The SQL `NULL`, or a property whose value is null.
    case null
    /// A string, compared ordinally (case-sensitive, by UTF-16 code unit, as .NET does).
    case string(String)
    /// A 64-bit integer; integer constants in an expression are of this type.
    case int64(Int64)
    /// A double; decimal and scientific-notation constants in an expression are of this type.
    case double(Double)
    /// A Boolean; the constants `TRUE` and `FALSE` are of this type.
    case bool(Bool)
    /// An instant (a `System.DateTime`), such as `sys.EnqueuedTimeUtc`.
    case date(Date)
    /// A length of time (a `System.TimeSpan`), such as `sys.TimeToLive`.
    case duration(Duration)
    /// A GUID (a `System.Guid`), such as what `newid()` returns.
    case uuid(UUID)

    /// The name of the value's type, as error messages show it.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .string: "string"
        case .int64: "int64"
        case .double: "double"
        case .bool: "bool"
        case .date: "date"
        case .duration: "duration"
        case .uuid: "uuid"
        }
    }

    /// Whether this is ``null``.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }
}

extension PropertyValue: ExpressibleByStringLiteral {
    /// Makes a ``string(_:)`` value.
    public init(stringLiteral value: String) {
        self = .string(value)
    }
}

extension PropertyValue: ExpressibleByIntegerLiteral {
    /// Makes an ``int64(_:)`` value.
    public init(integerLiteral value: Int64) {
        self = .int64(value)
    }
}

extension PropertyValue: ExpressibleByFloatLiteral {
    /// Makes a ``double(_:)`` value.
    public init(floatLiteral value: Double) {
        self = .double(value)
    }
}

extension PropertyValue: ExpressibleByBooleanLiteral {
    /// Makes a ``bool(_:)`` value.
    public init(booleanLiteral value: Bool) {
        self = .bool(value)
    }
}
