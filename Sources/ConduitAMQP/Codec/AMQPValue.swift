import Foundation

/// A value of the AMQP 1.0 type system (OASIS AMQP 1.0, part 1 "Types"): the primitive types, described types, and
/// the compound list, map and array.
///
/// ```swift
/// var buffer = ByteBuffer()
/// buffer.writeAMQPValue(.described(.ulong(0x10), .list([.string("container"), .null])))
/// let value = try buffer.readAMQPValue()
/// ```
public indirect enum AMQPValue: Sendable, Hashable {
    case null
    case boolean(Bool)
    case ubyte(UInt8)
    case ushort(UInt16)
    case uint(UInt32)
    case ulong(UInt64)
    case byte(Int8)
    case short(Int16)
    case int(Int32)
    case long(Int64)
    case float(Float)
    case double(Double)
    /// IEEE 754-2008 decimal32, kept as its 4 bytes (big-endian).
    case decimal32(UInt32)
    /// IEEE 754-2008 decimal64, kept as its 8 bytes.
    case decimal64(UInt64)
    /// IEEE 754-2008 decimal128, kept as its 16 bytes.
    case decimal128([UInt8])
    /// A UTF-32 code point.
    case char(Unicode.Scalar)
    /// Milliseconds since the Unix epoch.
    case timestamp(Int64)
    case uuid(UUID)
    case binary([UInt8])
    case string(String)
    case symbol(String)
    case list([AMQPValue])
    /// A map, in its wire order (keys may be of any type).
    case map([AMQPMapEntry])
    /// An array: every element of one type, encoded with one constructor. Elements are given as values of that
    /// type (an empty array keeps its element constructor in ``AMQPArray``).
    case array(AMQPArray)
    /// A value with a descriptor (a symbol or an unsigned long, such as `amqp:open:list` / `0x10`).
    case described(descriptor: AMQPValue, value: AMQPValue)

    /// The descriptor's numeric code, when this is a described value with an unsigned-long descriptor.
    public var descriptorCode: UInt64? {
        if case .described(.ulong(let code), _) = self { return code }
        return nil
    }
}

/// One entry of an AMQP map.
public struct AMQPMapEntry: Sendable, Hashable {
    public var key: AMQPValue
    public var value: AMQPValue

    public init(_ key: AMQPValue, _ value: AMQPValue) {
        self.key = key
        self.value = value
    }
}

/// An AMQP array: its element constructor (a format code, and a descriptor for described elements) and elements.
public struct AMQPArray: Sendable, Hashable {
    /// The format code every element is encoded with (for described elements: the code of the described value).
    public var elementCode: UInt8
    /// The descriptor of described elements, if they are described.
    public var descriptor: AMQPValue?
    /// The elements, without their descriptor.
    public var elements: [AMQPValue]

    public init(elementCode: UInt8, descriptor: AMQPValue? = nil, elements: [AMQPValue]) {
        self.elementCode = elementCode
        self.descriptor = descriptor
        self.elements = elements
    }

    /// An array of symbols (`sym32` elements), as AMQP uses for capabilities and locales.
    public static func symbols(_ values: [String]) -> AMQPArray {
        AMQPArray(elementCode: AMQPFormatCode.sym32, elements: values.map { .symbol($0) })
    }
}

/// The format codes of the AMQP 1.0 type system (part 1.6).
public enum AMQPFormatCode {
    public static let described: UInt8 = 0x00
    public static let null: UInt8 = 0x40
    public static let boolean: UInt8 = 0x56
    public static let booleanTrue: UInt8 = 0x41
    public static let booleanFalse: UInt8 = 0x42
    public static let ubyte: UInt8 = 0x50
    public static let ushort: UInt8 = 0x60
    public static let uint: UInt8 = 0x70
    public static let smalluint: UInt8 = 0x52
    public static let uint0: UInt8 = 0x43
    public static let ulong: UInt8 = 0x80
    public static let smallulong: UInt8 = 0x53
    public static let ulong0: UInt8 = 0x44
    public static let byte: UInt8 = 0x51
    public static let short: UInt8 = 0x61
    public static let int: UInt8 = 0x71
    public static let smallint: UInt8 = 0x54
    public static let long: UInt8 = 0x81
    public static let smalllong: UInt8 = 0x55
    public static let float: UInt8 = 0x72
    public static let double: UInt8 = 0x82
    public static let decimal32: UInt8 = 0x74
    public static let decimal64: UInt8 = 0x84
    public static let decimal128: UInt8 = 0x94
    public static let char: UInt8 = 0x73
    public static let timestamp: UInt8 = 0x83
    public static let uuid: UInt8 = 0x98
    public static let vbin8: UInt8 = 0xa0
    public static let vbin32: UInt8 = 0xb0
    public static let str8: UInt8 = 0xa1
    public static let str32: UInt8 = 0xb1
    public static let sym8: UInt8 = 0xa3
    public static let sym32: UInt8 = 0xb3
    public static let list0: UInt8 = 0x45
    public static let list8: UInt8 = 0xc0
    public static let list32: UInt8 = 0xd0
    public static let map8: UInt8 = 0xc1
    public static let map32: UInt8 = 0xd1
    public static let array8: UInt8 = 0xe0
    public static let array32: UInt8 = 0xf0
}

extension AMQPValue {
    /// An id, a key or a name as text: strings and symbols as they are, uuids (lower case), integers in decimal and
    /// binary in hex; `nil` for other values.
    public var text: String? {
        switch self {
        case .string(let text), .symbol(let text): text
        case .uuid(let uuid): uuid.uuidString.lowercased()
        case .ulong(let number): String(number)
        case .long(let number): String(number)
        case .uint(let number): String(number)
        case .int(let number): String(number)
        case .binary(let bytes): bytes.map { String(format: "%02x", $0) }.joined()
        default: nil
        }
    }

    /// An integer of any AMQP integer type (a status code, a count, a time in ms); `nil` for other values. A
    /// `ulong` beyond `Int64` is clamped.
    public var integer: Int64? {
        switch self {
        case .long(let n): n
        case .int(let n): Int64(n)
        case .uint(let n): Int64(n)
        case .ulong(let n): Int64(clamping: n)
        case .short(let n): Int64(n)
        case .ushort(let n): Int64(n)
        case .byte(let n): Int64(n)
        case .ubyte(let n): Int64(n)
        default: nil
        }
    }
}
