/// Why a management request body could not be decoded.
///
/// Every failure of ``ManagementDecoder`` is one of these; ``message`` is a complete sentence suitable for the
/// `Detail` of a `400 Bad Request` error body (see ``ManagementErrorBody/badRequest(_:)``).
public struct ManagementCodecError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The class of failure.
    public enum Kind: String, Sendable, Hashable {
        /// The body is not well-formed XML.
        case malformedXML
        /// The body is larger than ``ManagementDecoder/Limits/maxBytes``.
        case inputTooLarge
        /// Elements nest deeper than ``ManagementDecoder/Limits/maxDepth``.
        case nestingTooDeep
        /// The body has more elements than ``ManagementDecoder/Limits/maxElements``.
        case tooManyElements
        /// The body uses a construct that is refused, such as a document type declaration.
        case forbiddenConstruct
        /// The root element, or the element inside `<content>`, is not what was expected.
        case unexpectedRoot
        /// A required element or attribute is absent.
        case missingElement
        /// An element's text is not a valid value of its type.
        case invalidValue
    }

    /// The class of failure.
    public var kind: Kind
    /// The element concerned as a path such as `QueueDescription/MaxDeliveryCount`, when there is one.
    public var element: String?
    /// A sentence saying which element and what was wrong.
    public var message: String

    /// Creates an error.
    public init(kind: Kind, element: String? = nil, message: String) {
        self.kind = kind
        self.element = element
        self.message = message
    }

    /// The ``message``.
    public var description: String {
        message
    }

    static func invalidValue(_ value: String, at path: String, expected: String) -> ManagementCodecError {
        ManagementCodecError(
            kind: .invalidValue,
            element: path,
            message: "Invalid value '\(value.truncatedForMessage())' for \(path): expected \(expected)."
        )
    }

    static func missing(_ path: String) -> ManagementCodecError {
        ManagementCodecError(kind: .missingElement, element: path, message: "Missing element \(path).")
    }
}
