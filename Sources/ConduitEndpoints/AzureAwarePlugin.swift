import ConduitContext
import ConduitPlatform
import Foundation

/// A custom Azure-aware plug-in, as Dataverse's sample writes one: it posts the step's execution context to the
/// service endpoint named in its configuration through `IServiceEndpointNotificationService.execute`, and uses the
/// answer of a two-way or REST listener. Register it with ``typeName`` and a step whose unsecure configuration is
/// the `serviceendpointid`, optionally followed by `;column`: then, in a synchronous pre-operation step (stage 20),
/// the answer is written into that column of the record being saved.
///
/// In a synchronous step a failed post is the operation's error (it rolls back); in an asynchronous step a failed
/// post makes the system job retry, which runs the whole plug-in again. The answer is also kept in the shared
/// variable `ServiceEndpointAnswer` and traced.
public struct AzureAwarePlugin: Plugin {
    /// The plug-in type name it is registered under by `conduit serve`.
    public static let typeName = "Conduit.Samples.AzureAwarePlugin"

    let endpoint: Guid
    let column: String?

    public init(configuration: String?, secureConfiguration: String?) throws {
        let parts = (configuration ?? "").split(separator: ";", maxSplits: 1).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        guard let first = parts.first, let id = Guid(first) else {
            // Dataverse's sample says the same.
            throw InvalidPluginExecutionError(
                "Service endpoint ID should be passed as config (the serviceendpointid, optionally ';column')."
            )
        }
        endpoint = id
        column = parts.count > 1 && !parts[1].isEmpty ? parts[1] : nil
    }

    public func execute(_ context: inout RemoteExecutionContext, services: PluginServices) async throws {
        let answer = try await services.notificationService.execute(
            EntityReference(logicalName: "serviceendpoint", id: endpoint),
            context: context
        )
        services.tracing.trace("The service endpoint \(endpoint) answered: \(answer ?? "(nothing)")")
        guard let answer else { return }
        context.sharedVariables["ServiceEndpointAnswer"] = .string(answer)
        if let column, context.stage <= 20, case .entity(var target)? = context.inputParameters["Target"] {
            target.attributes[column] = .string(answer)
            context.inputParameters["Target"] = .entity(target)
        }
    }
}
