import ArgumentParser
import ConduitPlatform
import ConduitStore
import Foundation

extension BenchCommand {
    /// `conduit bench sandbox`: what running a plug-in in the WebAssembly sandbox costs.
    struct Sandbox: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sandboxed plug-in executions per second, and the overhead per call over a compiled-in plug-in.",
            discussion: """
                Runs a trivial sandboxed plug-in (a WebAssembly module whose function returns success at once) \
                --iterations times from --concurrency tasks, then a compiled-in plug-in that does nothing, the same \
                way, both called directly with the context of a contact's Create (no pipeline, no database). A \
                sandboxed execution serializes the context to JSON, instantiates the module in a new store with its \
                fuel budget and memory cap, copies the context and configuration in, and calls the function on a \
                thread of its own. Last, it times an endless loop until it has spent its fuel budget: the longest a \
                guest computes without calling a host function (each call checks the deadline).
                """
        )

        @Option(help: "Executions of each plug-in.") var iterations = 5_000
        @Option(help: "Tasks running executions at once.") var concurrency = 2

        func validate() throws {
            guard iterations > 0, concurrency > 0 else {
                throw ValidationError("--iterations and --concurrency must be positive.")
            }
        }

        func run() async throws {
            let iterations = self.iterations
            let concurrency = self.concurrency
            try await BenchCommand.withSetup(database: nil) { setup in
                try await withStore(StoreConfiguration(backend: setup.backend), logger: setup.logger) { store in
                    let platform = try await Platform.open(store: store, logger: setup.logger)
                    let figures = try await SandboxBenchmark.run(
                        platform: platform,
                        iterations: iterations,
                        concurrency: concurrency
                    )
                    print(
                        """
                        Sandboxed plug-in (WasmKit) beside a compiled-in one, \(figures.iterations) executions each, \
                        \(figures.concurrency) at a time:
                          sandboxed:  \(String(format: "%.0f", figures.sandboxedPerSecond)) executions/s \
                        (\(String(format: "%.1f", figures.sandboxedMicroseconds)) µs each)
                          compiled:   \(String(format: "%.0f", figures.compiledPerSecond)) executions/s \
                        (\(String(format: "%.2f", figures.compiledMicroseconds)) µs each)
                          overhead:   \(String(format: "%.1f", figures.overheadMicroseconds)) µs per call
                        An endless loop spends the fuel budget (\(platform.sandboxLimits.fuel) units) in \
                        \(String(format: "%.2f", figures.fuelBudgetSeconds)) s.
                        """
                    )
                }
            }
        }
    }
}
