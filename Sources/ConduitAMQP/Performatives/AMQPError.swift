/// An AMQP error (`amqp:error:list`, 0x1d): a condition symbol, a description and extra information.
public struct AMQPError: Error, Sendable, Hashable, CustomStringConvertible {
    public var condition: String
    public var errorDescription: String?
    public var info: [AMQPMapEntry]?

    public init(condition: String, description: String? = nil, info: [AMQPMapEntry]? = nil) {
        self.condition = condition
        self.errorDescription = description
        self.info = info
    }

    public static let code: UInt64 = 0x1d
    public static let decodeError = "amqp:decode-error"
    public static let framingError = "amqp:connection:framing-error"
    public static let internalError = "amqp:internal-error"
    public static let notFound = "amqp:not-found"
    public static let unauthorizedAccess = "amqp:unauthorized-access"
    public static let notAllowed = "amqp:not-allowed"

    public init(_ value: AMQPValue) throws(AMQPDecodingError) {
        let fields = try AMQPFields(value, code: Self.code, name: "error")
        guard case .symbol(let condition) = fields[0] else {
            throw AMQPDecodingError("error.condition (field 0) must be a symbol, not \(fields[0])", offset: 0)
        }
        self.condition = condition
        self.errorDescription = try fields.string(1, "description")
        self.info = try fields.map(2, "info")
    }

    public var value: AMQPValue {
        .composite(Self.code, [.symbol(condition), .optional(errorDescription), .optional(map: info)])
    }

    public var description: String { "\(condition)\(errorDescription.map { ": \($0)" } ?? "")" }
}
