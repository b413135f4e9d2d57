import ConduitContext
import ConduitStore
import Foundation
import SQLKit

/// Runs a background workflow as the plug-in of the steps its activation registered: one system job
/// (`operationtype` 10) per triggering operation. It reads the workflow and its record, checks the scope, and walks
/// the activities. After each activity with an effect it saves how far it got in the job
/// (`conduit_workflowstate`: activities done, branches taken, variables), so that a retry after a failed post or an
/// activity's ``ExternalServiceError`` starts again where it stopped instead of redoing what was done.
struct WorkflowRunner: Plugin {
    static let typeName = "Conduit.Workflows.WorkflowRunner"

    let workflowId: Guid
    let platform: Platform

    init(configuration: String?, secureConfiguration: String?) throws {
        throw InvalidPluginExecutionError("The workflow runner is made by the platform.")
    }

    init(workflowId: String?, platform: Platform) throws {
        guard let workflowId, let id = Guid(workflowId) else {
            throw InvalidPluginExecutionError("The workflow's step has no workflow id in its configuration.")
        }
        self.workflowId = id
        self.platform = platform
    }

    /// How far a job got.
    struct Progress: Codable, Sendable {
        /// Activities with an effect already done.
        var executed = 0
        /// The outcomes of the conditions met so far, in order.
        var branches: [Bool] = []
        /// The variables (custom activities' outputs) as a context's shared variables, in JSON.
        var variables: String?
    }

    func execute(_ context: inout RemoteExecutionContext, services: PluginServices) async throws {
        let system = platform.organizationService(userId: platform.organization.systemUserId)
        guard
            let workflow = try await system.retrieveIfExists(EntityReference(logicalName: "workflow", id: workflowId))
        else {
            throw InvalidPluginExecutionError("The workflow \(workflowId) was deleted; its job cannot run.")
        }
        guard case .string(let text)? = workflow.attributes["clientdata"],
            let table = platform.metadata.entity(context.primaryEntityName ?? "")
        else {
            throw InvalidPluginExecutionError("The workflow \(workflowId) has no definition (clientdata).")
        }
        let definition: WorkflowDefinition
        do {
            definition = try WorkflowDefinition(json: text)
        } catch {
            throw InvalidPluginExecutionError("The workflow's definition cannot be read: \(error.message)")
        }
        let record = try await self.record(context, table: table, services: services)
        guard try await inScope(record, workflow: workflow, system: system) else { return }
        var run = WorkflowRun(
            runner: self,
            context: context,
            services: services,
            table: table,
            record: record,
            progress: try await progress(of: context.operationId)
        )
        try await run.walk(definition.activities)
    }

    /// The workflow's record: as it is now, or, for Delete, as it was (the step's pre-image).
    private func record(
        _ context: RemoteExecutionContext,
        table: EntityMetadata,
        services: PluginServices
    ) async throws -> Entity {
        let reference = EntityReference(logicalName: table.logicalName, id: context.primaryEntityId)
        if context.messageName == "Delete" {
            return context.preEntityImages["record"] ?? Entity(logicalName: table.logicalName, id: reference.id)
        }
        guard let row = try await services.organizationService.retrieveIfExists(reference) else {
            throw InvalidPluginExecutionError(
                "The \(table.logicalName) \(reference.id) the workflow runs on does not exist any more."
            )
        }
        return row
    }

    /// Whether the record is in the workflow's scope: owned by the workflow's owner (1 User), by a user of the
    /// owner's business unit (2), of it or a unit below it (3), or anyone's (4 Organization).
    private func inScope(_ record: Entity, workflow: Entity, system: OrganizationService) async throws -> Bool {
        let scope = workflow.attributes["scope"]?.optionValue ?? 1
        guard scope != 4 else { return true }
        guard case .entityReference(let owner)? = workflow.attributes["ownerid"],
            case .entityReference(let recordOwner)? = record.attributes["ownerid"]
        else { return scope == 4 }
        if scope == 1 { return owner.id == recordOwner.id }
        func unit(of user: Guid) async throws -> Guid? {
            let row = try await system.retrieveIfExists(
                EntityReference(logicalName: "systemuser", id: user),
                columns: .columns(["businessunitid"])
            )
            guard case .entityReference(let unit)? = row?.attributes["businessunitid"] else { return nil }
            return unit.id
        }
        guard let home = try await unit(of: owner.id), var current = try await unit(of: recordOwner.id) else {
            return false
        }
        if scope == 2 { return home == current }
        // 3: the unit or one below it.
        for _ in 0..<32 {
            if current == home { return true }
            let row = try await system.retrieveIfExists(
                EntityReference(logicalName: "businessunit", id: current),
                columns: .columns(["parentbusinessunitid"])
            )
            guard case .entityReference(let parent)? = row?.attributes["parentbusinessunitid"] else { return false }
            current = parent.id
        }
        return false
    }

