import NIOCore

/// One session of a connection (part 2.5): its transfer windows, its links by handle, and its deliveries — the
/// incoming ones being reassembled or waiting for the application to settle them, and the outgoing ones the peer has
/// not settled yet.
struct AMQPSessionState: Sendable {
    typealias Action = AMQPConnectionStateMachine.Action

    let localChannel: UInt16
    let remoteChannel: UInt16
    let handleMax: UInt32 = 65_535
    /// The id of the next transfer frame this side sends, and the window it announces for sending.
    var nextOutgoingId: UInt32 = 0
    let outgoingWindow: UInt32 = 5000
    /// The id of the next transfer frame expected from the peer, and how many more this side takes now.
    var nextIncomingId: UInt32
    var incomingWindow: UInt32
    let configuredIncomingWindow: UInt32
    /// How many more transfer frames the peer takes now.
    var remoteIncomingWindow: UInt32
    /// Links by this side's handle, and this side's handle for each of the peer's.
    var links: [UInt32: AMQPLinkState] = [:]
    var remoteHandles: [UInt32: UInt32] = [:]
    /// The next delivery id this side gives, and this side's deliveries the peer has not settled.
    var nextDeliveryId: UInt32 = 0
    var unsettledOutgoing: [UInt32: (handle: UInt32, tag: [UInt8])] = [:]
    /// Deliveries that arrived and wait for the application's settlement: their link, and whether the sender left
    /// them unsettled (a disposition is owed).
    var awaitingSettlement: [UInt32: (handle: UInt32, owed: Bool)] = [:]
    /// Transfer frames held back while the peer's incoming window is closed.
    var blocked: [ByteBuffer] = []
    var endSent = false

    init(localChannel: UInt16, remoteChannel: UInt16, begin: AMQPPerformative.Begin, incomingWindow: UInt32) {
        self.localChannel = localChannel
        self.remoteChannel = remoteChannel
        self.nextIncomingId = begin.nextOutgoingId
        self.incomingWindow = incomingWindow
        self.configuredIncomingWindow = incomingWindow
        self.remoteIncomingWindow = begin.incomingWindow
    }

    private func linkID(_ handle: UInt32) -> AMQPLinkID { AMQPLinkID(channel: localChannel, handle: handle) }

    private func write(_ performative: AMQPPerformative, payload: ByteBuffer? = nil, into actions: inout [Action]) {
        var buffer = ByteBuffer()
        AMQPConnectionStateMachine.writeFrame(
            .amqp,
            channel: localChannel,
            value: performative.value,
            payload: payload,
            into: &buffer
        )
        actions.append(.write(buffer))
    }

    /// A flow with this session's state, and the link's when given.
    private func flow(for link: AMQPLinkState?, drain: Bool? = nil, echo: Bool? = nil) -> AMQPPerformative {
        var flow = AMQPPerformative.Flow(
            incomingWindow: incomingWindow,
            nextOutgoingId: nextOutgoingId,
            outgoingWindow: outgoingWindow
        )
        flow.nextIncomingId = nextIncomingId
        if let link {
            flow.handle = link.localHandle
            flow.deliveryCount = link.deliveryCount
            flow.linkCredit = link.credit
            flow.drain = drain ?? link.drain
            flow.echo = echo
        }
        return .flow(flow)
    }

    private func link(remote handle: UInt32, _ performative: String) throws(AMQPError) -> UInt32 {
        guard let local = remoteHandles[handle], links[local] != nil else {
            throw AMQPError(
                condition: "amqp:session:unattached-handle",
                description: "\(performative) names handle \(handle), which is not attached."
            )
        }
        return local
    }

    // MARK: - Input

