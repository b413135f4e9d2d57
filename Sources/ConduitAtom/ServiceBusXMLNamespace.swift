/// The XML namespace URIs of the Service Bus management (ATOM) API.
public enum ServiceBusXMLNamespace {
    /// The Atom namespace of `<feed>`, `<entry>`, `<content>` and friends.
    public static let atom = "http://www.w3.org/2005/Atom"
    /// The namespace of the entity descriptions (`QueueDescription`, `RuleDescription`, …).
    public static let serviceBus = "http://schemas.microsoft.com/netservices/2010/10/servicebus/connect"
    /// The namespace of the `CountDetails` children (`ActiveMessageCount`, …), prefixed `d2p1` by Azure.
    public static let messageCounts = "http://schemas.microsoft.com/netservices/2011/06/servicebus"
    /// XML Schema instance, for `i:type` / `xsi:type`.
    public static let schemaInstance = "http://www.w3.org/2001/XMLSchema-instance"
    /// XML Schema, for the `d6p1:string`, `d6p1:int`, … value types of rule parameters.
    public static let schema = "http://www.w3.org/2001/XMLSchema"
    /// The .NET data contract serialization namespace, which Azure uses for the `duration` value type.
    public static let serialization = "http://schemas.microsoft.com/2003/10/Serialization/"
    /// The namespace bound to the reserved `xml` prefix (`xml:base`).
    public static let xml = "http://www.w3.org/XML/1998/namespace"

    /// The namespace declarations Azure puts on a description root: the default Service Bus namespace and `i`.
    static let descriptionRootAttributes = [("xmlns", serviceBus), ("xmlns:i", schemaInstance)]
}