    /// The job's saved progress (none on its first run).
    func progress(of job: Guid) async throws -> Progress {
        let text = try await platform.store.withDatabase { db in
            try await db.raw(
                "SELECT conduit_workflowstate FROM asyncoperation WHERE asyncoperationid = \(bind: job.description)"
            ).first()?.decode(column: "conduit_workflowstate", as: String?.self)
        }
        guard let text, let data = text.data(using: .utf8) else { return Progress() }
        return (try? JSONDecoder().decode(Progress.self, from: data)) ?? Progress()
    }

    /// Saves the job's progress.
    func save(_ progress: Progress, job: Guid) async throws {
        let text = String(decoding: try JSONEncoder().encode(progress), as: UTF8.self)
        try await platform.store.transaction { db in
            try await db.raw(
                "UPDATE asyncoperation SET conduit_workflowstate = \(bind: text) WHERE asyncoperationid = \(bind: job.description)"
            ).run()
        }
    }
}

/// One run of a workflow's activities.
struct WorkflowRun {
    let runner: WorkflowRunner
    let context: RemoteExecutionContext
    let services: PluginServices
    let table: EntityMetadata
    var record: Entity
    var progress: WorkflowRunner.Progress
    /// Activities with an effect met so far in this walk, and conditions met.
    private var seenActions = 0
    private var seenConditions = 0
    private var variables: [String: ContextValue]
    private var stopped = false

    init(
        runner: WorkflowRunner,
        context: RemoteExecutionContext,
        services: PluginServices,
        table: EntityMetadata,
        record: Entity,
        progress: WorkflowRunner.Progress
    ) {
        self.runner = runner
        self.context = context
        self.services = services
        self.table = table
        self.record = record
        self.progress = progress
        var saved: [String: ContextValue] = [:]
        if let text = progress.variables,
            let decoded = try? ContextCodec.decode(Array(text.utf8), format: .json)
        {
            for entry in decoded.sharedVariables.entries { saved[entry.key] = entry.value }
        }
        self.variables = saved
    }

    mutating func walk(_ steps: [WorkflowStep]) async throws {
        for step in steps {
            if stopped { return }
            try await run(step)
        }
    }

    private mutating func run(_ step: WorkflowStep) async throws {
        if case .condition(let condition, let then, let otherwise) = step {
            let holds: Bool
            if seenConditions < progress.branches.count {
                holds = progress.branches[seenConditions]
            } else {
                holds = try evaluate(condition)
                progress.branches.append(holds)
                try await runner.save(progress, job: context.operationId)
            }
            seenConditions += 1
            try await walk(holds ? then : otherwise)
            return
        }
        if case .stop(let succeeded, let message) = step {
            stopped = true
            guard succeeded else {
                throw InvalidPluginExecutionError(message ?? "The workflow stopped as failed.")
            }
            return
        }
        // An activity with an effect: skipped when an earlier run of this job did it.
        defer { seenActions += 1 }
        guard seenActions >= progress.executed else { return }
        try await perform(step)
        progress.executed = seenActions + 1
        progress.variables = encodedVariables()
        try await runner.save(progress, job: context.operationId)
    }

    private mutating func perform(_ step: WorkflowStep) async throws {
        switch step {
        case .update(let attributes):
            var row = Entity(logicalName: table.logicalName, id: record.id)
            for (name, value) in attributes.sorted(by: { $0.key < $1.key }) {
                row.attributes[name] = try self.value(
                    value,
                    as: WorkflowArgumentType(column: table.attribute(name)?.type ?? .string)
                )
            }
            try await services.organizationService.update(row)
            for entry in row.attributes.entries { record.attributes[entry.key] = entry.value }
        case .create(let name, let attributes):
            guard let target = runner.platform.metadata.entity(name) else {
                throw InvalidPluginExecutionError("There is no table '\(name)' to create a row in.")
            }
            var row = Entity(logicalName: name)
            for (column, value) in attributes.sorted(by: { $0.key < $1.key }) {
                row.attributes[column] = try self.value(
                    value,
                    as: WorkflowArgumentType(column: target.attribute(column)?.type ?? .string)
                )
            }
            _ = try await services.organizationService.create(row)
        case .post(let endpoint, let answer):
            let reply = try await services.notificationService.execute(
                EntityReference(logicalName: "serviceendpoint", id: endpoint),
                context: context
            )
            if let answer { variables[answer] = reply.map { .string($0) } ?? .null }
        case .custom(let name, let inputs, let outputs):
            guard let entry = runner.platform.workflowActivities.entry(name) else {
                throw InvalidPluginExecutionError("No custom activity '\(name)' is compiled into this server.")
            }
            var given: [String: ContextValue] = [:]
            for argument in entry.inputs {
                guard let source = inputs[argument.name] else { continue }
                let value = try self.value(source, as: argument.type)
                guard argument.type.accepts(value) else {
                    throw InvalidPluginExecutionError(
                        "The input '\(argument.name)' of '\(name)' must be a \(argument.type.rawValue)."
                    )
                }
                if argument.isRequired, value == .null {
                    throw InvalidPluginExecutionError(
                        "The required input '\(argument.name)' of '\(name)' has no value for this record."
                    )
                }
                given[argument.name] = value
            }
            let produced = try await entry.make().execute(
                given,
                context: WorkflowActivityContext(context: context, services: services)
            )
            for (output, variable) in outputs {
                guard let declared = entry.outputs.first(where: { $0.name == output }) else { continue }
                let value = produced[output] ?? .null
                guard declared.type.accepts(value) else {
                    throw InvalidPluginExecutionError(
                        "The custom activity '\(name)' returned a value of the wrong type for its \(declared.type.rawValue) output '\(output)'."
                    )
                }
                variables[variable] = value
            }
        case .condition, .stop:
            break
        }
    }

