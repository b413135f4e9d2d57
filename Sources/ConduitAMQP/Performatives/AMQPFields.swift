/// Reads the fields of a described list (a performative or another composite type) by position, with their types
/// checked: a missing trailing field reads as null, a field of the wrong type is a decode error naming it.
struct AMQPFields {
    let name: String
    let items: [AMQPValue]

    init(_ value: AMQPValue, code: UInt64, name: String) throws(AMQPDecodingError) {
        guard case .described(let descriptor, let body) = value else {
            throw AMQPDecodingError("\(name) must be a described list", offset: 0)
        }
        switch descriptor {
        case .ulong(let found) where found == code: break
        case .symbol(let found) where found == "amqp:\(name):list": break
        default: throw AMQPDecodingError("\(descriptor) is not the descriptor of \(name)", offset: 0)
        }
        switch body {
        case .list(let items): self.items = items
        default: throw AMQPDecodingError("the body of \(name) must be a list", offset: 0)
        }
        self.name = name
    }

    subscript(index: Int) -> AMQPValue { index < items.count ? items[index] : .null }

    private func mismatch(_ index: Int, _ field: String, _ expected: String) -> AMQPDecodingError {
        AMQPDecodingError("\(name).\(field) (field \(index)) must be \(expected), not \(self[index])", offset: 0)
    }

    private func missing(_ index: Int, _ field: String) -> AMQPDecodingError {
        AMQPDecodingError("\(name).\(field) (field \(index)) is mandatory", offset: 0)
    }

    func string(_ index: Int, _ field: String) throws(AMQPDecodingError) -> String? {
        switch self[index] {
        case .null: return nil
        case .string(let text): return text
        default: throw mismatch(index, field, "a string")
        }
    }

    func requiredString(_ index: Int, _ field: String) throws(AMQPDecodingError) -> String {
        guard let text = try string(index, field) else { throw missing(index, field) }
        return text
    }

    func uint(_ index: Int, _ field: String) throws(AMQPDecodingError) -> UInt32? {
        switch self[index] {
        case .null: return nil
        case .uint(let number): return number
        default: throw mismatch(index, field, "a uint")
        }
    }

    func requiredUInt(_ index: Int, _ field: String) throws(AMQPDecodingError) -> UInt32 {
        guard let number = try uint(index, field) else { throw missing(index, field) }
        return number
    }

    func ushort(_ index: Int, _ field: String) throws(AMQPDecodingError) -> UInt16? {
        switch self[index] {
        case .null: return nil
        case .ushort(let number): return number
        default: throw mismatch(index, field, "a ushort")
        }
    }

    func ubyte(_ index: Int, _ field: String) throws(AMQPDecodingError) -> UInt8? {
        switch self[index] {
        case .null: return nil
        case .ubyte(let number): return number
        default: throw mismatch(index, field, "a ubyte")
        }
    }

    func ulong(_ index: Int, _ field: String) throws(AMQPDecodingError) -> UInt64? {
        switch self[index] {
        case .null: return nil
        case .ulong(let number): return number
        default: throw mismatch(index, field, "a ulong")
        }
    }

    func requiredULong(_ index: Int, _ field: String) throws(AMQPDecodingError) -> UInt64 {
        guard let number = try ulong(index, field) else { throw missing(index, field) }
        return number
    }

    func timestamp(_ index: Int, _ field: String) throws(AMQPDecodingError) -> Int64? {
        switch self[index] {
        case .null: return nil
        case .timestamp(let milliseconds): return milliseconds
        default: throw mismatch(index, field, "a timestamp")
        }
    }

    func symbol(_ index: Int, _ field: String) throws(AMQPDecodingError) -> String? {
        switch self[index] {
        case .null: return nil
        case .symbol(let text): return text
        default: throw mismatch(index, field, "a symbol")
        }
    }

