import ConduitContext
import ConduitPlatform
import ConduitTestSupport
import Foundation
import HTTPTypes
import Testing

/// A synchronous plug-in that fails answers the Web API with its trace as `@Microsoft.PowerApps.CDS.TraceText`.
@Suite("plug-in trace in Web API errors")
struct PluginTraceTextTests {
    @Test(
        "a sandboxed plug-in uploaded through the Web API traces, refuses a create, and the error carries its trace",
        arguments: TestBackend.available
    )
    func traceText(_ backend: TestBackend) async throws {
        try await ServerHarness.run(backend) { h in
            let line = "checking the last name"
            let message = "Contacts need a first name here."
            let wat = SandboxBenchmark.module(
                imports: """
                    (import "conduit" "trace" (func $trace (param i32 i32)))
                    (import "conduit" "fail" (func $fail (param i32 i32)))
                    """,
                data: [(0, line), (100, message)],
                run: """
                    (call $trace (i32.const 0) (i32.const \(line.utf8.count)))
                    (call $fail (i32.const 100) (i32.const \(message.utf8.count)))
                    (i32.const 1)
                    """
            )
            let content = Data(wat.utf8).base64EncodedString()
            let assembly = try await h.send(
                .post,
                "pluginassemblies",
                body: #"{"name":"Refuser","content":"\#(content)"}"#,
                headers: ["Prefer": "return=representation"]
            )
            let assemblyId = try #require(assembly.json["pluginassemblyid"] as? String, "\(assembly.body)")
            let type = try await h.send(
                .post,
                "plugintypes",
                body:
                    #"{"name":"Refuser.run","typename":"run","pluginassemblyid@odata.bind":"/pluginassemblies(\#(assemblyId))"}"#,
                headers: ["Prefer": "return=representation"]
            )
            let typeId = try #require(type.json["plugintypeid"] as? String, "\(type.body)")
            let filter = Platform.messageFilterId(message: "Create", table: "contact")
            let step = try await h.send(
                .post,
                "sdkmessageprocessingsteps",
                body:
                    #"{"name":"Refuse contacts","stage":20,"mode":0,"rank":1,"sdkmessageid@odata.bind":"/sdkmessages(\#(Platform.messageId("Create")))","sdkmessagefilterid@odata.bind":"/sdkmessagefilters(\#(filter))","eventhandler_plugintype@odata.bind":"/plugintypes(\#(typeId))"}"#
            )
            #expect(step.status == .noContent, "\(step.body)")
            let refused = try await h.send(.post, "contacts", body: #"{"lastname":"Byron"}"#)
            #expect(refused.status == .badRequest, "\(refused.body)")
            #expect(refused.errorMessage == message)
            let error = try #require(refused.json["error"] as? [String: Any])
            let trace = error["@Microsoft.PowerApps.CDS.TraceText"] as? String
            #expect(trace?.contains("[run]\r\n[") == true, "\(refused.body)")
            #expect(trace?.contains(": Refuse contacts]\r\n\r\n\(line)\r\n") == true, "\(refused.body)")
            // A refusal that is not a plug-in's has no trace.
            let bad = try await h.send(.post, "contacts", body: #"{"nosuchcolumn":1}"#)
            #expect(bad.status == .badRequest)
            #expect((bad.json["error"] as? [String: Any])?["@Microsoft.PowerApps.CDS.TraceText"] == nil, "\(bad.body)")
        }
    }
}
