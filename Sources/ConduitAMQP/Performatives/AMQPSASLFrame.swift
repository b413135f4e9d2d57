/// The SASL frame bodies (AMQP 1.0 part 5.3.3): mechanisms, init, challenge, response, outcome.
public enum AMQPSASLFrame: Sendable, Hashable {
    /// `sasl-mechanisms` (0x40): what the server offers.
    case mechanisms([String])
    /// `sasl-init` (0x41): the mechanism the client chose, its initial response and the host it wants.
    case initial(mechanism: String, response: [UInt8]?, hostname: String?)
    /// `sasl-challenge` (0x42).
    case challenge([UInt8])
    /// `sasl-response` (0x43).
    case response([UInt8])
    /// `sasl-outcome` (0x44): the code (0 ok, 1 auth, 2 sys, 3 sys-perm, 4 sys-temp) and additional data.
    case outcome(code: UInt8, additionalData: [UInt8]?)

    /// The outcome codes.
    public enum Code {
        public static let ok: UInt8 = 0
        public static let auth: UInt8 = 1
        public static let system: UInt8 = 2
        public static let systemPermanent: UInt8 = 3
        public static let systemTemporary: UInt8 = 4
    }

    static let names: [UInt64: String] = [
        0x40: "sasl-mechanisms", 0x41: "sasl-init", 0x42: "sasl-challenge", 0x43: "sasl-response", 0x44: "sasl-outcome",
    ]

    /// Reads a SASL frame body's value.
    public init(_ value: AMQPValue) throws(AMQPDecodingError) {
        guard case .described(.ulong(let code), _) = value, let name = Self.names[code] else {
            throw AMQPDecodingError("a SASL frame must hold a SASL performative, not \(value)", offset: 0)
        }
        let f = try AMQPFields(value, code: code, name: name)
        func required(_ bytes: [UInt8]?, _ field: String) throws(AMQPDecodingError) -> [UInt8] {
            guard let bytes else { throw AMQPDecodingError("\(name).\(field) is mandatory", offset: 0) }
            return bytes
        }
        switch code {
        case 0x40:
            guard let mechanisms = try f.symbols(0, "sasl-server-mechanisms"), !mechanisms.isEmpty else {
                throw AMQPDecodingError("sasl-mechanisms must offer at least one mechanism", offset: 0)
            }
            self = .mechanisms(mechanisms)
        case 0x41:
            guard case .symbol(let mechanism) = f[0] else {
                throw AMQPDecodingError("sasl-init.mechanism (field 0) must be a symbol, not \(f[0])", offset: 0)
            }
            self = .initial(
                mechanism: mechanism,
                response: try f.binary(1, "initial-response"),
                hostname: try f.string(2, "hostname")
            )
        case 0x42: self = .challenge(try required(try f.binary(0, "challenge"), "challenge"))
        case 0x43: self = .response(try required(try f.binary(0, "response"), "response"))
        default:
            guard let code = try f.ubyte(0, "code") else {
                throw AMQPDecodingError("sasl-outcome.code (field 0) is mandatory", offset: 0)
            }
            self = .outcome(code: code, additionalData: try f.binary(1, "additional-data"))
        }
    }

    /// The frame body's value, every field written.
    public var value: AMQPValue {
        switch self {
        case .mechanisms(let names): .composite(0x40, [.array(.symbols(names))])
        case .initial(let mechanism, let response, let hostname):
            .composite(0x41, [.symbol(mechanism), .optional(response), .optional(hostname)])
        case .challenge(let bytes): .composite(0x42, [.binary(bytes)])
        case .response(let bytes): .composite(0x43, [.binary(bytes)])
        case .outcome(let code, let data): .composite(0x44, [.ubyte(code), .optional(data)])
        }
    }
}
