/// A decoded PUT body: which kind of description it carries, and the description.
///
/// `PUT /{name}` creates either a queue or a topic; only the body's content element tells them apart.
public enum ManagementEntity: Sendable, Hashable {
    /// A `QueueDescription`.
    case queue(QueueDescription)
    /// A `TopicDescription`.
    case topic(TopicDescription)
    /// A `SubscriptionDescription`.
    case subscription(SubscriptionDescription)
    /// A `RuleDescription`.
    case rule(RuleDescription)
    /// An `EventHubDescription`.
    case eventHub(EventHubDescription)
    /// A relay's `HybridConnectionDescription`.
    case hybridConnection(HybridConnectionDescription)

    /// The name of the content element, e.g. `QueueDescription`.
    public var elementName: String {
        switch self {
        case .queue: QueueDescription.elementName
        case .topic: TopicDescription.elementName
        case .subscription: SubscriptionDescription.elementName
        case .rule: RuleDescription.elementName
        case .eventHub: EventHubDescription.elementName
        case .hybridConnection: HybridConnectionDescription.elementName
        }
    }

    /// Writes the description element.
    func write(to writer: inout XMLWriter, mode: DescriptionEncodingMode) {
        switch self {
        case .queue(let queue): queue.write(to: &writer, mode: mode)
        case .topic(let topic): topic.write(to: &writer, mode: mode)
        case .subscription(let subscription): subscription.write(to: &writer, mode: mode)
        case .rule(let rule): rule.write(to: &writer, mode: mode)
        case .eventHub(let hub): hub.write(to: &writer, mode: mode)
        case .hybridConnection(let relay): relay.write(to: &writer, mode: mode)
        }
    }
}
