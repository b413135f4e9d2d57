extension AMQPMessage {
    /// The properties section (`amqp:properties:list`, 0x73): the bare message's standard properties.
    ///
    /// Always written with all 13 fields, nulls included. The spec would allow leaving out the trailing nulls, and
    /// every reader checked accepts that, but the peers clients are tested against write all 13: Azure's own AMQP
    /// stack (`Microsoft.Azure.Amqp`, whose `Properties` has a fixed field count of 13) and the Python SDK's
    /// pyamqp. Writing the same shape costs at most 12 bytes a message and keeps positional readers safe.
    public struct Properties: Sendable, Hashable {
        /// The message id: `.null` when absent, else a `.ulong`, `.uuid`, `.binary` or `.string` (Service Bus's
        /// MessageId, used for duplicate detection). Read with its type, and written back with it.
        public var messageId: AMQPValue
        /// The identity of the user who produced the message.
        public var userId: [UInt8]?
        /// The address of the node the message is meant for.
        public var to: String?
        /// A summary of the message (Service Bus's Label).
        public var subject: String?
        /// The address of the node to send replies to.
        public var replyTo: String?
        /// The id of the message this one answers: `.null`, or a `.ulong`, `.uuid`, `.binary` or `.string`. A
        /// reply must repeat the request's message id with its AMQP type (Python compares them with `==`).
        public var correlationId: AMQPValue
        /// The MIME type of the body (a symbol on the wire).
        public var contentType: String?
        /// The content encoding applied to the body, such as `gzip` (a symbol on the wire).
        public var contentEncoding: String?
        /// When the message expires, in milliseconds since the Unix epoch (Service Bus's ExpiresAtUtc).
        public var absoluteExpiryTime: Int64?
        /// When the message was created, in milliseconds since the Unix epoch.
        public var creationTime: Int64?
        /// The group the message belongs to (Service Bus's SessionId).
        public var groupId: String?
        /// The message's position in its group.
        public var groupSequence: UInt32?
        /// The group replies should go to (Service Bus's ReplyToSessionId).
        public var replyToGroupId: String?

        /// Properties with the given fields.
        public init(
            messageId: AMQPValue = .null,
            userId: [UInt8]? = nil,
            to: String? = nil,
            subject: String? = nil,
            replyTo: String? = nil,
            correlationId: AMQPValue = .null,
            contentType: String? = nil,
            contentEncoding: String? = nil,
            absoluteExpiryTime: Int64? = nil,
            creationTime: Int64? = nil,
            groupId: String? = nil,
            groupSequence: UInt32? = nil,
            replyToGroupId: String? = nil
        ) {
            self.messageId = messageId
            self.userId = userId
            self.to = to
            self.subject = subject
            self.replyTo = replyTo
            self.correlationId = correlationId
            self.contentType = contentType
            self.contentEncoding = contentEncoding
            self.absoluteExpiryTime = absoluteExpiryTime
            self.creationTime = creationTime
            self.groupId = groupId
            self.groupSequence = groupSequence
            self.replyToGroupId = replyToGroupId
        }

        static let code: UInt64 = 0x73

        /// Reads the section. `to` and `reply-to` may be symbols (written back as strings).
        init(_ value: AMQPValue) throws(AMQPDecodingError) {
            let f = try AMQPFields(value, code: Self.code, name: "properties")
            self.messageId = try f.messageId(0, "message-id")
            self.userId = try f.binary(1, "user-id")
            self.to = try f.anyString(2, "to")
            self.subject = try f.string(3, "subject")
            self.replyTo = try f.anyString(4, "reply-to")
            self.correlationId = try f.messageId(5, "correlation-id")
            self.contentType = try f.symbol(6, "content-type")
            self.contentEncoding = try f.symbol(7, "content-encoding")
            self.absoluteExpiryTime = try f.timestamp(8, "absolute-expiry-time")
            self.creationTime = try f.timestamp(9, "creation-time")
            self.groupId = try f.string(10, "group-id")
            self.groupSequence = try f.uint(11, "group-sequence")
            self.replyToGroupId = try f.string(12, "reply-to-group-id")
        }

        /// The section, all 13 fields written (explicit nulls).
        var value: AMQPValue {
            .composite(
                Self.code,
                [
                    messageId, .optional(userId), .optional(to), .optional(subject), .optional(replyTo), correlationId,
                    .optional(contentType, symbol: true), .optional(contentEncoding, symbol: true),
                    .optional(timestamp: absoluteExpiryTime), .optional(timestamp: creationTime), .optional(groupId),
                    .optional(groupSequence), .optional(replyToGroupId),
                ]
            )
        }
    }
}
