import NIOCore

/// The 8-byte protocol header that opens an AMQP connection and each of its layers:
/// `"AMQP" id major minor revision`, with id 0 (AMQP), 2 (TLS) or 3 (SASL).
public struct AMQPProtocolHeader: Sendable, Hashable {
    public var id: UInt8
    public var major: UInt8
    public var minor: UInt8
    public var revision: UInt8

    public init(id: UInt8, major: UInt8 = 1, minor: UInt8 = 0, revision: UInt8 = 0) {
        self.id = id
        self.major = major
        self.minor = minor
        self.revision = revision
    }

    /// AMQP 1.0.0.
    public static let amqp = AMQPProtocolHeader(id: 0)
    /// SASL for AMQP 1.0.0.
    public static let sasl = AMQPProtocolHeader(id: 3)
    /// TLS for AMQP 1.0.0.
    public static let tls = AMQPProtocolHeader(id: 2)

    /// Writes the 8 bytes.
    public func write(to buffer: inout ByteBuffer) {
        buffer.writeBytes([0x41, 0x4D, 0x51, 0x50, id, major, minor, revision])
    }
}

/// A frame: its type (0 AMQP, 1 SASL), channel and body (a performative and, for `transfer`, the payload).
public struct AMQPFrame: Sendable, Hashable {
    public enum FrameType: UInt8, Sendable, Hashable {
        case amqp = 0
        case sasl = 1
    }

    public var type: FrameType
    public var channel: UInt16
    /// The body after the header; empty for a heartbeat.
    public var body: ByteBuffer

    public init(type: FrameType, channel: UInt16, body: ByteBuffer) {
        self.type = type
        self.channel = channel
        self.body = body
    }

    /// An empty frame: keeps the connection alive.
    public var isHeartbeat: Bool { body.readableBytes == 0 }

    /// Writes the frame with a 2-word header (no extended header).
    public func write(to buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt32(8 + body.readableBytes))
        buffer.writeInteger(UInt8(2))
        buffer.writeInteger(type.rawValue)
        buffer.writeInteger(channel)
        var body = self.body
        buffer.writeBuffer(&body)
    }
}

/// What the frame decoder reads: a protocol header (at the start, and again after SASL) or a frame.
public enum AMQPFrameInput: Sendable, Hashable {
    case header(AMQPProtocolHeader)
    case frame(AMQPFrame)
}

/// A framing problem: the connection is closed with `amqp:connection:framing-error` and this description.
public struct AMQPFramingError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Splits a byte stream into protocol headers and frames (AMQP 1.0 part 2.3), refusing frames larger than the
/// negotiated maximum before reading them.
public struct AMQPFrameDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = AMQPFrameInput

    /// The largest frame accepted (the `max-frame-size` this side announced).
    public var maximumFrameSize: Int

    public init(maximumFrameSize: Int = 256 * 1024) {
        self.maximumFrameSize = maximumFrameSize
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> AMQPFrameInput? {
        guard let size: UInt32 = buffer.getInteger(at: buffer.readerIndex) else { return nil }
        if size == 0x414D_5150 {  // "AMQP": a protocol header
            guard let bytes = buffer.getBytes(at: buffer.readerIndex, length: 8) else { return nil }
            buffer.moveReaderIndex(forwardBy: 8)
            return .header(AMQPProtocolHeader(id: bytes[4], major: bytes[5], minor: bytes[6], revision: bytes[7]))
        }
        guard size >= 8 else {
            throw AMQPFramingError("a frame of \(size) bytes is smaller than its 8-byte header")
        }
        guard size <= maximumFrameSize else {
            throw AMQPFramingError("a frame of \(size) bytes is larger than the maximum frame size \(maximumFrameSize)")
        }
        guard buffer.readableBytes >= Int(size) else { return nil }
        let start = buffer.readerIndex
        let offset: UInt8 = buffer.getInteger(at: start + 4)!
        let typeCode: UInt8 = buffer.getInteger(at: start + 5)!
        let channel: UInt16 = buffer.getInteger(at: start + 6)!
        guard offset >= 2, Int(offset) * 4 <= Int(size) else {
            throw AMQPFramingError("a frame's data offset \(offset) is outside its \(size) bytes")
        }
        guard let type = AMQPFrame.FrameType(rawValue: typeCode) else {
            throw AMQPFramingError("0x\(String(typeCode, radix: 16)) is not a frame type (0 AMQP, 1 SASL)")
        }
        let body = buffer.getSlice(at: start + Int(offset) * 4, length: Int(size) - Int(offset) * 4)!
        buffer.moveReaderIndex(forwardBy: Int(size))
        return .frame(AMQPFrame(type: type, channel: channel, body: body))
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> AMQPFrameInput? {
        try decode(buffer: &buffer)
    }
}
