import Foundation

/// Decodes the ATOM bodies of management requests (and, for tests and tools, of responses).
///
/// A body is an Atom `<entry>` whose `<content type="application/xml">` holds one description element; a bare
/// description element is accepted as well. Element names are matched by local name, so the namespace
/// prefixes of the Python client (`ns0:entry`) and the .NET client (default namespaces) read alike. Elements
/// may come in any order, unknown elements are ignored, and missing ones keep Azure's defaults. Every failure
/// is a ``ManagementCodecError``; no input makes the decoder trap.
public struct ManagementDecoder: Sendable {
    /// Bounds on the input, checked before and while parsing.
    public struct Limits: Sendable, Hashable {
        /// The largest body in bytes. Default 1 MiB (Azure's own requests are a few kilobytes).
        public var maxBytes: Int
        /// The deepest element nesting. Default 32 (a rule body nests 8 deep).
        public var maxDepth: Int
        /// The most elements in one body. Default 20 000.
        public var maxElements: Int

        /// Creates limits.
        public init(maxBytes: Int = 1 << 20, maxDepth: Int = 32, maxElements: Int = 20_000) {
            self.maxBytes = maxBytes
            self.maxDepth = maxDepth
            self.maxElements = maxElements
        }
    }

    /// The bounds applied to every body.
    public var limits: Limits

    /// Creates a decoder.
    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// Decodes a PUT body holding a queue, topic, subscription or rule description.
    public func decodeEntity(_ body: some Collection<UInt8>) throws(ManagementCodecError) -> ManagementEntity {
        let (node, path) = try contentElement(of: body)
        switch node.localName {
        case QueueDescription.elementName:
            return .queue(try QueueDescription(decoding: node))
        case TopicDescription.elementName:
            return .topic(try TopicDescription(decoding: node))
        case SubscriptionDescription.elementName:
            return .subscription(try SubscriptionDescription(decoding: node))
        case RuleDescription.elementName:
            return .rule(try RuleDescription(decoding: node, path: RuleDescription.elementName))
        case EventHubDescription.elementName:
            return .eventHub(try EventHubDescription(decoding: node))
        case HybridConnectionDescription.elementName:
            return .hybridConnection(try HybridConnectionDescription(decoding: node))
        default:
            throw ManagementCodecError(
                kind: .unexpectedRoot,
                element: path,
                message: "Unexpected element '\(node.localName.truncatedForMessage())' at \(path): expected "
                    + "QueueDescription, TopicDescription, SubscriptionDescription, RuleDescription, EventHubDescription or "
                    + "HybridConnectionDescription."
            )
        }
    }

    /// Decodes a body that must hold a `QueueDescription`.
    public func decodeQueue(_ body: some Collection<UInt8>) throws(ManagementCodecError) -> QueueDescription {
        let entity = try decodeEntity(body)
        guard case .queue(let queue) = entity else {
            throw mismatch(expected: QueueDescription.elementName, found: entity.elementName)
        }
        return queue
    }

    /// Decodes a body that must hold a `HybridConnectionDescription`.
    public func decodeHybridConnection(
        _ body: some Collection<UInt8>
    ) throws(ManagementCodecError) -> HybridConnectionDescription {
        let entity = try decodeEntity(body)
        guard case .hybridConnection(let relay) = entity else {
            throw mismatch(expected: HybridConnectionDescription.elementName, found: entity.elementName)
        }
        return relay
    }

    /// Decodes a body that must hold a `TopicDescription`.
    public func decodeTopic(_ body: some Collection<UInt8>) throws(ManagementCodecError) -> TopicDescription {
        let entity = try decodeEntity(body)
        guard case .topic(let topic) = entity else {
            throw mismatch(expected: TopicDescription.elementName, found: entity.elementName)
        }
        return topic
    }

    /// Decodes a body that must hold a `SubscriptionDescription`.
    public func decodeSubscription(
        _ body: some Collection<UInt8>
    ) throws(ManagementCodecError) -> SubscriptionDescription {
        let entity = try decodeEntity(body)
        guard case .subscription(let subscription) = entity else {
            throw mismatch(expected: SubscriptionDescription.elementName, found: entity.elementName)
        }
        return subscription
    }

    /// Decodes a body that must hold a `RuleDescription`.
    public func decodeRule(_ body: some Collection<UInt8>) throws(ManagementCodecError) -> RuleDescription {
        let entity = try decodeEntity(body)
        guard case .rule(let rule) = entity else {
            throw mismatch(expected: RuleDescription.elementName, found: entity.elementName)
        }
        return rule
    }

    /// Decodes a `GET /$namespaceinfo` response entry.
    public func decodeNamespaceInfo(_ body: some Collection<UInt8>) throws(ManagementCodecError) -> NamespaceInfo {
        let (node, _) = try contentElement(of: body)
        guard node.localName == NamespaceInfo.elementName else {
            throw mismatch(expected: NamespaceInfo.elementName, found: node.localName)
        }
        return try NamespaceInfo(decoding: node)
    }

    /// Parses the body and returns the description element with its path.
    private func contentElement(of body: some Collection<UInt8>) throws(ManagementCodecError) -> (XMLNode, String) {
        guard body.count <= limits.maxBytes else {
            throw ManagementCodecError(
                kind: .inputTooLarge,
                message: "The body has \(body.count) bytes, more than the limit of \(limits.maxBytes) bytes."
            )
        }
        let root = try XMLTreeBuilder.parse(
            Data(body),
            maxDepth: limits.maxDepth,
            maxElements: limits.maxElements
        )
        guard root.localName == "entry" else {
            if Self.descriptionNames.contains(root.localName) {
                return (root, root.localName)
            }
            throw ManagementCodecError(
                kind: .unexpectedRoot,
                element: root.localName,
                message: "Unexpected root element '\(root.localName.truncatedForMessage())': expected an Atom "
                    + "<entry> whose <content> holds the entity description."
            )
        }
        guard let content = root.child("content") else {
            throw .missing("entry/content")
        }
        guard let description = content.children.first else {
            throw ManagementCodecError(
                kind: .missingElement,
                element: "entry/content",
                message: "The element entry/content is empty: expected an entity description such as "
                    + "QueueDescription."
            )
        }
        return (description, "entry/content/" + description.localName)
    }

    private func mismatch(expected: String, found: String) -> ManagementCodecError {
        ManagementCodecError(
            kind: .unexpectedRoot,
            element: found,
            message: "The body holds a \(found.truncatedForMessage()) where a \(expected) was expected."
        )
    }

    private static let descriptionNames: Set<String> = [
        QueueDescription.elementName, TopicDescription.elementName, SubscriptionDescription.elementName,
        RuleDescription.elementName, NamespaceInfo.elementName,
    ]
}
