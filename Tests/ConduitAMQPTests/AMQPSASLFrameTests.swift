import ConduitAMQP
import NIOCore
import Testing

/// SASL frame bodies, as the Azure SDKs exchange them (ANONYMOUS, then a CBS token; or PLAIN).
@Suite("AMQP SASL frames")
struct AMQPSASLFrameTests {
    @Test("Mechanisms, init (PLAIN), challenge, response and outcome round-trip")
    func roundTrips() throws {
        let frames: [AMQPSASLFrame] = [
            .mechanisms(["ANONYMOUS", "PLAIN", "MSSBCBS"]),
            .initial(mechanism: "PLAIN", response: Array("\u{0}user\u{0}secret".utf8), hostname: "localhost"),
            .initial(mechanism: "ANONYMOUS", response: nil, hostname: nil),
            .challenge([1, 2]), .response([3]),
            .outcome(code: AMQPSASLFrame.Code.ok, additionalData: nil),
            .outcome(code: AMQPSASLFrame.Code.auth, additionalData: Array("bad password".utf8)),
        ]
        for frame in frames {
            var buffer = ByteBuffer()
            try buffer.writeAMQPValue(frame.value)
            #expect(try AMQPSASLFrame(try buffer.readAMQPValue()) == frame, "\(frame)")
        }
    }

    @Test(
        "Malformed SASL frames are refused with the reason",
        arguments: [
            (AMQPValue.described(descriptor: .ulong(0x10), value: .list([])), "must hold a SASL performative"),
            (.described(descriptor: .ulong(0x40), value: .list([])), "at least one mechanism"),
            (.described(descriptor: .ulong(0x41), value: .list([.string("PLAIN")])), "must be a symbol"),
            (.described(descriptor: .ulong(0x44), value: .list([])), "sasl-outcome.code (field 0) is mandatory"),
            (.described(descriptor: .ulong(0x42), value: .list([])), "sasl-challenge.challenge is mandatory"),
        ] as [(AMQPValue, String)]
    )
    func malformed(value: AMQPValue, reason: String) {
        let error = #expect(throws: AMQPDecodingError.self) { _ = try AMQPSASLFrame(value) }
        #expect(error?.message.contains(reason) == true, "\(error?.message ?? "no error")")
    }
}