    /// Handles a performative on this session; returns whether the session ended.
    mutating func receive(
        _ performative: AMQPPerformative,
        payload: ByteBuffer,
        peerMaxFrameSize: UInt32,
        configuration: AMQPConnectionStateMachine.Configuration,
        into actions: inout [Action]
    ) throws(AMQPError) -> Bool {
        switch performative {
        case .attach(let attach):
            if let local = links.first(where: {
                $0.value.locallyInitiated && !$0.value.answered && $0.value.attach.name == attach.name
            })?.key {
                receiveAttachReply(attach, local: local, configuration: configuration, into: &actions)
            } else {
                try receiveAttach(attach, into: &actions)
            }
        case .flow(let flow):
            try receiveFlow(flow, into: &actions)
        case .transfer(let transfer):
            try receiveTransfer(transfer, payload: payload, configuration: configuration, into: &actions)
        case .disposition(let disposition):
            receiveDisposition(disposition, into: &actions)
        case .detach(let detach):
            let local = try link(remote: detach.handle, "detach")
            let link = links[local]!
            if !link.detachSent {
                write(.detach(.init(handle: local, closed: detach.closed, error: nil)), into: &actions)
            }
            remove(local)
            actions.append(.linkDetached(linkID(local), error: detach.error))
        case .end(let error):
            for handle in links.keys.sorted() {
                actions.append(.linkDetached(linkID(handle), error: error))
            }
            links = [:]
            remoteHandles = [:]
            if !endSent { write(.end(nil), into: &actions) }
            return true
        case .begin, .open, .close:
            throw AMQPError(
                condition: AMQPError.notAllowed,
                description: "\(AMQPConnectionStateMachine.name(of: performative)) is not allowed on a session."
            )
        }
        return false
    }

    private mutating func receiveAttach(
        _ attach: AMQPPerformative.Attach,
        into actions: inout [Action]
    )
        throws(AMQPError)
    {
        guard attach.handle <= handleMax else {
            throw AMQPError(
                condition: "amqp:connection:framing-error",
                description: "Handle \(attach.handle) is above handle-max \(handleMax)."
            )
        }
        guard remoteHandles[attach.handle] == nil else {
            throw AMQPError(
                condition: "amqp:session:handle-in-use",
                description: "Handle \(attach.handle) is already attached."
            )
        }
        guard let local = (0...handleMax).first(where: { links[$0] == nil }) else {
            throw AMQPError(condition: "amqp:resource-limit-exceeded", description: "No free link handle.")
        }
        let role: AMQPRole = attach.role ? .sender : .receiver
        links[local] = AMQPLinkState(localHandle: local, remoteHandle: attach.handle, role: role, attach: attach)
        remoteHandles[attach.handle] = local
        actions.append(.attachRequested(linkID(local), role: role, attach))
    }

    /// The peer's answer to an attach this side sent: the link is attached unless the peer left out the terminus
    /// that names its node (a refusal; its detach follows).
    private mutating func receiveAttachReply(
        _ attach: AMQPPerformative.Attach,
        local: UInt32,
        configuration: AMQPConnectionStateMachine.Configuration,
        into actions: inout [Action]
    ) {
        guard var link = links[local] else { return }
        link.remoteHandle = attach.handle
        link.answered = true
        remoteHandles[attach.handle] = local
        let node = link.role == .sender ? attach.target : attach.source
        if node != .null, !link.detachSent {
            link.attached = true
            if link.role == .receiver {
                link.deliveryCount = attach.initialDeliveryCount ?? 0
                link.credit = configuration.linkCredit
                links[local] = link
                write(flow(for: link), into: &actions)
            }
        }
        links[local] = link
        actions.append(.attached(linkID(local), attach))
    }

    /// Attaches a link from this side; returns its handle.
    mutating func attachLocally(
        name: String,
        role: AMQPRole,
        source: AMQPValue,
        target: AMQPValue,
        senderSettleMode: UInt8?,
        receiverSettleMode: UInt8?,
        properties: [AMQPMapEntry]?,
        configuration: AMQPConnectionStateMachine.Configuration,
        into actions: inout [Action]
    ) -> UInt32? {
        guard let local = (0...handleMax).first(where: { links[$0] == nil }) else { return nil }
        var attach = AMQPPerformative.Attach(name: name, handle: local, role: role.flag, source: source, target: target)
        attach.senderSettleMode = senderSettleMode
        attach.receiverSettleMode = receiverSettleMode
        attach.maxMessageSize = configuration.maxMessageSize
        attach.properties = properties
        if role == .sender { attach.initialDeliveryCount = 0 }
        var link = AMQPLinkState(localHandle: local, remoteHandle: UInt32.max, role: role, attach: attach)
        link.locallyInitiated = true
        links[local] = link
        write(.attach(attach), into: &actions)
        return local
    }

