import ConduitBus
import ConduitContext
import ConduitTestSupport
import Foundation
import NIOHTTP1
import Testing

/// `conduit serve` with TLS: HTTPS and AMQPS listeners with a given or a development certificate, the plain ports
/// switched off, and a post from one Conduit to another over HTTPS, verified against the right CA or refused.
@Suite("conduit serve over TLS", .serialized)
struct TLSServeTests {
    static func temporaryDirectory(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("conduit-\(name)-\(UUID())").path
    }

    /// `conduit serve` arguments: a development certificate, HTTPS and AMQPS on free ports, no plain listeners.
    static let selfSignedOnly = ["--tls", "self-signed", "--https-port", "0", "--amqps-port", "0", "--no-plain"]

    /// Runs `body` with a `conduit serve` started with ``selfSignedOnly`` in a fresh data directory, that directory,
    /// and the development CA's path; stops the server and removes the directory afterwards.
    static func withSelfSignedServer(
        _ name: String,
        _ body: (CrashSafetyTests.Server, _ directory: String, _ ca: String) async throws -> Void
    ) async throws {
        let directory = temporaryDirectory(name)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let server = try await CrashSafetyTests.Server(dataDirectory: directory, arguments: selfSignedOnly)
        defer { server.stop() }
        try await body(server, directory, directory + "/tls/ca.pem")
    }

    /// Runs curl; returns its exit status and output.
    static func curl(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        try await offPool { try curlBlocking(arguments) }
    }

    static func curlBlocking(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["curl", "-sS", "--max-time", "20"] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test(
        "--tls self-signed --no-plain: curl reaches the Web API over HTTPS with the development CA and is refused without it; no plain port"
    )
    func selfSignedHTTPS() async throws {
        try await Self.withSelfSignedServer("tls") { server, directory, ca in
            #expect(server.url.hasPrefix("https://127.0.0.1:"), "\(server.banner)")
            #expect(server.banner.contains("Plain HTTP and AMQP: off"))
            #expect(server.banner.contains("development CA to trust: \(ca)"))
            #expect(server.banner.contains("certificate SHA-256 "))
            let whoAmI = try await Self.curl([
                "--cacert", ca, "-H", "Authorization: Bearer \(server.key)", server.url + "WhoAmI",
            ])
            #expect(whoAmI.status == 0, "\(whoAmI.output)")
            // The URLs the server writes name the scheme the client used.
            #expect(whoAmI.output.contains(#""@odata.context":"https://127.0.0.1:"#), "\(whoAmI.output)")
            let untrusted = try await Self.curl([server.url + "WhoAmI"])
            #expect(untrusted.status == 60, "curl without the CA: \(untrusted.output)")
            // Plain text to the HTTPS port is no way in either.
            let plain = try await Self.curl([
                server.url.replacingOccurrences(of: "https://", with: "http://") + "WhoAmI"
            ])
            #expect(plain.status != 0 || !plain.output.contains("UserId"))
            // AMQPS is served, plain AMQP is not; the AMQPS connection string has no development-emulator switch.
            let amqps = try String(contentsOfFile: directory + "/amqps.connection", encoding: .utf8)
            #expect(amqps.hasPrefix("Endpoint=sb://127.0.0.1:") && !amqps.contains("UseDevelopmentEmulator"))
            #expect(!FileManager.default.fileExists(atPath: directory + "/amqp.connection"))
            // The certificate is made once: a restart uses it again.
            let fingerprint = server.banner.split(separator: "\n").first { $0.contains("SHA-256") }
            server.stop()
            let again = try await CrashSafetyTests.Server(
                dataDirectory: directory,
                arguments: Self.selfSignedOnly
            )
            defer { again.stop() }
            let refingerprint = again.banner.split(separator: "\n").first { $0.contains("SHA-256") }
            #expect(
                fingerprint?.split(separator: " ").last == refingerprint?.split(separator: " ").last,
                "\(again.banner)"
            )
        }
    }