    /// A string or a symbol, as a string: addresses, which some clients send as symbols.
    func anyString(_ index: Int, _ field: String) throws(AMQPDecodingError) -> String? {
        switch self[index] {
        case .null: return nil
        case .string(let text), .symbol(let text): return text
        default: throw mismatch(index, field, "a string or a symbol")
        }
    }

    /// A message id (`message-id`, `correlation-id`): null, or a ulong, uuid, binary or string, kept with its type.
    func messageId(_ index: Int, _ field: String) throws(AMQPDecodingError) -> AMQPValue {
        switch self[index] {
        case .null, .ulong, .uuid, .binary, .string: return self[index]
        default: throw mismatch(index, field, "a ulong, uuid, binary or string")
        }
    }

    func bool(_ index: Int, _ field: String) throws(AMQPDecodingError) -> Bool? {
        switch self[index] {
        case .null: return nil
        case .boolean(let flag): return flag
        default: throw mismatch(index, field, "a boolean")
        }
    }

    func requiredBool(_ index: Int, _ field: String) throws(AMQPDecodingError) -> Bool {
        guard let flag = try bool(index, field) else { throw missing(index, field) }
        return flag
    }

    func binary(_ index: Int, _ field: String) throws(AMQPDecodingError) -> [UInt8]? {
        switch self[index] {
        case .null: return nil
        case .binary(let bytes): return bytes
        default: throw mismatch(index, field, "binary")
        }
    }

    /// A `symbol` or an array of symbols (AMQP's "multiple" fields), as a list.
    func symbols(_ index: Int, _ field: String) throws(AMQPDecodingError) -> [String]? {
        switch self[index] {
        case .null: return nil
        case .symbol(let text): return [text]
        case .array(let array):
            var result: [String] = []
            for element in array.elements {
                guard case .symbol(let text) = element else { throw mismatch(index, field, "symbols") }
                result.append(text)
            }
            return result
        default: throw mismatch(index, field, "a symbol or an array of symbols")
        }
    }

    func map(_ index: Int, _ field: String) throws(AMQPDecodingError) -> [AMQPMapEntry]? {
        switch self[index] {
        case .null: return nil
        case .map(let entries): return entries
        default: throw mismatch(index, field, "a map")
        }
    }

    func error(_ index: Int) throws(AMQPDecodingError) -> AMQPError? {
        if case .null = self[index] { return nil }
        return try AMQPError(self[index])
    }
}

extension AMQPValue {
    /// A composite value: `descriptor` `code` and its fields, every one written (explicit nulls up to the last
    /// field), because some AMQP clients read fields by position.
    static func composite(_ code: UInt64, _ fields: [AMQPValue]) -> AMQPValue {
        .described(descriptor: .ulong(code), value: .list(fields))
    }

    static func optional(_ text: String?, symbol: Bool = false) -> AMQPValue {
        guard let text else { return .null }
        return symbol ? .symbol(text) : .string(text)
    }

    static func optional(_ number: UInt32?) -> AMQPValue { number.map { .uint($0) } ?? .null }
    static func optional(_ number: UInt16?) -> AMQPValue { number.map { .ushort($0) } ?? .null }
    static func optional(_ number: UInt8?) -> AMQPValue { number.map { .ubyte($0) } ?? .null }
    static func optional(_ number: UInt64?) -> AMQPValue { number.map { .ulong($0) } ?? .null }
    static func optional(_ flag: Bool?) -> AMQPValue { flag.map { .boolean($0) } ?? .null }
    static func optional(_ bytes: [UInt8]?) -> AMQPValue { bytes.map { .binary($0) } ?? .null }
    static func optional(timestamp milliseconds: Int64?) -> AMQPValue { milliseconds.map { .timestamp($0) } ?? .null }
    static func optional(symbols: [String]?) -> AMQPValue { symbols.map { .array(.symbols($0)) } ?? .null }
    static func optional(map: [AMQPMapEntry]?) -> AMQPValue { map.map { .map($0) } ?? .null }
}