    private mutating func receiveFlow(_ flow: AMQPPerformative.Flow, into actions: inout [Action]) throws(AMQPError) {
        // The peer's window, as of what it has seen of this side's transfers (part 2.5.6).
        let seen = flow.nextIncomingId ?? 0
        remoteIncomingWindow = seen &+ flow.incomingWindow &- nextOutgoingId
        flushBlocked(into: &actions)
        guard let handle = flow.handle else {
            if flow.echo == true { write(self.flow(for: nil), into: &actions) }
            return
        }
        let local = try link(remote: handle, "flow")
        var link = links[local]!
        if link.role == .sender, link.attached {
            // link-credit(snd) = delivery-count(rcv) + link-credit(rcv) - delivery-count(snd) (part 2.6.7).
            let theirs = flow.deliveryCount ?? link.initialDeliveryCount
            let credit = theirs &+ (flow.linkCredit ?? 0) &- link.deliveryCount
            link.credit = credit > (1 << 31) ? 0 : credit
            link.drain = flow.drain ?? false
            links[local] = link
            actions.append(.credit(linkID(local), credit: link.credit, drain: link.drain))
        }
        if flow.echo == true { write(self.flow(for: link), into: &actions) }
    }

    private mutating func receiveTransfer(
        _ transfer: AMQPPerformative.Transfer,
        payload: ByteBuffer,
        configuration: AMQPConnectionStateMachine.Configuration,
        into actions: inout [Action]
    ) throws(AMQPError) {
        let local = try link(remote: transfer.handle, "transfer")
        var link = links[local]!
        guard link.role == .receiver, link.attached else {
            throw AMQPError(
                condition: AMQPError.notAllowed,
                description: "A transfer arrived on link '\(link.attach.name)', where this side does not receive."
            )
        }
        guard incomingWindow > 0 else {
            throw AMQPError(
                condition: "amqp:session:window-violation",
                description: "A transfer arrived while the session's incoming window was closed."
            )
        }
        incomingWindow -= 1
        nextIncomingId &+= 1
        defer {
            // Reopen the window once half of it is used.
            if incomingWindow < configuredIncomingWindow / 2 {
                incomingWindow = configuredIncomingWindow
                write(flow(for: nil), into: &actions)
            }
        }
        if link.detachSent { return }
        var delivery: AMQPIncomingDelivery
        if let partial = link.partial {
            delivery = partial
            if let id = transfer.deliveryId, id != partial.deliveryId {
                throw AMQPError(
                    condition: AMQPError.notAllowed,
                    description: "Delivery \(id) started before delivery \(partial.deliveryId) was complete."
                )
            }
            var more = payload
            delivery.payload.writeBuffer(&more)
        } else {
            guard let id = transfer.deliveryId, let tag = transfer.deliveryTag else {
                throw AMQPError(
                    condition: AMQPError.notAllowed,
                    description: "The first transfer of a delivery must carry its delivery-id and delivery-tag."
                )
            }
            guard link.credit > 0 else {
                detachForError(
                    &link,
                    AMQPError(
                        condition: "amqp:link:transfer-limit-exceeded",
                        description: "A message arrived on link '\(link.attach.name)' without credit."
                    ),
                    into: &actions
                )
                links[local] = link
                return
            }
            link.credit -= 1
            link.deliveryCount &+= 1
            delivery = AMQPIncomingDelivery(
                link: linkID(local),
                deliveryId: id,
                deliveryTag: tag,
                messageFormat: transfer.messageFormat ?? 0,
                settled: transfer.settled ?? false,
                payload: payload
            )
        }
        if transfer.settled == true { delivery.settled = true }
        if transfer.aborted == true {
            link.partial = nil
            links[local] = link
            return
        }
        if UInt64(delivery.payload.readableBytes) > configuration.maxMessageSize {
            link.partial = nil
            detachForError(
                &link,
                AMQPError(
                    condition: "amqp:link:message-size-exceeded",
                    description:
                        "A message of more than \(configuration.maxMessageSize) bytes arrived on link '\(link.attach.name)'."
                ),
                into: &actions
            )
            links[local] = link
            return
        }
        if transfer.more == true {
            link.partial = delivery
            links[local] = link
            return
        }
        link.partial = nil
        link.outstanding += 1
        links[local] = link
        awaitingSettlement[delivery.deliveryId] = (local, !delivery.settled)
        actions.append(.message(delivery))
    }

