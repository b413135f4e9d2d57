import ConduitContext
import Foundation

/// The cost of running a plug-in in the sandbox: executions per second of a trivial sandboxed plug-in (it returns
/// success at once) beside the same do-nothing logic compiled in, called directly (no pipeline, no database), with
/// the context of a contact's Create (`conduit bench sandbox`).
public enum SandboxBenchmark {
    /// What a run measured.
    public struct Figures: Sendable {
        public var iterations: Int
        public var concurrency: Int
        /// Sandboxed executions per second.
        public var sandboxedPerSecond: Double
        /// Compiled-in executions per second.
        public var compiledPerSecond: Double
        /// Mean time of one sandboxed execution and of one compiled one, in microseconds.
        public var sandboxedMicroseconds: Double
        public var compiledMicroseconds: Double
        /// The sandbox's cost per call over the compiled plug-in, in microseconds.
        public var overheadMicroseconds: Double { sandboxedMicroseconds - compiledMicroseconds }
        /// Seconds an endless loop runs before it has spent the fuel budget (the longest a guest computes between
        /// two host calls, which the deadline checks).
        public var fuelBudgetSeconds: Double
    }

    /// A guest in WAT with the ABI's `memory` (256 KB) and a bump `alloc` (from 16 KB up), the `imports` given, data
    /// segments at fixed offsets (below 16 KB), and the export `run` doing `body`.
    public static func module(
        imports: String = "",
        data: [(offset: Int, text: String)] = [],
        run body: String
    )
        -> String
    {
        let segments = data.map { segment in
            let escaped = segment.text.replacingOccurrences(of: "\\", with: "\\\\")
                .replacingOccurrences(of: "\"", with: "\\\"")
            return "(data (i32.const \(segment.offset)) \"\(escaped)\")"
        }
        return """
            (module
              \(imports)
              (memory (export "memory") 4)
              (global $next (mut i32) (i32.const 16384))
              (func (export "alloc") (param $size i32) (result i32)
                (local $p i32)
                (local.set $p (global.get $next))
                (global.set $next (i32.add (global.get $next) (local.get $size)))
                (local.get $p))
              \(segments.joined(separator: "\n  "))
              (func (export "run") (param i32 i32 i32 i32) (result i32) \(body))
            )
            """
    }

    /// The trivial guest: `run` returns 0.
    public static let trivialModule = module(run: "(i32.const 0)")

    private struct Trivial: Plugin {
        init(configuration: String?, secureConfiguration: String?) {}
        func execute(_ context: inout RemoteExecutionContext, services: PluginServices) async throws {}
    }

    /// Runs `iterations` executions of each, from `concurrency` tasks at once.
    public static func run(platform: Platform, iterations: Int, concurrency: Int) async throws -> Figures {
        let module = try SandboxABI.parse(Array(trivialModule.utf8), assembly: "benchmark")
        let sandboxed = SandboxedPlugin(
            module: module,
            typeName: "run",
            assemblyName: "benchmark",
            limits: platform.sandboxLimits,
            configuration: nil
        )
        var context = RemoteExecutionContext()
        context.messageName = "Create"
        context.primaryEntityName = "contact"
        context.primaryEntityId = Guid.random()
        context.stage = 20
        context.inputParameters = [
            (
                "Target",
                .entity(
                    Entity(
                        logicalName: "contact",
                        attributes: [
                            ("firstname", .string("Ada")), ("lastname", .string("Lovelace")),
                            ("emailaddress1", .string("ada@example.com")),
                        ]
                    )
                )
            )
        ]
        let services = PluginServices(
            platform: platform,
            caller: Caller(
                userId: platform.administratorId,
                initiatingUserId: platform.administratorId,
                depth: 2,
                correlationId: nil,
                transaction: nil,
                parent: nil,
                userAgent: nil
            )
        )
        let base = context
        func measure(_ plugin: any Plugin) async throws -> Duration {
            // A few runs first, so that neither side pays a first call's costs in the figure.
            for _ in 0..<min(50, iterations) {
                var context = base
                try await plugin.execute(&context, services: services)
            }
            let clock = ContinuousClock()
            let start = clock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<concurrency {
                    group.addTask {
                        for _ in stride(from: worker, to: iterations, by: concurrency) {
                            var context = base
                            try await plugin.execute(&context, services: services)
                        }
                    }
                }
                try await group.waitForAll()
            }
            return clock.now - start
        }
        let sandboxTime = try await measure(sandboxed)
        let compiledTime = try await measure(Trivial(configuration: nil, secureConfiguration: nil))
        func seconds(_ duration: Duration) -> Double {
            Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        }
        let endless = SandboxedPlugin(
            module: try SandboxABI.parse(
                Array(Self.module(run: "(loop $forever (br $forever)) (i32.const 0)").utf8),
                assembly: "benchmark"
            ),
            typeName: "run",
            assemblyName: "benchmark",
            limits: platform.sandboxLimits,
            configuration: nil
        )
        let loopStart = ContinuousClock.now
        var loopContext = base
        do {
            try await endless.execute(&loopContext, services: services)
            throw PlatformError(.unexpected, "An endless loop ended without spending its fuel budget.")
        } catch let error as PlatformError where error.message.contains("whole execution budget") {}
        let loopTime = ContinuousClock.now - loopStart
        let count = Double(iterations)
        return Figures(
            iterations: iterations,
            concurrency: concurrency,
            sandboxedPerSecond: count / seconds(sandboxTime),
            compiledPerSecond: count / seconds(compiledTime),
            sandboxedMicroseconds: seconds(sandboxTime) * 1e6 * Double(concurrency) / count,
            compiledMicroseconds: seconds(compiledTime) * 1e6 * Double(concurrency) / count,
            fuelBudgetSeconds: seconds(loopTime)
        )
    }
}
