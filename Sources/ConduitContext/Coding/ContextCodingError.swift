/// A wire body could not be decoded or a context could not be encoded.
///
/// `description` names the format, where the problem is (byte offset, and line and column for text formats) and
/// what was wrong, in words a person can act on.
public struct ContextCodingError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The format being read or written.
    public var format: WireFormat
    /// The byte offset of the problem in the input, when decoding.
    public var offset: Int?
    /// 1-based line and column for JSON and XML text, when decoding.
    public var line: Int?
    public var column: Int?
    /// What was wrong.
    public var message: String

    /// Creates an error.
    public init(format: WireFormat, offset: Int? = nil, line: Int? = nil, column: Int? = nil, message: String) {
        self.format = format
        self.offset = offset
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String {
        var position = ""
        if let line, let column {
            position = " at line \(line), column \(column)"
            if let offset { position += " (byte \(offset))" }
        } else if let offset {
            position = " at byte \(offset)"
        }
        return "invalid \(format.displayName) execution context\(position): \(message)"
    }

    /// Computes line and column of `offset` in UTF-8 text.
    static func locate(_ offset: Int, in bytes: UnsafeRawBufferPointer) -> (line: Int, column: Int) {
        var line = 1
        var column = 1
        var index = 0
        let end = min(offset, bytes.count)
        while index < end {
            if bytes[index] == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if bytes[index] & 0xC0 != 0x80 {
                column += 1
            }
            index += 1
        }
        return (line, column)
    }
}

/// Limits that bound what a decoder accepts, so hostile input cannot exhaust the stack or memory.
public struct DecodingLimits: Hashable, Sendable {
    /// The deepest nesting of objects/elements accepted.
    public var maximumDepth: Int
    /// The largest input accepted, in bytes.
    public var maximumSize: Int

    /// 128 levels and 64 MiB.
    public static let `default` = DecodingLimits(maximumDepth: 128, maximumSize: 64 << 20)

    /// Creates limits.
    public init(maximumDepth: Int, maximumSize: Int) {
        self.maximumDepth = maximumDepth
        self.maximumSize = maximumSize
    }
}
