import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// A test CA and a certificate for 127.0.0.1 it signed, made with the `openssl` command.
public struct TestCertificates: Sendable {
    public let directory: URL
    public var caFile: String { directory.appendingPathComponent("ca.pem").path }
    public var certificateFile: String { directory.appendingPathComponent("server.pem").path }
    public var keyFile: String { directory.appendingPathComponent("server.key").path }

    public static func make() throws -> TestCertificates {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-tls-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n".write(
            to: directory.appendingPathComponent("ext"),
            atomically: true,
            encoding: .utf8
        )
        let steps = [
            "req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=Conduit-Test-CA",
            "req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=127.0.0.1",
            "x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile ext",
        ]
        for step in steps {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["openssl"] + step.split(separator: " ").map(String.init)
            process.currentDirectoryURL = directory
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                throw CertificateError(message: "openssl \(step) failed (is openssl installed?)")
            }
        }
        return TestCertificates(directory: directory)
    }

    public func remove() { try? FileManager.default.removeItem(at: directory) }

    /// A server's TLS context with the certificate for 127.0.0.1.
    public func serverContext() throws -> NIOSSLContext {
        try NIOSSLContext(
            configuration: TLSConfiguration.makeServerConfiguration(
                certificateChain: try NIOSSLCertificate.fromPEMFile(certificateFile).map { .certificate($0) },
                privateKey: .privateKey(try NIOSSLPrivateKey(file: keyFile, format: .pem))
            )
        )
    }

    public struct CertificateError: Error { public var message: String }
}

/// An HTTP server on 127.0.0.1 (HTTPS with `certificates`) that records each request, head and body, and answers it
/// as `answer` says (201 by default), after the answer's delay.
public final class TestHTTPServer: Sendable {
    /// A request as it arrived.
    public struct Request: Sendable {
        public var head: HTTPRequestHead
        public var body: [UInt8]
    }

    /// How to answer a request.
    public struct Answer: Sendable {
        public var status: HTTPResponseStatus
        public var delay: Duration
        public var body: String

        public init(status: HTTPResponseStatus, delay: Duration = .zero, body: String = "") {
            self.status = status
            self.delay = delay
            self.body = body
        }
    }

    /// Answers the `index`th request (from 0).
    public typealias Answering = @Sendable (_ index: Int, _ request: Request) -> Answer

    public let channel: any Channel
    private let recorded = Mutex<[Request]>([])
    let answer: Answering

    /// The heads of the requests so far.
    public var requests: [HTTPRequestHead] { recorded.withLock { $0.map(\.head) } }
    /// The requests so far.
    public var received: [Request] { recorded.withLock { $0 } }
    public var port: Int { channel.localAddress?.port ?? 0 }

    public init(
        certificates: TestCertificates? = nil,
        answer: @escaping Answering = { _, _ in Answer(status: .created) }
    ) async throws {
        let context = try certificates?.serverContext()
        let box = Box()
        self.answer = answer
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let context {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                    }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Responder(box: box))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        box.server = self
    }

    /// Records `request`; returns its index.
    func record(_ request: Request) -> Int {
        recorded.withLock {
            $0.append(request)
            return $0.count - 1
        }
    }

    public func stop() async { try? await channel.close() }

    /// Lets the handlers reach the server once it exists.
    final class Box: @unchecked Sendable {  // set once before any connection is accepted
        weak var server: TestHTTPServer?
    }

    final class Responder: ChannelInboundHandler, @unchecked Sendable {  // used on its channel's event loop only
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let box: Box
        private var head: HTTPRequestHead?
        private var body: [UInt8] = []

        init(box: Box) { self.box = box }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                self.head = head
                body = []
            case .body(let buffer):
                body += buffer.readableBytesView
            case .end:
                guard let head, let server = box.server else { return }
                let request = Request(head: head, body: body)
                let answer = server.answer(server.record(request), request)
                let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
                let respond = {
                    let context = bound.value
                    var head = HTTPResponseHead(version: .http1_1, status: answer.status)
                    head.headers.add(name: "Content-Length", value: "\(answer.body.utf8.count)")
                    context.write(self.wrapOutboundOut(.head(head)), promise: nil)
                    if !answer.body.isEmpty {
                        context.write(
                            self.wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: answer.body)))),
                            promise: nil
                        )
                    }
                    context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
                }
                if answer.delay == .zero {
                    respond()
                } else {
                    context.eventLoop.scheduleTask(in: TimeAmount(answer.delay)) { respond() }
                }
            }
        }
    }
}
