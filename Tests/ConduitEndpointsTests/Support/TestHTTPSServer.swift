import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization
import Testing

/// A test CA and a certificate for 127.0.0.1 it signed, made with the `openssl` command.
struct TestCertificates {
    let directory: URL
    var caFile: String { directory.appendingPathComponent("ca.pem").path }
    var certificateFile: String { directory.appendingPathComponent("server.pem").path }
    var keyFile: String { directory.appendingPathComponent("server.key").path }

    static func make() throws -> TestCertificates {
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

    func remove() { try? FileManager.default.removeItem(at: directory) }

    /// A server's TLS context with the certificate for 127.0.0.1.
    func serverContext() throws -> NIOSSLContext {
        try NIOSSLContext(
            configuration: TLSConfiguration.makeServerConfiguration(
                certificateChain: try NIOSSLCertificate.fromPEMFile(certificateFile).map { .certificate($0) },
                privateKey: .privateKey(try NIOSSLPrivateKey(file: keyFile, format: .pem))
            )
        )
    }

    struct CertificateError: Error { var message: String }
}

/// An HTTPS server on 127.0.0.1 that answers every request with 201 and remembers the requests' heads.
final class TestHTTPSServer: Sendable {
    let channel: any Channel
    private let heads = Mutex<[HTTPRequestHead]>([])

    var requests: [HTTPRequestHead] { heads.withLock { $0 } }
    var port: Int { channel.localAddress?.port ?? 0 }

    init(certificates: TestCertificates) async throws {
        let context = try certificates.serverContext()
        let box = Box()
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Responder(box: box))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        box.server = self
    }

    func record(_ head: HTTPRequestHead) { heads.withLock { $0.append(head) } }

    func stop() async { try? await channel.close() }

    /// Lets the handlers reach the server once it exists.
    final class Box: @unchecked Sendable {  // set once before any connection is accepted
        weak var server: TestHTTPSServer?
    }

    final class Responder: ChannelInboundHandler, @unchecked Sendable {  // used on its channel's event loop only
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let box: Box

        init(box: Box) { self.box = box }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head): box.server?.record(head)
            case .body: break
            case .end:
                var head = HTTPResponseHead(version: .http1_1, status: .created)
                head.headers.add(name: "Content-Length", value: "0")
                context.write(wrapOutboundOut(.head(head)), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        }
    }
}
