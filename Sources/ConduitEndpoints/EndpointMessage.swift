import ConduitAMQP
import ConduitBus
import ConduitContext
import Foundation

/// The message Dataverse posts for an execution context (reference §8, §9.1): the context in the endpoint's
/// format, after the 192 KB rule; `ContentType` by format; the Claims property bag on Service Bus contracts; a
/// `MessageId` that stays the same for every attempt of one system job.
public struct EndpointMessage: Sendable {
    public var body: [UInt8]
    public var contentType: String
    public var messageId: String
    /// User (application) properties.
    public var properties: [(key: String, value: String)]
    /// Whether ParentContext, InputParameters and the images were removed to fit (`MessageMaxSizeExceeded`).
    public var isTruncated: Bool
    /// Event hubs: the row's id, so that the changes of one row land on one partition, in order.
    public var partitionKey: String?

    /// The Claims keys (`Microsoft.Xrm.Sdk.ClaimTypes`).
    public enum Claims {
        public static let prefix = "http://schemas.microsoft.com/xrm/2011/Claims/"
        public static let organization = prefix + "Organization"
        public static let user = prefix + "User"
        public static let initiatingUser = prefix + "InitiatingUser"
        public static let entityLogicalName = prefix + "EntityLogicalName"
        public static let requestName = prefix + "RequestName"
        public static let initiatingUserAgent = prefix + "InitiatingUserAgent"
    }

    /// The property added when the body was truncated to fit (reference §8; its value is unconfirmed, consumers test
    /// for the key).
    public static let maxSizeExceeded = "MessageMaxSizeExceeded"

    /// Builds the message of `context` for `endpoint`.
    ///
    /// - Parameters:
    ///   - organizationURL: The `…/Claims/Organization` value (the organization's URI).
    ///   - messageId: The system job's id for a job's post (stable across retries); `nil` for a fresh id.
    ///   - traceparent: The originating request's W3C trace context: sent as `Diagnostic-Id` (the Azure SDKs'
    ///     property) and `traceparent`.
    /// - Throws: ``PayloadTooLargeError`` when even the truncated context is above 192 KB: nothing is sent.
    public static func build(
        _ context: RemoteExecutionContext,
        for endpoint: ServiceEndpoint,
        organizationURL: String,
        messageId: String?,
        traceparent: String? = nil
    ) throws(PayloadTooLargeError) -> EndpointMessage {
        let payload = try PayloadSizePolicy.serviceBus.apply(to: context, format: endpoint.format)
        var properties: [(key: String, value: String)] = []
        if endpoint.contract.isServiceBus || endpoint.contract == .eventHub {
            properties = [
                (Claims.organization, organizationURL),
                (Claims.user, context.userId.description),
                (Claims.initiatingUser, context.initiatingUserId.description),
                (Claims.entityLogicalName, context.primaryEntityName ?? ""),
                (Claims.requestName, context.messageName ?? ""),
            ]
            if let agent = context.initiatingUserAgent { properties.append((Claims.initiatingUserAgent, agent)) }
        }
        if payload.isTruncated { properties.append((maxSizeExceeded, "true")) }
        if let traceparent { properties += [("Diagnostic-Id", traceparent), ("traceparent", traceparent)] }
        return EndpointMessage(
            body: payload.body,
            contentType: endpoint.format.contentType,
            messageId: messageId ?? UUID().uuidString.lowercased(),
            properties: properties,
            isTruncated: payload.isTruncated,
            partitionKey: endpoint.contract == .eventHub ? context.primaryEntityId.description : nil
        )
    }

    /// The message as it goes over AMQP: the body as one data section, durable, with its message id and content
    /// type, the properties as string application properties and, for event hubs, the partition key annotation.
    public var amqpMessage: AMQPMessage {
        var message = AMQPMessage(body: .data([body]))
        var header = AMQPMessage.Header()
        header.durable = true
        message.header = header
        message.properties = AMQPMessage.Properties(messageId: .string(messageId), contentType: contentType)
        if !properties.isEmpty {
            message.applicationProperties = properties.map { AMQPMapEntry(.string($0.key), .string($0.value)) }
        }
        if let partitionKey { message[annotation: "x-opt-partition-key"] = .string(partitionKey) }
        return message
    }

    /// The message as the embedded bus stores it.
    public var busMessage: BusMessage {
        var message = BusMessage(
            body: Data(body),
            messageId: messageId,
            contentType: contentType,
            userProperties: Dictionary(properties.map { ($0.key, PropertyValue.string($0.value)) }) { _, last in last }
        )
        message.partitionKey = partitionKey
        return message
    }
}
