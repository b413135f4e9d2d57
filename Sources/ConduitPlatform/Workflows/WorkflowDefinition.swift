import ConduitContext
import Foundation

/// A background workflow's definition, as JSON in `workflow.clientdata` (docs/workflows.md):
///
/// ```json
/// {"activities": [
///   {"type": "condition", "if": {"attribute": "lastname", "operator": "eq", "value": "Lovelace"},
///    "then": [{"type": "custom", "activity": "Conduit.Samples.Greeting",
///              "inputs": {"name": {"attribute": "firstname"}}, "outputs": {"greeting": "text"}},
///             {"type": "update", "attributes": {"description": {"variable": "text"}}},
///             {"type": "post", "serviceendpointid": "…"}],
///    "else": [{"type": "stop", "status": "succeeded"}]}
/// ]}
/// ```
public struct WorkflowDefinition: Sendable, Hashable {
    public var activities: [WorkflowStep]

    public init(activities: [WorkflowStep]) {
        self.activities = activities
    }

    /// Reads a definition.
    /// - Throws: ``WorkflowDefinitionError`` naming the place (`activities[1].then[0].inputs.name`) and the problem.
    public init(json text: String) throws(WorkflowDefinitionError) {
        let json: WorkflowJSON
        do {
            json = try JSONDecoder().decode(WorkflowJSON.self, from: Data(text.utf8))
        } catch {
            throw WorkflowDefinitionError("The definition (clientdata) is not JSON: \(error.localizedDescription)")
        }
        let reader = WorkflowJSON.Reader(path: "")
        guard case .object(let root) = json else {
            throw WorkflowDefinitionError("The definition (clientdata) is a JSON object with 'activities'.")
        }
        activities = try reader.steps(root["activities"], at: "activities")
    }
}

/// One activity of a workflow.
public indirect enum WorkflowStep: Sendable, Hashable {
    /// Runs `then` when the condition holds, otherwise `else`.
    case condition(WorkflowCondition, then: [WorkflowStep], else: [WorkflowStep])
    /// Updates the workflow's record.
    case update(attributes: [String: WorkflowValue])
    /// Creates a row of `table`.
    case create(table: String, attributes: [String: WorkflowValue])
    /// Posts the workflow's execution context to a service endpoint; a two-way or REST listener's answer goes into
    /// the variable `answer` (a string) when one is named.
    case post(serviceEndpoint: Guid, answer: String?)
    /// Runs a custom activity: its inputs, and which variable each output goes to.
    case custom(activity: String, inputs: [String: WorkflowValue], outputs: [String: String])
    /// Ends the workflow: succeeded, or failed with `message`.
    case stop(succeeded: Bool, message: String?)
}

/// A value in a definition.
public enum WorkflowValue: Sendable, Hashable {
    /// A constant, typed by where it goes.
    case literal(WorkflowJSON)
    /// A column of the workflow's record, as it is when the workflow runs.
    case attribute(String)
    /// A custom activity's output, by the variable it was put in.
    case variable(String)
    /// A reference to the workflow's record.
    case record
}

/// A condition on the workflow's record or variables.
public indirect enum WorkflowCondition: Sendable, Hashable {
    case all([WorkflowCondition])
    case any([WorkflowCondition])
    /// `subject operator value` (no value for `null` and `notnull`).
    case compare(WorkflowValue, WorkflowOperator, WorkflowValue?)
}

/// A comparison of a condition.
public enum WorkflowOperator: String, Sendable, Hashable, CaseIterable {
    case eq, ne, gt, ge, lt, le, null, notnull, contains, beginswith, endswith
}

