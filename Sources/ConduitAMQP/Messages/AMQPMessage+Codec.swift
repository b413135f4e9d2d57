import NIOCore

extension AMQPMessage {
    /// The sections of a message (part 3.2), in the order they must come.
    enum Section: Sendable, Hashable {
        case header, deliveryAnnotations, messageAnnotations, properties, applicationProperties
        case data, sequence, value
        case footer

        /// Every section, in order; the three body kinds share one place.
        static let all: [Section] = [
            .header, .deliveryAnnotations, .messageAnnotations, .properties, .applicationProperties, .data, .sequence,
            .value, .footer,
        ]

        var code: UInt64 {
            switch self {
            case .header: 0x70
            case .deliveryAnnotations: 0x71
            case .messageAnnotations: 0x72
            case .properties: 0x73
            case .applicationProperties: 0x74
            case .data: 0x75
            case .sequence: 0x76
            case .value: 0x77
            case .footer: 0x78
            }
        }

        /// The spec's name, as in `amqp:<name>:<encoding>`.
        var name: String {
            switch self {
            case .header: "header"
            case .deliveryAnnotations: "delivery-annotations"
            case .messageAnnotations: "message-annotations"
            case .properties: "properties"
            case .applicationProperties: "application-properties"
            case .data: "data"
            case .sequence: "amqp-sequence"
            case .value: "amqp-value"
            case .footer: "footer"
            }
        }

        /// The symbolic descriptor (`amqp:header:list`, `amqp:data:binary`, `amqp:amqp-value:*`, …).
        var symbol: String {
            switch self {
            case .header, .properties, .sequence: "amqp:\(name):list"
            case .deliveryAnnotations, .messageAnnotations, .applicationProperties, .footer: "amqp:\(name):map"
            case .data: "amqp:data:binary"
            case .value: "amqp:amqp-value:*"
            }
        }

        /// The place in the order: header 0 … body 5, footer 6.
        var rank: Int {
            switch self {
            case .header: 0
            case .deliveryAnnotations: 1
            case .messageAnnotations: 2
            case .properties: 3
            case .applicationProperties: 4
            case .data, .sequence, .value: 5
            case .footer: 6
            }
        }

        var isBody: Bool { rank == 5 }

        init?(descriptor: AMQPValue) {
            let found: Section?
            switch descriptor {
            case .ulong(let code): found = Self.all.first { $0.code == code }
            case .symbol(let symbol): found = Self.all.first { $0.symbol == symbol }
            default: found = nil
            }
            guard let found else { return nil }
            self = found
        }

        /// The section holding `value`, with a numeric descriptor as Azure's SDKs write it (pyamqp even requires
        /// it: it reads the code from the third byte of each section).
        func wrap(_ value: AMQPValue) -> AMQPValue { .described(descriptor: .ulong(code), value: value) }
    }

    /// Every section present, in order, as the described values written on the wire.
    var sections: [AMQPValue] {
        var sections: [AMQPValue] = []
        if let header { sections.append(header.value) }
        if let deliveryAnnotations { sections.append(Section.deliveryAnnotations.wrap(.map(deliveryAnnotations))) }
        if let messageAnnotations { sections.append(Section.messageAnnotations.wrap(.map(messageAnnotations))) }
        if let properties { sections.append(properties.value) }
        if let applicationProperties {
            sections.append(Section.applicationProperties.wrap(.map(applicationProperties)))
        }
        switch body {
        case .data(let chunks): sections += chunks.map { Section.data.wrap(.binary($0)) }
        case .sequence(let lists): sections += lists.map { Section.sequence.wrap(.list($0)) }
        case .value(let value): sections.append(Section.value.wrap(value))
        }
        if let footer { sections.append(Section.footer.wrap(.map(footer))) }
        return sections
    }

    /// Writes the message's sections in the spec's order, each in its smallest encoding: the payload of a transfer.
    ///
    /// The header is written with all 5 fields and the properties with all 13 (explicit nulls), as Azure's own
    /// stack and the Python SDK write them. Nothing is written when it throws.
    /// - Throws: ``AMQPEncodingError`` when a value the message holds is an array with an element of another type.
    public func encode(into buffer: inout ByteBuffer) throws(AMQPEncodingError) {
        let start = buffer.writerIndex
        do throws(AMQPEncodingError) {
            for section in sections { try buffer.writeAMQPValue(section) }
        } catch {
            buffer.moveWriterIndex(to: start)
            throw error
        }
    }

    /// The message's encoding (see ``encode(into:)``) in a new buffer.
    /// - Throws: ``AMQPEncodingError`` when a value the message holds is an array with an element of another type.
    public func encoded() throws(AMQPEncodingError) -> ByteBuffer {
        var buffer = ByteBuffer()
        try encode(into: &buffer)
        return buffer
    }