    private mutating func receiveDisposition(_ disposition: AMQPPerformative.Disposition, into actions: inout [Action])
    {
        // Only the peer's outcomes for this side's deliveries matter; a sender settling what this side settled
        // first needs no answer.
        guard disposition.role else { return }
        let state = try? AMQPDeliveryState(disposition.state)
        let last = disposition.last ?? disposition.first
        guard last >= disposition.first, last - disposition.first < 100_000 else { return }
        for id in disposition.first...last {
            guard let (handle, tag) = unsettledOutgoing[id] else { continue }
            if disposition.settled == true { unsettledOutgoing[id] = nil }
            actions.append(
                .settled(
                    AMQPSettlement(
                        link: linkID(handle),
                        deliveryId: id,
                        deliveryTag: tag,
                        state: state ?? nil,
                        settled: disposition.settled ?? false
                    )
                )
            )
        }
    }

    // MARK: - Commands

    mutating func acceptAttach(
        _ handle: UInt32,
        source: AMQPValue?,
        target: AMQPValue?,
        properties: [AMQPMapEntry]?,
        configuration: AMQPConnectionStateMachine.Configuration,
        into actions: inout [Action]
    ) {
        guard var link = links[handle], !link.attached, !link.detachSent else { return }
        let peer = link.attach
        var reply = AMQPPerformative.Attach(
            name: peer.name,
            handle: handle,
            role: link.role.flag,
            source: source ?? peer.source,
            target: target ?? peer.target
        )
        reply.senderSettleMode = peer.senderSettleMode
        reply.receiverSettleMode = peer.receiverSettleMode
        reply.maxMessageSize = configuration.maxMessageSize
        reply.properties = properties
        if link.role == .sender {
            reply.initialDeliveryCount = link.deliveryCount
        } else {
            link.deliveryCount = peer.initialDeliveryCount ?? 0
        }
        link.attached = true
        write(.attach(reply), into: &actions)
        if link.role == .receiver {
            // Ample credit at once, as Service Bus gives it.
            link.credit = configuration.linkCredit
            write(flow(for: link), into: &actions)
        }
        links[handle] = link
    }

    mutating func refuseAttach(_ handle: UInt32, error: AMQPError, into actions: inout [Action]) {
        guard var link = links[handle], !link.attached, !link.detachSent else { return }
        var reply = AMQPPerformative.Attach(name: link.attach.name, handle: handle, role: link.role.flag)
        if link.role == .sender { reply.initialDeliveryCount = 0 }
        write(.attach(reply), into: &actions)
        link.detachSent = true
        links[handle] = link
        write(.detach(.init(handle: handle, closed: true, error: error)), into: &actions)
    }

    mutating func settleIncoming(
        _ handle: UInt32,
        deliveryId: UInt32,
        state: AMQPDeliveryState,
        configuration: AMQPConnectionStateMachine.Configuration,
        into actions: inout [Action]
    ) {
        guard let waiting = awaitingSettlement.removeValue(forKey: deliveryId), waiting.handle == handle else { return }
        if waiting.owed {
            var disposition = AMQPPerformative.Disposition(role: true, first: deliveryId, settled: true)
            disposition.state = state.value
            write(.disposition(disposition), into: &actions)
        }
        guard var link = links[handle], !link.detachSent else { return }
        link.outstanding -= 1
        // Top the credit up once half of it is used and settled (with a credit of 1: once it is used).
        if link.credit + link.outstanding < (configuration.linkCredit + 1) / 2 {
            link.credit = configuration.linkCredit - link.outstanding
            write(flow(for: link), into: &actions)
        }
        links[handle] = link
    }

    mutating func send(
        _ handle: UInt32,
        tag: [UInt8],
        payload: ByteBuffer,
        settled: Bool,
        messageFormat: UInt32,
        peerMaxFrameSize: UInt32,
        into actions: inout [Action]
    ) -> UInt32? {
        guard var link = links[handle], link.role == .sender, link.attached, !link.detachSent, link.credit > 0 else {
            return nil
        }
        let id = nextDeliveryId
        nextDeliveryId &+= 1
        link.credit -= 1
        link.deliveryCount &+= 1
        links[handle] = link
        if !settled { unsettledOutgoing[id] = (handle, tag) }
        var rest = payload
        var first = true
        repeat {
            var transfer = AMQPPerformative.Transfer(handle: handle)
            if first {
                transfer.deliveryId = id
                transfer.deliveryTag = tag
                transfer.messageFormat = messageFormat
                transfer.settled = settled
            }
            // Room for the payload in this frame: the frame size less its header and this transfer.
            var probe = ByteBuffer()
            _ = try? probe.writeAMQPValue(AMQPPerformative.transfer(transfer).value)
            let room = Int(peerMaxFrameSize) - 8 - probe.readableBytes - 2
            let size = min(rest.readableBytes, max(room, 1))
            let chunk = rest.readSlice(length: size)!
            transfer.more = rest.readableBytes > 0
            var buffer = ByteBuffer()
            AMQPConnectionStateMachine.writeFrame(
                .amqp,
                channel: localChannel,
                value: AMQPPerformative.transfer(transfer).value,
                payload: chunk,
                into: &buffer
            )
            sendTransferFrame(buffer, into: &actions)
            first = false
        } while rest.readableBytes > 0
        return id
    }