/// A definition that cannot run; the message says where and why.
public struct WorkflowDefinitionError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// JSON as a definition holds it.
public enum WorkflowJSON: Sendable, Hashable, Decodable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([WorkflowJSON])
    case object([String: WorkflowJSON])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([WorkflowJSON].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: WorkflowJSON].self))
        }
    }

    /// Reads the parts of a definition, with errors that name the place.
    struct Reader {
        var path: String

        func fail(_ place: String, _ message: String) -> WorkflowDefinitionError {
            WorkflowDefinitionError("\(place): \(message)")
        }

        func steps(_ json: WorkflowJSON?, at place: String) throws(WorkflowDefinitionError) -> [WorkflowStep] {
            guard let json else { return [] }
            guard case .array(let items) = json else { throw fail(place, "a list of activities is expected.") }
            var steps: [WorkflowStep] = []
            for (index, item) in items.enumerated() {
                steps.append(try step(item, at: "\(place)[\(index)]"))
            }
            return steps
        }

        func step(_ json: WorkflowJSON, at place: String) throws(WorkflowDefinitionError) -> WorkflowStep {
            guard case .object(let members) = json, case .string(let type)? = members["type"] else {
                throw fail(place, "an activity is an object with a \"type\".")
            }
            switch type {
            case "condition":
                guard let test = members["if"] else { throw fail(place, "a condition needs \"if\".") }
                return .condition(
                    try condition(test, at: "\(place).if"),
                    then: try steps(members["then"], at: "\(place).then"),
                    else: try steps(members["else"], at: "\(place).else")
                )
            case "update":
                return .update(attributes: try values(members["attributes"], at: "\(place).attributes"))
            case "create":
                guard case .string(let table)? = members["table"] else {
                    throw fail(place, "\"create\" needs the \"table\" (its logical name).")
                }
                return .create(table: table, attributes: try values(members["attributes"], at: "\(place).attributes"))
            case "post":
                guard case .string(let text)? = members["serviceendpointid"], let id = Guid(text) else {
                    throw fail(place, "\"post\" needs \"serviceendpointid\", the service endpoint's id.")
                }
                var answer: String?
                if case .string(let name)? = members["answer"] { answer = name }
                return .post(serviceEndpoint: id, answer: answer)
            case "custom":
                guard case .string(let activity)? = members["activity"] else {
                    throw fail(place, "\"custom\" needs \"activity\", the activity's type name.")
                }
                var outputs: [String: String] = [:]
                if let given = members["outputs"] {
                    guard case .object(let map) = given else {
                        throw fail("\(place).outputs", "an object of output names to variable names is expected.")
                    }
                    for (name, variable) in map {
                        guard case .string(let variable) = variable, !variable.isEmpty else {
                            throw fail("\(place).outputs.\(name)", "the variable's name (a string) is expected.")
                        }
                        outputs[name] = variable
                    }
                }
                return .custom(
                    activity: activity,
                    inputs: try values(members["inputs"], at: "\(place).inputs"),
                    outputs: outputs
                )
            case "stop":
                let status: String
                switch members["status"] {
                case .string(let text)?: status = text
                case nil: status = "succeeded"
                default: throw fail(place, "\"status\" is \"succeeded\" or \"failed\".")
                }
                guard status == "succeeded" || status == "failed" else {
                    throw fail(place, "\"status\" is \"succeeded\" or \"failed\", not \"\(status)\".")
                }
                var message: String?
                if case .string(let text)? = members["message"] { message = text }
                return .stop(succeeded: status == "succeeded", message: message)
            default:
                throw fail(
                    place,
                    "the activity type \"\(type)\" is not one of condition, update, create, post, custom, stop."
                )
            }
        }

        func values(_ json: WorkflowJSON?, at place: String) throws(WorkflowDefinitionError) -> [String: WorkflowValue]
        {
            guard let json else { return [:] }
            guard case .object(let members) = json else {
                throw fail(place, "an object of names to values is expected.")
            }
            var values: [String: WorkflowValue] = [:]
            for (name, item) in members { values[name] = try value(item, at: "\(place).\(name)") }
            return values
        }

        func value(_ json: WorkflowJSON, at place: String) throws(WorkflowDefinitionError) -> WorkflowValue {
            guard case .object(let members) = json, members.count == 1, let (kind, item) = members.first else {
                throw fail(
                    place,
                    "a value is {\"value\": …}, {\"attribute\": \"column\"}, {\"variable\": \"name\"} or {\"record\": true}."
                )
            }
            switch (kind, item) {
            case ("value", _): return .literal(item)
            case ("attribute", .string(let name)): return .attribute(name)
            case ("variable", .string(let name)): return .variable(name)
            case ("record", .bool(true)): return .record
            default:
                throw fail(
                    place,
                    "a value is {\"value\": …}, {\"attribute\": \"column\"}, {\"variable\": \"name\"} or {\"record\": true}."
                )
            }
        }

        func condition(_ json: WorkflowJSON, at place: String) throws(WorkflowDefinitionError) -> WorkflowCondition {
            guard case .object(let members) = json else { throw fail(place, "a condition is an object.") }
            for group in ["all", "any"] {
                guard let list = members[group] else { continue }
                guard case .array(let items) = list, !items.isEmpty else {
                    throw fail("\(place).\(group)", "a non-empty list of conditions is expected.")
                }
                var conditions: [WorkflowCondition] = []
                for (index, item) in items.enumerated() {
                    conditions.append(try condition(item, at: "\(place).\(group)[\(index)]"))
                }
                return group == "all" ? .all(conditions) : .any(conditions)
            }
            let subject: WorkflowValue
            switch (members["attribute"], members["variable"]) {
            case (.string(let name)?, nil): subject = .attribute(name)
            case (nil, .string(let name)?): subject = .variable(name)
            default: throw fail(place, "a comparison names one \"attribute\" or \"variable\".")
            }
            guard case .string(let text)? = members["operator"], let op = WorkflowOperator(rawValue: text) else {
                throw fail(
                    place,
                    "\"operator\" is one of \(WorkflowOperator.allCases.map(\.rawValue).joined(separator: ", "))."
                )
            }
            if op == .null || op == .notnull { return .compare(subject, op, nil) }
            guard let operand = members["value"] else { throw fail(place, "\"\(op.rawValue)\" needs a \"value\".") }
            return .compare(subject, op, .literal(operand))
        }
    }
}
