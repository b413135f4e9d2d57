/// An error of the platform, shaped as Dataverse reports it: a hexadecimal error code (`0x80040217`), a message a
/// person can act on, and the HTTP status the Web API answers with.
public struct PlatformError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The Dataverse error code.
    public var code: Code
    /// What was wrong.
    public var message: String
    /// The trace of the synchronous plug-in that failed (its `ITracingService` lines under the plug-in and the step),
    /// which the Web API returns as `@Microsoft.PowerApps.CDS.TraceText`.
    public var traceText: String?

    /// Creates an error.
    public init(_ code: Code, _ message: String, traceText: String? = nil) {
        self.code = code
        self.message = message
        self.traceText = traceText
    }

    public var description: String { "\(code.hex): \(message)" }

    /// A Dataverse error code and its HTTP status.
    public struct Code: Hashable, Sendable {
        /// The code as Dataverse numbers it.
        public var value: UInt32
        /// The HTTP status the Web API answers with.
        public var httpStatus: Int

        /// `0x80040217` form.
        public var hex: String { "0x" + String(value, radix: 16) }

        /// A row that does not exist (404).
        public static let objectDoesNotExist = Code(value: 0x8004_0217, httpStatus: 404)
        /// A table that does not exist (404).
        public static let entityDoesNotExist = Code(value: 0x8006_0888, httpStatus: 404)
        /// A column or property that does not exist (400).
        public static let attributeDoesNotExist = Code(value: 0x8006_0888 + 0, httpStatus: 400)
        /// A value of the wrong type or out of range (400).
        public static let invalidArgument = Code(value: 0x8004_0203, httpStatus: 400)
        /// A row with this id already exists (412 on the Web API, as Dataverse answers a duplicate key).
        public static let duplicateRecord = Code(value: 0x8004_0237, httpStatus: 412)
        /// The row changed since it was read (`If-Match`, versionnumber) (412).
        public static let concurrencyVersionMismatch = Code(value: 0x8006_0882, httpStatus: 412)
        /// Calls nested past the depth limit (an infinite loop) (400).
        public static let infiniteLoop = Code(value: 0x8004_4182, httpStatus: 400)
        /// A plug-in failed (400: `InvalidPluginExecutionException`).
        public static let pluginFailed = Code(value: 0x8004_0265, httpStatus: 400)
        /// An unknown message (400).
        public static let messageNotSupported = Code(value: 0x8004_0800, httpStatus: 400)
        /// An internal failure (500).
        public static let unexpected = Code(value: 0x8004_0216, httpStatus: 500)
        /// A query that cannot be run (400).
        public static let queryInvalid = Code(value: 0x8006_0403, httpStatus: 400)
    }
}
