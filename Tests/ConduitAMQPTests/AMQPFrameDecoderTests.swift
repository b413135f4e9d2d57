import ConduitAMQP
import NIOCore
import NIOTestUtils
import Testing

/// Splitting the byte stream into protocol headers and frames.
@Suite("AMQP frames")
struct AMQPFrameDecoderTests {
    static func frame(_ type: AMQPFrame.FrameType, channel: UInt16, body: [UInt8]) -> AMQPFrame {
        AMQPFrame(type: type, channel: channel, body: ByteBuffer(bytes: body))
    }

    @Test("Headers and frames, whole, byte by byte and in any split (ByteToMessageDecoderVerifier)")
    func verifier() throws {
        var stream = ByteBuffer()
        AMQPProtocolHeader.sasl.write(to: &stream)
        let sasl = Self.frame(.sasl, channel: 0, body: [0x00, 0x53, 0x40, 0x45])
        sasl.write(to: &stream)
        AMQPProtocolHeader.amqp.write(to: &stream)
        let heartbeat = Self.frame(.amqp, channel: 0, body: [])
        heartbeat.write(to: &stream)
        let transfer = Self.frame(.amqp, channel: 3, body: Array(repeating: 0xAB, count: 300))
        transfer.write(to: &stream)
        try ByteToMessageDecoderVerifier.verifyDecoder(
            inputOutputPairs: [
                (
                    stream,
                    [.header(.sasl), .frame(sasl), .header(.amqp), .frame(heartbeat), .frame(transfer)]
                )
            ],
            decoderFactory: { AMQPFrameDecoder() }
        )
        #expect(heartbeat.isHeartbeat)
    }

    @Test("An extended header is skipped")
    func extendedHeader() throws {
        var buffer = ByteBuffer(bytes: [0, 0, 0, 13, 3, 0, 0, 7, 9, 9, 9, 9, 0x40])
        var decoder = AMQPFrameDecoder()
        #expect(try decoder.decode(buffer: &buffer) == .frame(Self.frame(.amqp, channel: 7, body: [0x40])))
    }

    @Test(
        "Framing errors: too small, too large, a bad data offset, an unknown frame type",
        arguments: [
            ([0, 0, 0, 4, 2, 0, 0, 0], "smaller than its 8-byte header"),
            ([0, 0x10, 0, 0, 2, 0, 0, 0], "larger than the maximum frame size"),
            ([0, 0, 0, 8, 1, 0, 0, 0], "data offset 1"),
            ([0, 0, 0, 8, 3, 0, 0, 0], "data offset 3"),
            ([0, 0, 0, 8, 2, 7, 0, 0], "is not a frame type"),
        ] as [([UInt8], String)]
    )
    func framingErrors(bytes: [UInt8], reason: String) {
        var buffer = ByteBuffer(bytes: bytes)
        var decoder = AMQPFrameDecoder(maximumFrameSize: 4096)
        let error = #expect(throws: AMQPFramingError.self) { _ = try decoder.decode(buffer: &buffer) }
        #expect(error?.message.contains(reason) == true, "\(error?.description ?? "no error")")
    }
}