    /// Sends a transfer frame, or holds it back until the peer's window opens.
    private mutating func sendTransferFrame(_ frame: ByteBuffer, into actions: inout [Action]) {
        if remoteIncomingWindow > 0 && blocked.isEmpty {
            remoteIncomingWindow -= 1
            nextOutgoingId &+= 1
            actions.append(.write(frame))
        } else {
            blocked.append(frame)
        }
    }

    private mutating func flushBlocked(into actions: inout [Action]) {
        while remoteIncomingWindow > 0, !blocked.isEmpty {
            remoteIncomingWindow -= 1
            nextOutgoingId &+= 1
            actions.append(.write(blocked.removeFirst()))
        }
    }

    mutating func settleOutgoing(deliveryId: UInt32, state: AMQPDeliveryState?, into actions: inout [Action]) {
        unsettledOutgoing[deliveryId] = nil
        var disposition = AMQPPerformative.Disposition(role: false, first: deliveryId, settled: true)
        disposition.state = state?.value ?? .null
        write(.disposition(disposition), into: &actions)
    }

    mutating func drain(_ handle: UInt32, into actions: inout [Action]) {
        guard var link = links[handle], link.role == .sender, link.attached else { return }
        link.deliveryCount &+= link.credit
        link.credit = 0
        link.drain = false
        links[handle] = link
        write(flow(for: link, drain: true), into: &actions)
    }

    mutating func detach(_ handle: UInt32, error: AMQPError?, into actions: inout [Action]) {
        guard var link = links[handle] else { return }
        detachForError(&link, error, into: &actions)
        links[handle] = link
    }

    private func detachForError(_ link: inout AMQPLinkState, _ error: AMQPError?, into actions: inout [Action]) {
        guard !link.detachSent else { return }
        link.detachSent = true
        link.partial = nil
        write(.detach(.init(handle: link.localHandle, closed: true, error: error)), into: &actions)
    }

    private mutating func remove(_ handle: UInt32) {
        guard let link = links.removeValue(forKey: handle) else { return }
        if remoteHandles[link.remoteHandle] == handle { remoteHandles[link.remoteHandle] = nil }
        unsettledOutgoing = unsettledOutgoing.filter { $0.value.handle != handle }
        awaitingSettlement = awaitingSettlement.filter { $0.value.handle != handle }
    }
}

/// One link of a session.
struct AMQPLinkState: Sendable {
    let localHandle: UInt32
    /// The peer's handle (for a link this side attached: once the peer answered).
    var remoteHandle: UInt32
    /// This side's role.
    let role: AMQPRole
    /// The peer's attach; for a link this side attached, this side's own.
    let attach: AMQPPerformative.Attach
    /// Whether this side attached the link (a client), rather than the peer.
    var locallyInitiated = false
    /// Whether the peer answered this side's attach.
    var answered = false
    var attached = false
    var detachSent = false
    /// Deliveries sent (this side sends) or received (this side receives), counted from the initial count.
    var deliveryCount: UInt32 = 0
    let initialDeliveryCount: UInt32 = 0
    /// How many more messages may go: the peer's credit (this side sends) or the credit this side gave.
    var credit: UInt32 = 0
    var drain = false
    /// Messages that arrived and the application has not settled (this side receives).
    var outstanding: UInt32 = 0
    /// A delivery whose frames are still arriving.
    var partial: AMQPIncomingDelivery?

    init(localHandle: UInt32, remoteHandle: UInt32, role: AMQPRole, attach: AMQPPerformative.Attach) {
        self.localHandle = localHandle
        self.remoteHandle = remoteHandle
        self.role = role
        self.attach = attach
    }
}
