import ConduitContext
import Foundation

/// Background workflows on the platform: the rules every `workflow` row is checked with, and the activation that
/// turns an activated workflow into steps (one per trigger: Create, Update of its attributes, Delete) whose plug-in
/// is the ``WorkflowRunner``. Deactivating or deleting the workflow removes its steps.
enum WorkflowActivation {
    /// The plug-in type of the synchronous steps on `workflow` that keep the workflows' steps in line.
    static let typeName = "Conduit.Workflows.WorkflowActivation"

    /// Installs the rules, the runner and the activation steps (made once, on first start).
    static func install(on platform: Platform) async throws {
        platform.plugins.register(typeName: WorkflowRunner.typeName) { [platform] configuration, _ in
            try WorkflowRunner(workflowId: configuration, platform: platform)
        }
        try await platform.ensurePluginTypeRow(typeName: WorkflowRunner.typeName, friendlyName: "Background workflow")
        let activation = try await platform.registerPluginType(
            ActivationPlugin.self,
            typeName: typeName,
            friendlyName: "Workflow activation"
        )
        platform.addRule(table: "workflow") { [platform] target, current, _, _ in
            try check(&target, current: current, platform: platform)
        }
        let system = platform.organizationService(userId: platform.organization.systemUserId)
        for (message, stage) in [("Create", Int32(40)), ("Update", 40), ("Delete", 20)] {
            let name = "Workflow activation: \(message) of workflow"
            let existing = try await system.retrieveMultiple(
                QueryExpression(
                    entityName: "sdkmessageprocessingstep",
                    columnSet: .columns(["name"]),
                    criteria: FilterExpression(conditions: [ConditionExpression("name", .equal, [.string(name)])])
                )
            )
            guard existing.entities.isEmpty else { continue }
            try await system.registerStep(
                name,
                message: message,
                table: "workflow",
                stage: stage,
                mode: 0,
                pluginType: activation
            )
        }
    }

    /// The rules of a `workflow` row: background workflows only; a definition that parses and checks against its
    /// table and the custom activities; defaults as Dataverse's (a Definition, category Workflow, Background,
    /// scope User, Draft).
    static func check(_ target: inout Entity, current: Entity?, platform: Platform) throws {
        if current == nil {
            let defaults: [(String, ContextValue)] = [
                ("type", .optionSetValue(OptionSetValue(1))), ("category", .optionSetValue(OptionSetValue(0))),
                ("mode", .optionSetValue(OptionSetValue(0))), ("scope", .optionSetValue(OptionSetValue(1))),
                ("statecode", .optionSetValue(OptionSetValue(0))), ("statuscode", .optionSetValue(OptionSetValue(1))),
            ]
            for (name, value) in defaults where target.attributes[name] == nil || target.attributes[name] == .null {
                target.attributes[name] = value
            }
        }
        // A new statecode alone brings its statuscode (Draft 1, Activated 2).
        if let state = target.attributes["statecode"]?.optionValue, target.attributes["statuscode"] == nil {
            target.attributes["statuscode"] = .optionSetValue(OptionSetValue(state == 1 ? 2 : 1))
        }
        var merged = current ?? Entity(logicalName: "workflow", id: target.id)
        for entry in target.attributes.entries { merged.attributes[entry.key] = entry.value }
        let name: String
        if case .string(let text)? = merged.attributes["name"] { name = text } else { name = "the workflow" }
        func refuse(_ reason: String) -> PlatformError {
            PlatformError(.invalidArgument, "The workflow '\(name)' cannot be saved: \(reason)")
        }
        let category = merged.attributes["category"]?.optionValue ?? 0
        guard category == 0 else {
            throw refuse("only category 0 (Workflow) runs in Conduit; category \(category) is not built yet.")
        }
        guard (merged.attributes["mode"]?.optionValue ?? 0) == 0 else {
            throw refuse("mode 1 (Real-time) is not built yet; use 0 (Background).")
        }
        guard (merged.attributes["type"]?.optionValue ?? 1) == 1 else {
            throw refuse("only type 1 (Definition) rows are written by hand; activations are Conduit's.")
        }
        let activating = (merged.attributes["statecode"]?.optionValue ?? 0) == 1
        let state = merged.attributes["statecode"]?.optionValue ?? 0
        let status = merged.attributes["statuscode"]?.optionValue ?? (state == 1 ? 2 : 1)
        guard (state == 0 && status == 1) || (state == 1 && status == 2) else {
            throw refuse("statecode \(state) goes with statuscode \(state == 0 ? 1 : 2), not \(status).")
        }
        guard case .string(let tableName)? = merged.attributes["primaryentity"], !tableName.isEmpty else {
            throw refuse("it needs primaryentity, the logical name of the table it runs on.")
        }
        guard let table = platform.metadata.entity(tableName) else {
            throw refuse("there is no table '\(tableName)' (primaryentity).")
        }
        let updateColumns = updateAttributes(merged)
        for column in updateColumns where table.attribute(column) == nil {
            throw refuse("'\(tableName)' has no column '\(column)' (triggeronupdateattributelist).")
        }
        var definition: WorkflowDefinition?
        if case .string(let text)? = merged.attributes["clientdata"], !text.isEmpty {
            do {
                let parsed = try WorkflowDefinition(json: text)
                var checker = WorkflowChecker(
                    catalog: platform.metadata,
                    activities: platform.workflowActivities,
                    table: table
                )
                try checker.check(parsed.activities, at: "activities")
                definition = parsed
            } catch {
                throw refuse(error.message)
            }
        }
        guard activating else { return }
        guard definition != nil else {
            throw refuse("it cannot be activated without a definition (clientdata; docs/workflows.md).")
        }
        let triggers =
            merged.attributes["triggeroncreate"] == .boolean(true)
            || merged.attributes["triggerondelete"] == .boolean(true)
            || !updateColumns.isEmpty
        guard triggers else {
            throw refuse(
                "it cannot be activated without a trigger: triggeroncreate, triggerondelete or triggeronupdateattributelist."
            )
        }
    }

