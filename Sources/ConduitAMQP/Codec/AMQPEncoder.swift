import Foundation
import NIOCore

/// A value the encoder cannot write: an array element that is not of the array's element type.
public struct AMQPEncodingError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension ByteBuffer {
    /// Writes `value` in its smallest encoding (`uint0`, `smalluint`, `str8`, `list0`, `list8`, …), as AMQP peers do.
    /// - Throws: ``AMQPEncodingError`` when an array holds an element that is not of its element type.
    @discardableResult
    public mutating func writeAMQPValue(_ value: AMQPValue) throws(AMQPEncodingError) -> Int {
        let start = writerIndex
        switch value {
        case .described(let descriptor, let inner):
            writeInteger(AMQPFormatCode.described)
            try writeAMQPValue(descriptor)
            try writeAMQPValue(inner)
        default:
            let code = Self.smallestCode(for: value)
            writeInteger(code)
            try writeAMQPPayload(value, code: code, standalone: true)
        }
        return writerIndex - start
    }

    /// The format code of the smallest encoding of a (non-described) value.
    static func smallestCode(for value: AMQPValue) -> UInt8 {
        typealias F = AMQPFormatCode
        switch value {
        case .null: return F.null
        case .boolean(let flag): return flag ? F.booleanTrue : F.booleanFalse
        case .ubyte: return F.ubyte
        case .ushort: return F.ushort
        case .uint(let number): return number == 0 ? F.uint0 : number <= 0xFF ? F.smalluint : F.uint
        case .ulong(let number): return number == 0 ? F.ulong0 : number <= 0xFF ? F.smallulong : F.ulong
        case .byte: return F.byte
        case .short: return F.short
        case .int(let number): return (-128...127).contains(number) ? F.smallint : F.int
        case .long(let number): return (-128...127).contains(number) ? F.smalllong : F.long
        case .float: return F.float
        case .double: return F.double
        case .decimal32: return F.decimal32
        case .decimal64: return F.decimal64
        case .decimal128: return F.decimal128
        case .char: return F.char
        case .timestamp: return F.timestamp
        case .uuid: return F.uuid
        case .binary(let bytes): return bytes.count <= 0xFF ? F.vbin8 : F.vbin32
        case .string(let text): return text.utf8.count <= 0xFF ? F.str8 : F.str32
        case .symbol(let text): return text.utf8.count <= 0xFF ? F.sym8 : F.sym32
        case .list(let items): return items.isEmpty ? F.list0 : F.list32
        case .map: return F.map32
        case .array: return F.array32
        case .described: return F.described
        }
    }