    /// A value of the definition, for this record and these variables.
    private func value(_ value: WorkflowValue, as type: WorkflowArgumentType?) throws -> ContextValue {
        switch value {
        case .literal(let json):
            do {
                return try WorkflowChecker.literal(json, as: type ?? .string, at: "value")
            } catch {
                throw InvalidPluginExecutionError(error.message)
            }
        case .attribute(let name): return record.attributes[name] ?? .null
        case .variable(let name): return variables[name] ?? .null
        case .record: return .entityReference(EntityReference(logicalName: table.logicalName, id: record.id))
        }
    }

    private func evaluate(_ condition: WorkflowCondition) throws -> Bool {
        switch condition {
        case .all(let conditions): return try conditions.allSatisfy { try evaluate($0) }
        case .any(let conditions): return try conditions.contains { try evaluate($0) }
        case .compare(let subject, let op, let operand):
            let left: ContextValue
            let type: WorkflowArgumentType?
            switch subject {
            case .attribute(let name):
                left = record.attributes[name] ?? .null
                type = table.attribute(name).flatMap { WorkflowArgumentType(column: $0.type) }
            default:
                left = try value(subject, as: nil)
                type = nil
            }
            let right = try operand.map { try value($0, as: type ?? Self.type(of: left)) } ?? .null
            return WorkflowComparison.holds(left, op, right)
        }
    }

    private static func type(of value: ContextValue) -> WorkflowArgumentType? {
        WorkflowArgumentType.allCases.first { $0.accepts(value) && value != .null }
    }

    private func encodedVariables() -> String {
        var holder = RemoteExecutionContext()
        for (name, value) in variables.sorted(by: { $0.key < $1.key }) { holder.sharedVariables[name] = value }
        return String(decoding: ContextCodec.encode(holder, format: .json), as: UTF8.self)
    }
}

/// The comparisons of conditions.
enum WorkflowComparison {
    static func holds(_ left: ContextValue, _ op: WorkflowOperator, _ right: ContextValue) -> Bool {
        switch op {
        case .null: return left == .null
        case .notnull: return left != .null
        case .eq: return key(left) == key(right)
        case .ne: return key(left) != key(right)
        case .contains, .beginswith, .endswith:
            guard case .string(let text) = left, case .string(let part) = right else { return false }
            let a = text.lowercased()
            let b = part.lowercased()
            return op == .contains ? a.contains(b) : op == .beginswith ? a.hasPrefix(b) : a.hasSuffix(b)
        case .gt, .ge, .lt, .le:
            guard let a = number(left), let b = number(right) else { return false }
            switch op {
            case .gt: return a > b
            case .ge: return a >= b
            case .lt: return a < b
            default: return a <= b
            }
        }
    }

    /// What equality compares: text without case (as Dataverse compares), numbers by value, references by id.
    private static func key(_ value: ContextValue) -> String {
        switch value {
        case .null: return "\u{0}null"
        case .string(let text): return "s:" + text.lowercased()
        case .entityReference(let reference): return "r:" + reference.id.description
        case .optionSetValue(let option): return "n:\(Double(option.value))"
        case .boolean(let flag): return "b:\(flag)"
        default:
            if let number = number(value) { return "n:\(number)" }
            return "v:\(value)"
        }
    }

    private static func number(_ value: ContextValue) -> Double? {
        switch value {
        case .int(let number): return Double(number)
        case .long(let number): return Double(number)
        case .double(let number): return number
        case .decimal(let number): return Double(number.description)
        case .money(let money): return Double(money.value.description)
        case .optionSetValue(let option): return Double(option.value)
        case .dateTime(let date): return Double(date.ticks)
        default: return nil
        }
    }
}
