import Foundation
import NIOCore

/// Bytes that are not a valid AMQP 1.0 encoding: the peer gets `amqp:decode-error` with this description.
public struct AMQPDecodingError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    /// The byte offset in the decoded buffer where the problem was found.
    public var offset: Int

    public init(_ message: String, offset: Int) {
        self.message = message
        self.offset = offset
    }

    public var description: String { "\(message) (at byte \(offset))" }
}

extension ByteBuffer {
    /// The deepest nesting of lists, maps, arrays and described values a decoded value may have.
    public static let maximumAMQPNesting = 32

    /// Reads one value (constructor and payload). Nothing is read when it throws.
    /// - Throws: ``AMQPDecodingError`` for an unknown format code, a truncated value, sizes and counts that do not
    ///   agree with the bytes, invalid UTF-8, or nesting deeper than ``maximumAMQPNesting``.
    public mutating func readAMQPValue() throws(AMQPDecodingError) -> AMQPValue {
        var copy = self
        let value = try copy.readValue(depth: 0)
        self = copy
        return value
    }

    private mutating func readValue(depth: Int) throws(AMQPDecodingError) -> AMQPValue {
        guard depth < Self.maximumAMQPNesting else {
            throw AMQPDecodingError("values nest deeper than \(Self.maximumAMQPNesting) levels", offset: readerIndex)
        }
        let offset = readerIndex
        guard let code: UInt8 = readInteger() else {
            throw AMQPDecodingError("a value was expected but the data ended", offset: offset)
        }
        if code == AMQPFormatCode.described {
            let descriptor = try readValue(depth: depth + 1)
            switch descriptor {
            case .ulong, .symbol: break
            default:
                throw AMQPDecodingError(
                    "a descriptor must be an unsigned long or a symbol, not \(descriptor)",
                    offset: offset
                )
            }
            return .described(descriptor: descriptor, value: try readValue(depth: depth + 1))
        }
        return try readPayload(code: code, depth: depth, codeOffset: offset)
    }

    private mutating func readPayload(code: UInt8, depth: Int, codeOffset: Int) throws(AMQPDecodingError) -> AMQPValue {
        typealias F = AMQPFormatCode
        func fixed<T: FixedWidthInteger>(_ type: T.Type) throws(AMQPDecodingError) -> T {
            guard let value: T = readInteger() else {
                throw AMQPDecodingError(
                    "the value of format code 0x\(String(code, radix: 16)) is cut short",
                    offset: codeOffset
                )
            }
            return value
        }
        func bytes(_ count: Int) throws(AMQPDecodingError) -> [UInt8] {
            guard count >= 0, let bytes = readBytes(length: count) else {
                throw AMQPDecodingError(
                    "the value of format code 0x\(String(code, radix: 16)) claims \(count) bytes but \(readableBytes) remain",
                    offset: codeOffset
                )
            }
            return bytes
        }
        func text(_ count: Int, what: String) throws(AMQPDecodingError) -> String {
            let raw = try bytes(count)
            guard let text = String(validating: raw, as: UTF8.self) else {
                throw AMQPDecodingError("the \(what) is not valid UTF-8", offset: codeOffset)
            }
            return text
        }
        switch code {
        case F.null: return .null
        case F.booleanTrue: return .boolean(true)
        case F.booleanFalse: return .boolean(false)
        case F.boolean:
            switch try fixed(UInt8.self) {
            case 0: return .boolean(false)
            case 1: return .boolean(true)
            case let other:
                throw AMQPDecodingError("a boolean must be 0 or 1, not \(other)", offset: codeOffset)
            }
        case F.ubyte: return .ubyte(try fixed(UInt8.self))
        case F.ushort: return .ushort(try fixed(UInt16.self))
        case F.uint: return .uint(try fixed(UInt32.self))
        case F.smalluint: return .uint(UInt32(try fixed(UInt8.self)))
        case F.uint0: return .uint(0)
        case F.ulong: return .ulong(try fixed(UInt64.self))
        case F.smallulong: return .ulong(UInt64(try fixed(UInt8.self)))
        case F.ulong0: return .ulong(0)
        case F.byte: return .byte(try fixed(Int8.self))
        case F.short: return .short(try fixed(Int16.self))
        case F.int: return .int(try fixed(Int32.self))
        case F.smallint: return .int(Int32(try fixed(Int8.self)))
        case F.long: return .long(try fixed(Int64.self))
        case F.smalllong: return .long(Int64(try fixed(Int8.self)))
        case F.float: return .float(Float(bitPattern: try fixed(UInt32.self)))
        case F.double: return .double(Double(bitPattern: try fixed(UInt64.self)))
        case F.decimal32: return .decimal32(try fixed(UInt32.self))
        case F.decimal64: return .decimal64(try fixed(UInt64.self))
        case F.decimal128: return .decimal128(try bytes(16))
        case F.char:
            let value = try fixed(UInt32.self)
            guard let scalar = Unicode.Scalar(value) else {
                throw AMQPDecodingError("0x\(String(value, radix: 16)) is not a Unicode code point", offset: codeOffset)
            }
            return .char(scalar)
        case F.timestamp: return .timestamp(try fixed(Int64.self))
        case F.uuid:
            let raw = try bytes(16)
            return .uuid(
                UUID(
                    uuid: (
                        raw[0], raw[1], raw[2], raw[3], raw[4], raw[5], raw[6], raw[7], raw[8], raw[9], raw[10],
                        raw[11], raw[12], raw[13], raw[14], raw[15]
                    )
                )
            )
        case F.vbin8: return .binary(try bytes(Int(try fixed(UInt8.self))))
        case F.vbin32: return .binary(try bytes(Int(try fixed(UInt32.self))))
        case F.str8: return .string(try text(Int(try fixed(UInt8.self)), what: "string"))
        case F.str32: return .string(try text(Int(try fixed(UInt32.self)), what: "string"))
        case F.sym8: return .symbol(try text(Int(try fixed(UInt8.self)), what: "symbol"))
        case F.sym32: return .symbol(try text(Int(try fixed(UInt32.self)), what: "symbol"))
        case F.list0: return .list([])
        case F.list8, F.list32, F.map8, F.map32, F.array8, F.array32:
            let wide = code & 0xF0 == 0xD0 || code & 0xF0 == 0xF0
            let size = wide ? Int(try fixed(UInt32.self)) : Int(try fixed(UInt8.self))
            let countWidth = wide ? 4 : 1
            guard size >= countWidth, size <= readableBytes else {
                throw AMQPDecodingError(
                    "a compound value claims \(size) bytes but \(readableBytes) remain",
                    offset: codeOffset
                )
            }
            var body = readSlice(length: size)!
            let count = wide ? Int(body.readInteger(as: UInt32.self)!) : Int(body.readInteger(as: UInt8.self)!)
            let value: AMQPValue
            switch code {
            case F.list8, F.list32:
                value = .list(try body.readItems(count: count, depth: depth, codeOffset: codeOffset))
            case F.map8, F.map32:
                guard count % 2 == 0 else {
                    throw AMQPDecodingError("a map has an odd number of items (\(count))", offset: codeOffset)
                }
                let items = try body.readItems(count: count, depth: depth, codeOffset: codeOffset)
                value = .map(stride(from: 0, to: items.count, by: 2).map { AMQPMapEntry(items[$0], items[$0 + 1]) })
            default:
                value = .array(try body.readArray(count: count, depth: depth, codeOffset: codeOffset))
            }
            guard body.readableBytes == 0 else {
                throw AMQPDecodingError(
                    "a compound value has \(body.readableBytes) bytes after its \(count) items",
                    offset: codeOffset
                )
            }
            return value
        default:
            throw AMQPDecodingError("0x\(String(code, radix: 16)) is not an AMQP format code", offset: codeOffset)
        }
    }