    /// Writes the bytes after the constructor for `code`. A `standalone` compound value (its constructor just
    /// written) shrinks to its 8-bit form when it fits; an array's elements keep the array's element code.
    mutating func writeAMQPPayload(
        _ value: AMQPValue,
        code: UInt8,
        standalone: Bool = false
    ) throws(AMQPEncodingError) {
        typealias F = AMQPFormatCode
        switch (code, value) {
        case (F.null, .null), (F.booleanTrue, .boolean(true)), (F.booleanFalse, .boolean(false)),
            (F.uint0, .uint(0)), (F.ulong0, .ulong(0)), (F.list0, .list([])):
            return
        case (F.boolean, .boolean(let flag)): writeInteger(UInt8(flag ? 1 : 0))
        case (F.ubyte, .ubyte(let number)): writeInteger(number)
        case (F.ushort, .ushort(let number)): writeInteger(number)
        case (F.uint, .uint(let number)): writeInteger(number)
        case (F.smalluint, .uint(let number)) where number <= 0xFF: writeInteger(UInt8(number))
        case (F.ulong, .ulong(let number)): writeInteger(number)
        case (F.smallulong, .ulong(let number)) where number <= 0xFF: writeInteger(UInt8(number))
        case (F.byte, .byte(let number)): writeInteger(number)
        case (F.short, .short(let number)): writeInteger(number)
        case (F.int, .int(let number)): writeInteger(number)
        case (F.smallint, .int(let number)) where (-128...127).contains(number): writeInteger(Int8(number))
        case (F.long, .long(let number)): writeInteger(number)
        case (F.smalllong, .long(let number)) where (-128...127).contains(number): writeInteger(Int8(number))
        case (F.float, .float(let number)): writeInteger(number.bitPattern)
        case (F.double, .double(let number)): writeInteger(number.bitPattern)
        case (F.decimal32, .decimal32(let bits)): writeInteger(bits)
        case (F.decimal64, .decimal64(let bits)): writeInteger(bits)
        case (F.decimal128, .decimal128(let bytes)) where bytes.count == 16: writeBytes(bytes)
        case (F.char, .char(let scalar)): writeInteger(scalar.value)
        case (F.timestamp, .timestamp(let milliseconds)): writeInteger(milliseconds)
        case (F.uuid, .uuid(let id)): withUnsafeBytes(of: id.uuid) { writeBytes($0) }
        case (F.vbin8, .binary(let bytes)) where bytes.count <= 0xFF:
            writeInteger(UInt8(bytes.count))
            writeBytes(bytes)
        case (F.vbin32, .binary(let bytes)):
            writeInteger(UInt32(bytes.count))
            writeBytes(bytes)
        case (F.str8, .string(let text)), (F.sym8, .symbol(let text)):
            guard text.utf8.count <= 0xFF else {
                throw AMQPEncodingError("'\(text.prefix(20))…' is too long for \(code)")
            }
            writeInteger(UInt8(text.utf8.count))
            writeString(text)
        case (F.str32, .string(let text)), (F.sym32, .symbol(let text)):
            writeInteger(UInt32(text.utf8.count))
            writeString(text)
        case (F.list8, .list(let items)), (F.list32, .list(let items)):
            try writeCompound(count: items.count, small: code == F.list8, shrinks: standalone) {
                buffer throws(AMQPEncodingError) in
                for item in items { try buffer.writeAMQPValue(item) }
            }
        case (F.map8, .map(let entries)), (F.map32, .map(let entries)):
            try writeCompound(count: entries.count * 2, small: code == F.map8, shrinks: standalone) {
                buffer throws(AMQPEncodingError) in
                for entry in entries {
                    try buffer.writeAMQPValue(entry.key)
                    try buffer.writeAMQPValue(entry.value)
                }
            }
        case (F.array8, .array(let array)), (F.array32, .array(let array)):
            try writeCompound(count: array.elements.count, small: code == F.array8, shrinks: standalone) {
                buffer throws(AMQPEncodingError) in
                if let descriptor = array.descriptor {
                    buffer.writeInteger(AMQPFormatCode.described)
                    try buffer.writeAMQPValue(descriptor)
                }
                buffer.writeInteger(array.elementCode)
                for element in array.elements { try buffer.writeAMQPPayload(element, code: array.elementCode) }
            }
        default:
            throw AMQPEncodingError("\(value) cannot be written with the format code 0x\(String(code, radix: 16))")
        }
    }

    /// Writes `size` and `count` (8 or 32 bits) around the body `write` produces. With `shrinks`, a 32-bit compound
    /// whose body fits is written in its 8-bit form (its constructor, the byte just before, becomes 0xc0/0xc1/0xe0).
    private mutating func writeCompound(
        count: Int,
        small: Bool,
        shrinks: Bool,
        _ write: (inout ByteBuffer) throws(AMQPEncodingError) -> Void
    ) throws(AMQPEncodingError) {
        var body = ByteBuffer()
        try write(&body)
        let fits = body.readableBytes + 1 <= 0xFF && count <= 0xFF
        if small && !fits {
            throw AMQPEncodingError(
                "a compound of \(count) items and \(body.readableBytes) bytes does not fit an 8-bit size"
            )
        }
        if small || (shrinks && fits) {
            if !small, let code: UInt8 = getInteger(at: writerIndex - 1) {
                setInteger(code - 0x10, at: writerIndex - 1)
            }
            writeInteger(UInt8(body.readableBytes + 1))
            writeInteger(UInt8(count))
        } else {
            writeInteger(UInt32(body.readableBytes + 4))
            writeInteger(UInt32(count))
        }
        writeBuffer(&body)
    }
}