    /// The columns whose update starts the workflow (`triggeronupdateattributelist`).
    static func updateAttributes(_ workflow: Entity) -> [String] {
        guard case .string(let text)? = workflow.attributes["triggeronupdateattributelist"] else { return [] }
        return text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter {
            !$0.isEmpty
        }
    }

    /// Keeps an activated workflow's steps in line with it, in the transaction that changes it.
    struct ActivationPlugin: Plugin {
        init(configuration: String?, secureConfiguration: String?) {}

        func execute(_ context: inout RemoteExecutionContext, services: PluginServices) async throws {
            let id = context.primaryEntityId
            let service = services.organizationService
            // Today's steps of this workflow go; an active workflow gets them again, as it now is.
            let steps = try await service.retrieveMultiple(
                QueryExpression(
                    entityName: "sdkmessageprocessingstep",
                    columnSet: .columns(["name"]),
                    criteria: FilterExpression(conditions: [
                        ConditionExpression("configuration", .equal, [.string(id.description)])
                    ])
                )
            )
            for step in steps.entities {
                try await service.delete(EntityReference(logicalName: "sdkmessageprocessingstep", id: step.id))
            }
            guard context.messageName != "Delete",
                let workflow = try await service.retrieveIfExists(EntityReference(logicalName: "workflow", id: id)),
                workflow.attributes["statecode"]?.optionValue == 1,
                case .string(let table)? = workflow.attributes["primaryentity"]
            else { return }
            var owner: Guid?
            if case .entityReference(let reference)? = workflow.attributes["ownerid"] { owner = reference.id }
            let name: String
            if case .string(let text)? = workflow.attributes["name"] { name = text } else { name = "Workflow \(id)" }
            let runner = NameBasedGuid.make("plugintype:" + WorkflowRunner.typeName)
            var triggers: [(message: String, filtering: String?)] = []
            if workflow.attributes["triggeroncreate"] == .boolean(true) { triggers.append(("Create", nil)) }
            let update = WorkflowActivation.updateAttributes(workflow)
            if !update.isEmpty { triggers.append(("Update", update.joined(separator: ","))) }
            if workflow.attributes["triggerondelete"] == .boolean(true) { triggers.append(("Delete", nil)) }
            for trigger in triggers {
                try await service.registerStep(
                    name,
                    message: trigger.message,
                    table: table,
                    stage: 40,
                    mode: 1,
                    handler: EntityReference(logicalName: "plugintype", id: runner),
                    configuration: id.description,
                    filteringAttributes: trigger.filtering,
                    images: trigger.message == "Delete" ? [StepImage(type: 0, alias: "record")] : [],
                    impersonatingUserId: owner,
                    asyncAutoDelete: workflow.attributes["asyncautodelete"] == .boolean(true)
                )
            }
        }
    }
}