    @Test(
        "--no-plain: the command-line clients go over HTTPS with --ca (bus, endpoint add), and conduit listen --transport rest receives a change's context; without --ca they are refused"
    )
    func clientsOverHTTPS() async throws {
        try await Self.withSelfSignedServer("tls-clients") { server, directory, ca in
            let bus = ["--connection-string", server.busConnectionString, "--ca", ca]
            let api = ["--url", server.url, "--key-file", directory + "/admin.key", "--ca", ca]
            // Without the CA, a client says the certificate is not trusted and changes nothing.
            let untrusted = try await CLITests.run([
                "bus", "queue", "create", "tls-changes", "--connection-string", server.busConnectionString,
            ])
            #expect(untrusted.status != 0, "\(untrusted.stderr)")
            #expect(untrusted.stderr.lowercased().contains("certificate"), "\(untrusted.stderr)")
            #expect(
                try await EndpointEndToEndTests.cli(["bus", "queue", "create", "tls-changes"] + bus).contains(
                    "tls-changes"
                )
            )
            let endpoint = try await EndpointEndToEndTests.cli(
                [
                    "endpoint", "add", "--name", "tls-changes", "--contract", "queue", "--format", "json", "--path",
                    "tls-changes",
                ]
                    + bus + api
            ).trimmingCharacters(in: .whitespacesAndNewlines)
            let contact = try await CrashSafetyTests.withClient(caFile: ca) { client in
                try await EndpointEndToEndTests.registerStep(
                    client,
                    server,
                    endpoint: endpoint,
                    message: "Create",
                    filtering: nil
                )
                return try await EndpointEndToEndTests.createContact(client, server, "Hopper")
            }
            let listened = try await EndpointEndToEndTests.cli(
                [
                    "listen", "--transport", "rest", "--queue", "tls-changes", "--max-messages", "1", "--wait", "20",
                    "--until-idle", "--output", "json",
                ]
                    + bus
            )
            let context = try ContextCodec.decode(Array(listened.utf8), format: .json)
            #expect(
                context.messageName == "Create" && context.primaryEntityId.description == contact,
                "\(listened.prefix(300))"
            )
        }
    }

    @Test(
        "--tls-certificate and --tls-key: HTTPS with a CA-signed certificate; bad files and flags are refused clearly"
    )
    func givenCertificate() async throws {
        let certificates = try await offPool { try TestCertificates.make() }
        defer { certificates.remove() }
        let directory = Self.temporaryDirectory("tls-given")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let server = try await CrashSafetyTests.Server(
            dataDirectory: directory,
            arguments: [
                "--tls-certificate", certificates.certificateFile, "--tls-key", certificates.keyFile, "--https-port",
                "0", "--amqps-port", "0",
            ]
        )
        defer { server.stop() }
        // Plain HTTP stays on for a loopback address; HTTPS beside it.
        #expect(server.url.hasPrefix("http://"))
        let port = try #require(server.httpsPort, "\(server.banner)")
        let health = try await Self.curl(["--cacert", certificates.caFile, "https://127.0.0.1:\(port)/health"])
        #expect(health.status == 0 && health.output == "ok", "\(health.output)")
        #expect(!server.banner.contains("development CA"))

        // Refusals say what is wrong.
        let swapped = try await CLITests.run([
            "serve", "--data-dir", directory + "-bad", "--port", "0", "--tls-certificate", certificates.keyFile,
            "--tls-key", certificates.keyFile,
        ])
        #expect(swapped.stderr.contains("cannot be read as PEM certificates"), "\(swapped.stderr)")
        let lonely = try await CLITests.run(["serve", "--tls-certificate", certificates.certificateFile])
        #expect(lonely.stderr.contains("--tls-certificate and --tls-key go together"), "\(lonely.stderr)")
        let unknown = try await CLITests.run(["serve", "--tls", "snakeoil"])
        #expect(unknown.stderr.contains("--tls takes self-signed"), "\(unknown.stderr)")
        let open = try await CLITests.run(["serve", "--host", "0.0.0.0"])
        #expect(open.stderr.contains("does not serve plain text on 0.0.0.0"), "\(open.stderr)")
        let nothing = try await CLITests.run(["serve", "--no-plain"])
        #expect(nothing.stderr.contains("--no-plain leaves nothing to listen on"), "\(nothing.stderr)")
        try? FileManager.default.removeItem(atPath: directory + "-bad")
    }

    @Test(
        "A post to a remote Conduit over HTTPS succeeds with its CA (--remote-ca); with another CA the job waits and says why"
    )
    func postToRemoteOverHTTPS() async throws {
        let remoteDirectory = Self.temporaryDirectory("tls-remote")
        let localDirectory = Self.temporaryDirectory("tls-local")
        let wrongDirectory = Self.temporaryDirectory("tls-wrong")
        let wrongCA = try await offPool { try TestCertificates.make() }
        defer {
            for directory in [remoteDirectory, localDirectory, wrongDirectory] {
                try? FileManager.default.removeItem(atPath: directory)
            }
            wrongCA.remove()
        }
        let remote = try await CrashSafetyTests.Server(
            dataDirectory: remoteDirectory,
            arguments: ["--namespace", "remote", "--tls", "self-signed", "--https-port", "0", "--amqps-port", "0"]
        )
        defer { remote.stop() }
        let httpsPort = try #require(remote.httpsPort, "\(remote.banner)")
        let remoteBus = ["--connection-string", remote.busConnectionString]
        let remoteKey = try #require(try ConnectionString(parsing: remote.busConnectionString).key)
        _ = try await EndpointEndToEndTests.cli(["bus", "queue", "create", "inbox"] + remoteBus)

        for (directory, ca, trusted) in [
            (localDirectory, remoteDirectory + "/tls/ca.pem", true), (wrongDirectory, wrongCA.caFile, false),
        ] {
            let local = try await CrashSafetyTests.Server(dataDirectory: directory, arguments: ["--remote-ca", ca])
            defer { local.stop() }
            let api = ["--url", local.url, "--key-file", directory + "/admin.key"]
            try await CrashSafetyTests.withClient { client in
                try await EndpointEndToEndTests.postCreatesToRemoteInbox(
                    client,
                    local,
                    address: "https://127.0.0.1:\(httpsPort)/",
                    key: remoteKey,
                    api: api
                )
                let contact = try await EndpointEndToEndTests.createContact(client, local, "OverTLS")
                if trusted {
                    let received = try await EndpointEndToEndTests.cli(
                        [
                            "listen", "--transport", "rest", "--queue", "inbox", "--max-messages", "1", "--output",
                            "json",
                        ]
                            + remoteBus
                    )
                    let context = try ContextCodec.decode(Array(received.utf8), format: .json)
                    #expect(context.primaryEntityId.description == contact)
                } else {
                    let waiting = try await CrashSafetyTests.waitingJobs(client, local, saying: "does not trust")
                    #expect(waiting.contains("presented a TLS certificate this server does not trust"), "\(waiting)")
                    let nothing = try await EndpointEndToEndTests.cli(
                        ["listen", "--transport", "rest", "--queue", "inbox", "--wait", "1", "--until-idle"] + remoteBus
                    )
                    #expect(nothing.isEmpty, "nothing reaches the remote queue through an untrusted connection")
                }
            }
        }
    }
}
