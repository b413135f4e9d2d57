import ConduitBus
import ConduitContext
import ConduitEndpoints
import ConduitPlatform
import ConduitTestSupport
import Testing

@Suite("serviceendpoint rows")
struct ServiceEndpointRowTests {
    @Test("Secrets are written but never read back; the is-set flags say they are there", arguments: TestBackend.shared)
    func secretsAreWriteOnly(backend: TestBackend) async throws {
        try await EndpointHarness.run(backend) { h in
            let id = try await h.createEndpoint(h.queueEndpoint("orders"))
            let row = try await h.service.retrieve(EntityReference(logicalName: "serviceendpoint", id: id))
            #expect(row.attributes["saskey"] == nil)
            #expect(row.attributes["sastoken"] == nil)
            #expect(row.attributes["saskeyname"] == .string(h.root.keyName))
            #expect(row.attributes["issaskeyset"] == .boolean(true))
            #expect(row.attributes["issastokenset"] == .boolean(false))
            let listed = try await h.service.retrieveMultiple(QueryExpression(entityName: "serviceendpoint"))
            #expect(listed.entities.allSatisfy { $0.attributes["saskey"] == nil })
            await #expect(throws: PlatformError.self) {
                _ = try await h.service.retrieve(
                    EntityReference(logicalName: "serviceendpoint", id: id),
                    columns: .columns(["saskey"])
                )
            }
        }
    }

    @Test(
        "Invalid combinations are refused on create with the reason",
        arguments: [
            ("contract", ContextValue.null, "needs a contract"),
            ("contract", .optionSetValue(OptionSetValue(9)), "contract 9 (Event Grid) is not built yet"),
            ("contract", .optionSetValue(OptionSetValue(42)), "42 is not a contract"),
            ("path", .string(""), "needs a path"),
            ("path", .string("a b"), "may not contain spaces"),
            ("messageformat", .optionSetValue(OptionSetValue(4)), "4 is not a messageformat"),
            ("authtype", .optionSetValue(OptionSetValue(1)), "ACS"),
            ("authtype", .optionSetValue(OptionSetValue(4)), "is for webhooks"),
            ("authtype", .optionSetValue(OptionSetValue(3)), "needs sastoken"),
            ("saskey", .string(""), "needs saskeyname and saskey"),
            ("namespaceaddress", .string("ftp://x/"), "use sb:// (AMQP over TLS), https:// (REST)"),
            ("namespaceaddress", .string("contoso"), "has no scheme"),
            ("namespaceaddress", .string("sb://host:99999/"), "not a number from 1 to 65535"),
            ("connectionmode", .optionSetValue(OptionSetValue(2)), "Federated"),
        ]
    )
    func invalidCombinations(column: String, value: ContextValue, reason: String) async throws {
        try await EndpointHarness.run(.sqliteMemory) { h in
            var columns = h.queueEndpoint("orders")
            columns.removeAll { $0.0 == column }
            if value != .null { columns.append((column, value)) }
            let error = await #expect(throws: PlatformError.self) { _ = try await h.createEndpoint(columns) }
            #expect(error?.message.contains(reason) == true, "\(error?.message ?? "no error")")
        }
    }

    @Test("Event hubs take JSON or XML, not binary; REST addresses take text formats; AMQP addresses take all")
    func formatRules() async throws {
        try await EndpointHarness.run(.sqliteMemory) { h in
            var hub = h.queueEndpoint("hub", format: .binary, contract: 7)
            let error = await #expect(throws: PlatformError.self) { _ = try await h.createEndpoint(hub) }
            #expect(error?.message.contains("an Event Hub takes messageformat 2 (Json) or 3 (Text XML)") == true)
            hub = h.queueEndpoint("hub", format: .json, contract: 7)
            _ = try await h.createEndpoint(hub)

            var remote = h.queueEndpoint("orders", format: .binary)
            remote.removeAll { $0.0 == "namespaceaddress" }
            remote.append(("namespaceaddress", .string("https://contoso.servicebus.windows.net/")))
            let remoteError = await #expect(throws: PlatformError.self) { _ = try await h.createEndpoint(remote) }
            #expect(remoteError?.message.contains("cannot go over the Service Bus REST API") == true)
            var remoteHub = h.queueEndpoint("hub", format: .json, contract: 7)
            remoteHub.removeAll { $0.0 == "namespaceaddress" }
            remoteHub.append(("namespaceaddress", .string("http://10.1.2.3:9000/")))
            let hubError = await #expect(throws: PlatformError.self) { _ = try await h.createEndpoint(remoteHub) }
            #expect(hubError?.message.contains("a remote Event Hub is posted to over AMQP") == true)
            remote.removeAll { $0.0 == "namespaceaddress" }
            remote.append(("namespaceaddress", .string("sb://contoso.servicebus.windows.net/")))
            _ = try await h.createEndpoint(remote)
            // The embedded bus on its own port is this server; another port is another server.
            var local = h.queueEndpoint("orders", format: .binary)
            local.removeAll { $0.0 == "namespaceaddress" }
            local.append(("namespaceaddress", .string("http://127.0.0.1:8080/")))
            _ = try await h.createEndpoint(local)
            local.removeAll { $0.0 == "namespaceaddress" }
            local.append(("namespaceaddress", .string("http://127.0.0.1:8081/")))
            await #expect(throws: PlatformError.self) { _ = try await h.createEndpoint(local) }
        }
    }

    @Test("A connection string (authtype 7) fills in the address, key name and path, and must agree with them")
    func connectionString() async throws {
        try await EndpointHarness.run(.sqliteMemory) { h in
            let text =
                "Endpoint=sb://localhost/;SharedAccessKeyName=\(h.root.keyName);SharedAccessKey=\(h.root.primaryKey);EntityPath=orders"
            let id = try await h.createEndpoint([
                ("name", .string("by connection string")), ("contract", .optionSetValue(OptionSetValue(6))),
                ("authtype", .optionSetValue(OptionSetValue(7))), ("messageformat", .optionSetValue(OptionSetValue(2))),
                ("authvalue", .string(text)),
            ])
            let row = try await h.service.retrieve(EntityReference(logicalName: "serviceendpoint", id: id))
            #expect(row.attributes["path"] == .string("orders"))
            #expect(row.attributes["namespaceaddress"] == .string("sb://localhost/"))
            #expect(row.attributes["saskeyname"] == .string(h.root.keyName))
            #expect(row.attributes["authvalue"] == nil)
            #expect(row.attributes["isauthvalueset"] == .boolean(true))
            let error = await #expect(throws: PlatformError.self) {
                _ = try await h.createEndpoint([
                    ("name", .string("mismatch")), ("contract", .optionSetValue(OptionSetValue(6))),
                    ("authtype", .optionSetValue(OptionSetValue(7))), ("path", .string("other")),
                    ("authvalue", .string(text)),
                ])
            }
            #expect(error?.message.contains("EntityPath 'orders' differs from the endpoint's path 'other'") == true)
            let garbage = await #expect(throws: PlatformError.self) {
                _ = try await h.createEndpoint([
                    ("name", .string("garbage")), ("contract", .optionSetValue(OptionSetValue(6))),
                    ("authtype", .optionSetValue(OptionSetValue(7))), ("authvalue", .string("no pairs here")),
                ])
            }
            #expect(garbage?.message.contains("is not a connection string") == true)
        }
    }

    @Test("An Update is checked against the whole row, and deleting an endpoint deletes its steps")
    func updateAndCascade() async throws {
        try await EndpointHarness.run(.sqliteMemory) { h in
            let id = try await h.createEndpoint(h.queueEndpoint("orders"))
            var change = Entity(logicalName: "serviceendpoint", id: id)
            change.attributes["contract"] = .optionSetValue(OptionSetValue(7))
            change.attributes["messageformat"] = .optionSetValue(OptionSetValue(1))
            await #expect(throws: PlatformError.self) { try await h.service.update(change) }
            let step = try await h.registerEndpointStep(id)
            try await h.service.delete(EntityReference(logicalName: "serviceendpoint", id: id))
            let gone = try await h.service.retrieveIfExists(
                EntityReference(logicalName: "sdkmessageprocessingstep", id: step)
            )
            #expect(gone == nil)
        }
    }
}