    /// Reads a whole transfer payload (every readable byte) as a message. Nothing is read when it throws.
    ///
    /// Each section is optional, and sections must come in the spec's order: header, delivery-annotations,
    /// message-annotations, properties, application-properties, body, footer. The body is one or more `data`
    /// sections, one or more `amqp-sequence` sections, or one `amqp-value` section; no body at all reads as
    /// `.data([])`. Descriptors may be codes (`0x70`) or symbols (`amqp:header:list`).
    ///
    /// One exception to the order: a `delivery-annotations` section is also accepted as the very last section
    /// (when there was none before), because the Python SDK's pyamqp writes it there, after the footer.
    ///
    /// - Throws: ``AMQPDecodingError`` naming the section or field at fault: a section that cannot be read or is not
    ///   a described value, an unknown descriptor, a section out of order or repeated, a body that mixes kinds, or a
    ///   section or field of the wrong type. Its offset is the start of that section in `buffer`.
    public static func decode(_ buffer: inout ByteBuffer) throws(AMQPDecodingError) -> AMQPMessage {
        var copy = buffer
        var message = AMQPMessage()
        var previous: Section?
        var seen: Set<Section> = []
        var chunks: [[UInt8]] = []
        var lists: [[AMQPValue]] = []
        while copy.readableBytes > 0 {
            let offset = copy.readerIndex
            let value: AMQPValue
            do throws(AMQPDecodingError) {
                value = try copy.readAMQPValue()
            } catch {
                throw AMQPDecodingError(
                    "the \(peekName(copy)) section cannot be read: \(error.message)",
                    offset: error.offset
                )
            }
            guard case .described(let descriptor, let content) = value else {
                throw AMQPDecodingError("a message section must be a described value, not \(value)", offset: offset)
            }
            guard let section = Section(descriptor: descriptor) else {
                let name: String
                switch descriptor {
                case .ulong(let code): name = "0x\(String(code, radix: 16))"
                case .symbol(let symbol): name = symbol
                default: name = "\(descriptor)"
                }
                throw AMQPDecodingError("\(name) is not the descriptor of a message section", offset: offset)
            }
            if seen.contains(section) && section != .data && section != .sequence {
                throw AMQPDecodingError("a message has at most one \(section.name) section", offset: offset)
            }
            let lateDeliveryAnnotations = section == .deliveryAnnotations && copy.readableBytes == 0
            if let previous, !lateDeliveryAnnotations {
                try checkOrder(section, after: previous, offset: offset)
            }
            do throws(AMQPDecodingError) {
                switch section {
                case .header: message.header = try Header(value)
                case .deliveryAnnotations: message.deliveryAnnotations = try map(content, section)
                case .messageAnnotations: message.messageAnnotations = try map(content, section)
                case .properties: message.properties = try Properties(value)
                case .applicationProperties: message.applicationProperties = try map(content, section)
                case .data:
                    guard case .binary(let bytes) = content else {
                        throw AMQPDecodingError("a data section must hold binary, not \(content)", offset: offset)
                    }
                    chunks.append(bytes)
                case .sequence:
                    guard case .list(let items) = content else {
                        throw AMQPDecodingError(
                            "an amqp-sequence section must hold a list, not \(content)",
                            offset: offset
                        )
                    }
                    lists.append(items)
                case .value: message.body = .value(content)
                case .footer: message.footer = try map(content, section)
                }
            } catch {
                throw AMQPDecodingError(error.message, offset: offset)
            }
            previous = section
            seen.insert(section)
        }
        if !chunks.isEmpty { message.body = .data(chunks) }
        if !lists.isEmpty { message.body = .sequence(lists) }
        buffer = copy
        return message
    }

    /// Throws unless `section` may come right after `previous`.
    private static func checkOrder(_ section: Section, after previous: Section, offset: Int) throws(AMQPDecodingError) {
        if section.isBody && previous.isBody {
            guard section == previous else {
                throw AMQPDecodingError(
                    "the body mixes \(previous.name) and \(section.name) sections; it must be of one kind",
                    offset: offset
                )
            }
            return
        }
        guard section.rank > previous.rank else {
            throw AMQPDecodingError(
                "the \(section.name) section is out of order: it comes after the \(previous.name) section",
                offset: offset
            )
        }
    }

    /// The entries of an annotations or application-properties section.
    private static func map(_ content: AMQPValue, _ section: Section) throws(AMQPDecodingError) -> [AMQPMapEntry] {
        guard case .map(let entries) = content else {
            throw AMQPDecodingError("the \(section.name) section must hold a map, not \(content)", offset: 0)
        }
        return entries
    }

    /// The name of the section starting at `buffer`'s reader index, when its descriptor is a small code.
    private static func peekName(_ buffer: ByteBuffer) -> String {
        guard let bytes = buffer.getBytes(at: buffer.readerIndex, length: 3), bytes[0] == 0x00,
            bytes[1] == AMQPFormatCode.smallulong, let section = Section(descriptor: .ulong(UInt64(bytes[2])))
        else { return "next" }
        return section.name
    }
}