    private mutating func readItems(count: Int, depth: Int, codeOffset: Int) throws(AMQPDecodingError) -> [AMQPValue] {
        // Every item takes at least its one-byte constructor.
        guard count <= readableBytes else {
            throw AMQPDecodingError(
                "a compound value claims \(count) items in \(readableBytes) bytes",
                offset: codeOffset
            )
        }
        var items: [AMQPValue] = []
        items.reserveCapacity(count)
        for _ in 0..<count { items.append(try readValue(depth: depth + 1)) }
        return items
    }

    private mutating func readArray(count: Int, depth: Int, codeOffset: Int) throws(AMQPDecodingError) -> AMQPArray {
        guard depth + 1 < Self.maximumAMQPNesting else {
            throw AMQPDecodingError("values nest deeper than \(Self.maximumAMQPNesting) levels", offset: codeOffset)
        }
        var descriptor: AMQPValue?
        guard var code: UInt8 = readInteger() else {
            throw AMQPDecodingError("an array has no element constructor", offset: codeOffset)
        }
        if code == AMQPFormatCode.described {
            descriptor = try readValue(depth: depth + 1)
            guard let next: UInt8 = readInteger() else {
                throw AMQPDecodingError("an array's described constructor has no format code", offset: codeOffset)
            }
            code = next
        }
        guard code != AMQPFormatCode.described else {
            throw AMQPDecodingError("an array's element constructor is described twice", offset: codeOffset)
        }
        // Elements of a zero-width type take no bytes: bound their number so a tiny frame cannot ask for billions.
        guard count <= max(readableBytes, 0) || (count <= 1 << 16 && Self.isZeroWidth(code)) else {
            throw AMQPDecodingError("an array claims \(count) elements in \(readableBytes) bytes", offset: codeOffset)
        }
        var elements: [AMQPValue] = []
        elements.reserveCapacity(min(count, 4096))
        for _ in 0..<count {
            elements.append(try readPayload(code: code, depth: depth + 1, codeOffset: codeOffset))
        }
        return AMQPArray(elementCode: code, descriptor: descriptor, elements: elements)
    }

    private static func isZeroWidth(_ code: UInt8) -> Bool {
        [
            AMQPFormatCode.null, AMQPFormatCode.booleanTrue, AMQPFormatCode.booleanFalse, AMQPFormatCode.uint0,
            AMQPFormatCode.ulong0, AMQPFormatCode.list0,
        ].contains(code)
    }
}
