/// A listener that cannot go on; the message says why and, where it can, what to do.
public struct ListenerError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
