import ArgumentParser
import ConduitListener
import Foundation

/// The `conduit` command line.
@main
struct Conduit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conduit",
        abstract: "Conduit: Dataverse-style service endpoints, self-hosted.",
        discussion: """
            Built so far: 'conduit serve' (the Web API, the organization service, the event pipeline, the \
            asynchronous service and the embedded bus), 'conduit listen' (receive posted contexts), 'conduit endpoint' \
            (service endpoints), 'conduit step' (steps on endpoints and plug-in types), 'conduit plugin' \
            (sandboxed plug-in assemblies), 'conduit bus' (queues, topics, subscriptions, rules, event hubs, relays, \
            dead letters), 'conduit jobs' (system jobs), 'conduit workflow' (background workflows), 'conduit \
            context' (convert and inspect execution contexts in the three Dataverse wire formats) and 'conduit \
            bench'. What is not built yet is listed in README.md.
            """,
        subcommands: [
            ServeCommand.self, ListenCommand.self, EndpointCommand.self, StepCommand.self, PluginCommand.self,
            BusCommand.self, JobsCommand.self, WorkflowCommand.self, ContextCommand.self,
            BenchCommand.self,
        ]
    )

    /// Runs the command; input problems print one line on standard error and exit with code 2.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let failure as CommandFailure {
            FileHandle.standardError.write(Data("conduit: \(failure.description)\n".utf8))
            Foundation.exit(2)
        } catch let failure as ListenerError {
            FileHandle.standardError.write(Data("conduit: \(failure.message)\n".utf8))
            Foundation.exit(2)
        } catch {
            Self.exit(withError: error)
        }
    }
}
