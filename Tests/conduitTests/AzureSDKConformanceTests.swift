import Foundation
import NIOHTTP1
import Testing

/// The official Python Azure SDKs (`azure-servicebus`, `azure-eventhub`) against a live `conduit serve`, over AMQP,
/// with the `UseDevelopmentEmulator=true` connection string it prints: `Tests/Conformance/azure_sdk_conformance.py`
/// runs each case through the SDKs' public API and asserts its results.
@Suite("Azure SDK conformance (Python SDKs over AMQP)")
struct AzureSDKConformanceTests {
    /// The cases of the script, all of which this server passes. `subscription_rules` is left out: the script skips
    /// it always (rules are managed with the administration client, which has no emulator mode; Swift tests cover
    /// them).
    static let cases = [
        "send_receive_complete", "batch_send", "receive_and_delete", "abandon_redelivers",
        "max_delivery_count_deadletters", "deadletter_with_reason", "defer_and_receive_deferred", "peek",
        "renew_lock", "scheduled_and_cancel", "ttl_expiry", "lock_token_format", "topic_subscription",
        "sessions_send_receive", "subscription_sessions", "next_available_session", "unauthorized_refused",
        "listen_only_cannot_send",
        "missing_entity", "large_message", "many_connections", "websocket_send_receive", "many_entities", "long_ttl",
        "high_max_delivery_count", "eh_send_receive",
        "eh_partition_send", "eh_properties", "eh_start_positions", "eh_owner_level",
    ]

    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
    }

    /// The Python with the SDKs: `CONDUIT_TEST_PYTHON`, or the venv `.ci/python-sdks.sh` makes (or finds).
    static func python() async throws -> String {
        if let python = ProcessInfo.processInfo.environment["CONDUIT_TEST_PYTHON"], !python.isEmpty { return python }
        let run = try await CLITests.run(
            ["bash", repositoryRoot.appendingPathComponent(".ci/python-sdks.sh").path],
            executable: URL(fileURLWithPath: "/usr/bin/env")
        )
        guard run.status == 0,
            let last = String(decoding: run.stdout, as: UTF8.self).split(separator: "\n").last
        else {
            throw ConformanceFailure(".ci/python-sdks.sh failed: \(run.stderr)")
        }
        return String(last)
    }

    struct ConformanceFailure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    @Test("the Python Service Bus and Event Hubs SDKs pass every case of the conformance script")
    func pythonSDKs() async throws {
        let python = try await Self.python()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-sdk-\(UUID())").path
        let server = try await CrashSafetyTests.Server(dataDirectory: directory)
        defer {
            server.stop()
            try? FileManager.default.removeItem(atPath: directory)
        }
        let amqp = server.amqpConnectionString
        #expect(amqp.contains("UseDevelopmentEmulator=true"))
        let rest = server.busConnectionString
        // The entities the script expects (it cannot create them: the SDKs' administration client has no emulator
        // mode).
        let created = try await EndpointEndToEndTests.cli([
            "bus", "queue", "create", "conformance", "--lock-duration", "5", "--max-delivery-count", "3",
            "--rule", "reader=Listen", "--connection-string", rest,
        ])
        _ = try await EndpointEndToEndTests.cli([
            "bus", "queue", "create", "conformance-sessions", "--sessions", "--lock-duration", "10",
            "--connection-string", rest,
        ])
        // Beyond the official emulator's limits: more than 50 entities, a maximum delivery count over 10.
        for n in 0..<55 {
            _ = try await EndpointEndToEndTests.cli(["bus", "queue", "create", "many\(n)", "--connection-string", rest])
        }
        _ = try await EndpointEndToEndTests.cli([
            "bus", "queue", "create", "conformance-patient", "--max-delivery-count", "20", "--lock-duration", "5",
            "--connection-string", rest,
        ])
        _ = try await EndpointEndToEndTests.cli([
            "bus", "topic", "create", "conformance-topic", "--connection-string", rest,
        ])
        _ = try await EndpointEndToEndTests.cli([
            "bus", "subscription", "create", "conformance-topic", "all", "--connection-string", rest,
        ])
        _ = try await EndpointEndToEndTests.cli([
            "bus", "topic", "create", "conformance-session-topic", "--connection-string", rest,
        ])
        _ = try await EndpointEndToEndTests.cli([
            "bus", "subscription", "create", "conformance-session-topic", "by-session", "--sessions",
            "--connection-string", rest,
        ])
        _ = try await EndpointEndToEndTests.cli([
            "bus", "eventhub", "create", "conformance-hub", "--partitions", "4", "--connection-string", rest,
        ])
        // The queue's listen-only rule, addressed to the AMQP port; and the namespace's rule with a forged key.
        let readerKey = try #require(
            created.split(separator: "\n").first { $0.hasPrefix("Rule reader") }?
                .split(separator: ";").first { $0.hasPrefix("SharedAccessKey=") }?.dropFirst("SharedAccessKey=".count)
        )
        let endpoint = try #require(amqp.split(separator: ";").first)
        let listenOnly =
            "\(endpoint);SharedAccessKeyName=reader;SharedAccessKey=\(readerKey);UseDevelopmentEmulator=true"
        let forged = amqp.replacingOccurrences(
            of: #"SharedAccessKey=[^;]*"#,
            with: "SharedAccessKey=" + Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString(),
            options: .regularExpression
        )
        let results = directory + "/conformance.json"
        let run = try await CLITests.run(
            [
                Self.repositoryRoot.appendingPathComponent("Tests/Conformance/azure_sdk_conformance.py").path,
                "--connection-string", amqp, "--cases", Self.cases.joined(separator: ","), "--timeout", "60",
                "--queue", "conformance", "--session-queue", "conformance-sessions", "--many-queues", "many:55",
                "--high-delivery-queue", "conformance-patient", "--topic", "conformance-topic",
                "--subscription", "all", "--session-topic", "conformance-session-topic",
                "--session-subscription", "by-session",
                "--eventhub", "conformance-hub", "--unauthorized-connection-string", forged,
                "--listen-only-connection-string", listenOnly, "--json", results,
                // AMQP over WebSockets on the HTTP port.
                "--websocket-endpoint", "sb://127.0.0.1:\(server.port)",
            ],
            executable: URL(fileURLWithPath: python)
        )
        let output = String(decoding: run.stdout, as: UTF8.self)
        print(output.split(separator: "\n").filter { !$0.hasPrefix("[") }.joined(separator: "\n"))
        let summary = try #require(output.split(separator: "\n").first { $0.hasPrefix("CONFORMANCE ") })
        #expect(summary == "CONFORMANCE passed=\(Self.cases.count) failed=0 skipped=0", "\(output)")
        #expect(run.status == 0, "\(run.stderr.suffix(2000))")
        for line in output.split(separator: "\n") where line.hasPrefix("FAIL ") {
            Issue.record("\(line)")
        }
    }

    @Test(
        "azure-servicebus sends and receives over AMQPS with the CA of conduit serve's development certificate, and is refused without it"
    )
    func pythonOverAMQPS() async throws {
        let python = try await Self.python()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-amqps-\(UUID())").path
        let server = try await CrashSafetyTests.Server(
            dataDirectory: directory,
            arguments: ["--tls", "self-signed", "--https-port", "0", "--amqps-port", "0"]
        )
        defer {
            server.stop()
            try? FileManager.default.removeItem(atPath: directory)
        }
        _ = try await EndpointEndToEndTests.cli([
            "bus", "queue", "create", "secure", "--connection-string", server.busConnectionString,
        ])
        let amqps = try String(contentsOfFile: directory + "/amqps.connection", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let port = try #require(amqps.firstMatch(of: /127\.0\.0\.1:([0-9]+)/).flatMap { Int($0.output.1) })
        let script = Self.repositoryRoot.appendingPathComponent("Tests/Conformance/amqps_roundtrip.py").path
        let base = [script, "--connection-string", amqps, "--queue", "secure", "--port", String(port)]
        let trusted = try await CLITests.run(
            base + ["--ca", directory + "/tls/ca.pem"],
            executable: URL(fileURLWithPath: python)
        )
        let trustedOutput = String(decoding: trusted.stdout, as: UTF8.self)
        #expect(trusted.status == 0 && trustedOutput.contains(#""ok": true"#), "\(trustedOutput) \(trusted.stderr)")
        let untrusted = try await CLITests.run(base, executable: URL(fileURLWithPath: python))
        let untrustedOutput = String(decoding: untrusted.stdout, as: UTF8.self)
        #expect(untrusted.status != 0 && untrustedOutput.contains("CERTIFICATE_VERIFY_FAILED"), "\(untrustedOutput)")
    }

    /// A listener written with the Python SDK, as a Dataverse integration would have it.
    static let listener = """
        import json, sys
        from azure.servicebus import ServiceBusClient
        claim = b"http://schemas.microsoft.com/xrm/2011/Claims/EntityLogicalName"
        with ServiceBusClient.from_connection_string(sys.argv[1]) as client:
            with client.get_queue_receiver(sys.argv[2], max_wait_time=30) as receiver:
                for message in receiver.receive_messages(max_message_count=1, max_wait_time=30):
                    context = json.loads(b"".join(message.body))
                    print(json.dumps({
                        "MessageName": context["MessageName"],
                        "PrimaryEntityName": context["PrimaryEntityName"],
                        "PrimaryEntityId": context["PrimaryEntityId"],
                        "Depth": context["Depth"],
                        "contentType": message.content_type,
                        "entityClaim": (message.application_properties or {}).get(claim, b"").decode(),
                    }))
                    receiver.complete_message(message)
        """

    @Test("a Web API update reaches a Python azure-servicebus listener over AMQP, its JSON body the context")
    func pythonListener() async throws {
        let python = try await Self.python()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-py-\(UUID())").path
        let server = try await CrashSafetyTests.Server(dataDirectory: directory)
        defer {
            server.stop()
            try? FileManager.default.removeItem(atPath: directory)
        }
        let api = ["--url", server.url, "--key-file", directory + "/admin.key"]
        let bus = ["--connection-string", server.busConnectionString]
        _ = try await EndpointEndToEndTests.cli(["bus", "queue", "create", "py-contacts"] + bus)
        let endpoint = try await EndpointEndToEndTests.cli(
            [
                "endpoint", "add", "--name", "py-contacts", "--contract", "queue", "--format", "json", "--path",
                "py-contacts",
            ]
                + bus + api
        ).trimmingCharacters(in: .whitespacesAndNewlines)
        try await CrashSafetyTests.withClient { client in
            try await EndpointEndToEndTests.registerStep(client, server, endpoint: endpoint)
            let contact = try await EndpointEndToEndTests.createContact(client, server, "Byron")
            try await EndpointEndToEndTests.renameContact(client, server, contact, to: "Lovelace")
            let script = directory + "/listener.py"
            try Self.listener.write(toFile: script, atomically: true, encoding: .utf8)
            let run = try await CLITests.run(
                [script, server.amqpConnectionString, "py-contacts"],
                executable: URL(fileURLWithPath: python)
            )
            #expect(run.status == 0, "\(run.stderr.suffix(2000))")
            let line = try #require(String(decoding: run.stdout, as: UTF8.self).split(separator: "\n").first)
            let received = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(received["MessageName"] as? String == "Update")
            #expect(received["PrimaryEntityName"] as? String == "contact")
            #expect((received["PrimaryEntityId"] as? String)?.lowercased() == contact.lowercased())
            #expect(received["Depth"] as? Int == 1)
            #expect(received["contentType"] as? String == "application/json")
            #expect(received["entityClaim"] as? String == "contact")
        }
    }
}
