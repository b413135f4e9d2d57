import ConduitContext

/// Checks a definition against the workflow's table, the other tables and the custom activities of the platform,
/// and types every value: a definition that passes can only fail at run time for reasons of the data.
struct WorkflowChecker {
    let catalog: MetadataCatalog
    let activities: WorkflowActivityRegistry
    let table: EntityMetadata
    /// The variables set so far (custom activities' outputs), with their types.
    var variables: [String: WorkflowArgumentType] = [:]

    init(catalog: MetadataCatalog, activities: WorkflowActivityRegistry, table: EntityMetadata) {
        self.catalog = catalog
        self.activities = activities
        self.table = table
    }

    mutating func check(_ steps: [WorkflowStep], at place: String) throws(WorkflowDefinitionError) {
        for (index, step) in steps.enumerated() {
            try check(step, at: "\(place)[\(index)]")
        }
    }

    private mutating func check(_ step: WorkflowStep, at place: String) throws(WorkflowDefinitionError) {
        switch step {
        case .condition(let condition, let then, let otherwise):
            try check(condition, at: "\(place).if")
            var thenBranch = self
            try thenBranch.check(then, at: "\(place).then")
            var elseBranch = self
            try elseBranch.check(otherwise, at: "\(place).else")
            for (name, type) in thenBranch.variables.merging(elseBranch.variables, uniquingKeysWith: { a, _ in a }) {
                if let other = elseBranch.variables[name], other != type {
                    throw fail(
                        place,
                        "the variable '\(name)' is \(type.rawValue) in one branch, \(other.rawValue) in the other."
                    )
                }
                variables[name] = type
            }
        case .update(let attributes):
            try checkColumns(attributes, of: table, at: "\(place).attributes")
        case .create(let name, let attributes):
            guard let target = catalog.entity(name) else { throw fail(place, "there is no table '\(name)'.") }
            try checkColumns(attributes, of: target, at: "\(place).attributes")
        case .post(_, let answer):
            if let answer { variables[answer] = .string }
        case .custom(let name, let inputs, let outputs):
            guard let activity = activities.entry(name) else {
                let known = activities.typeNames
                throw fail(
                    place,
                    "no custom activity '\(name)' is compiled into this server\(known.isEmpty ? "" : " (there are: \(known.joined(separator: ", ")))")."
                )
            }
            for input in activity.inputs where input.isRequired && inputs[input.name] == nil {
                throw fail("\(place).inputs", "the required input '\(input.name)' (\(input.type.rawValue)) is missing.")
            }
            for (name, value) in inputs {
                guard let input = activity.inputs.first(where: { $0.name == name }) else {
                    throw fail(
                        "\(place).inputs.\(name)",
                        "'\(name)' is not an input of \(activity.inputs.isEmpty ? "this activity" : "the activity (its inputs: \(activity.inputs.map(\.name).joined(separator: ", ")))")."
                    )
                }
                try check(value, fits: input.type, at: "\(place).inputs.\(name)")
            }
            for (name, variable) in outputs {
                guard let output = activity.outputs.first(where: { $0.name == name }) else {
                    throw fail("\(place).outputs.\(name)", "'\(name)' is not an output of the activity.")
                }
                variables[variable] = output.type
            }
        case .stop:
            break
        }
    }

    private func check(_ condition: WorkflowCondition, at place: String) throws(WorkflowDefinitionError) {
        switch condition {
        case .all(let conditions), .any(let conditions):
            for (index, condition) in conditions.enumerated() {
                try check(condition, at: "\(place)[\(index)]")
            }
        case .compare(let subject, let op, let operand):
            guard let type = try type(of: subject, at: place) else { return }
            if [.contains, .beginswith, .endswith].contains(op), type != .string {
                throw fail(place, "'\(op.rawValue)' compares text, and this is \(type.rawValue).")
            }
            if [.gt, .ge, .lt, .le].contains(op), [.string, .boolean, .entityReference].contains(type) {
                throw fail(place, "'\(op.rawValue)' compares numbers, dates and choices, and this is \(type.rawValue).")
            }
            if let operand { try check(operand, fits: type, at: "\(place).value") }
        }
    }

    private func checkColumns(
        _ attributes: [String: WorkflowValue],
        of target: EntityMetadata,
        at place: String
    ) throws(WorkflowDefinitionError) {
        for (name, value) in attributes {
            guard let column = target.attribute(name), let type = WorkflowArgumentType(column: column.type) else {
                throw fail("\(place).\(name)", "'\(target.logicalName)' has no column '\(name)' a workflow can set.")
            }
            try check(value, fits: type, at: "\(place).\(name)")
        }
    }

    /// The type of a value: a column's, a variable's, an entity reference for the record; `nil` for a literal (it
    /// takes the type of where it goes).
    func type(of value: WorkflowValue, at place: String) throws(WorkflowDefinitionError) -> WorkflowArgumentType? {
        switch value {
        case .literal: return nil
        case .record: return .entityReference
        case .attribute(let name):
            guard let column = table.attribute(name), let type = WorkflowArgumentType(column: column.type) else {
                throw fail(place, "'\(table.logicalName)' has no column '\(name)' a workflow can read.")
            }
            return type
        case .variable(let name):
            guard let type = variables[name] else {
                throw fail(place, "no activity before this one sets the variable '\(name)'.")
            }
            return type
        }
    }

    /// Checks that `value` can go where `type` is expected.
    func check(
        _ value: WorkflowValue,
        fits type: WorkflowArgumentType,
        at place: String
    ) throws(WorkflowDefinitionError) {
        if case .literal(let json) = value {
            _ = try Self.literal(json, as: type, at: place)
            return
        }
        guard let actual = try self.type(of: value, at: place) else { return }
        guard actual == type || (actual == .string && type == .string) else {
            throw fail(place, "a \(actual.rawValue) cannot go where a \(type.rawValue) is expected.")
        }
    }

    /// A constant as a value of `type`.
    static func literal(
        _ json: WorkflowJSON,
        as type: WorkflowArgumentType,
        at place: String
    ) throws(WorkflowDefinitionError) -> ContextValue {
        let wrong = WorkflowDefinitionError("\(place): \(describe(json)) is not a \(type.rawValue).")
        switch (type, json) {
        case (_, .null): return .null
        case (.string, .string(let text)): return .string(text)
        case (.integer, .integer(let number)):
            guard let value = Int32(exactly: number) else { throw wrong }
            return .int(value)
        case (.double, .integer(let number)): return .double(Double(number))
        case (.double, .number(let number)): return .double(number)
        case (.decimal, .integer(let number)): return .decimal(DotNetDecimal(number))
        case (.decimal, .number(let number)):
            guard let value = DotNetDecimal(String(number)) else { throw wrong }
            return .decimal(value)
        case (.money, .integer(let number)): return .money(Money(DotNetDecimal(number)))
        case (.money, .number(let number)):
            guard let value = DotNetDecimal(String(number)) else { throw wrong }
            return .money(Money(value))
        case (.boolean, .bool(let flag)): return .boolean(flag)
        case (.optionSet, .integer(let number)):
            guard let value = Int32(exactly: number) else { throw wrong }
            return .optionSetValue(OptionSetValue(value))
        case (.entityReference, .object(let members)):
            guard case .string(let table)? = members["logicalName"], case .string(let text)? = members["id"],
                let id = Guid(text)
            else {
                throw WorkflowDefinitionError("\(place): a reference is {\"logicalName\": \"account\", \"id\": \"…\"}.")
            }
            return .entityReference(EntityReference(logicalName: table, id: id))
        case (.dateTime, _):
            throw WorkflowDefinitionError(
                "\(place): date and time constants are not built yet; take the value from a column or an activity."
            )
        default:
            throw wrong
        }
    }

    private static func describe(_ json: WorkflowJSON) -> String {
        switch json {
        case .null: "null"
        case .bool(let flag): "\(flag)"
        case .integer(let number): "\(number)"
        case .number(let number): "\(number)"
        case .string(let text): "\"\(text.prefix(40))\""
        case .array: "a list"
        case .object: "an object"
        }
    }

    private func fail(_ place: String, _ message: String) -> WorkflowDefinitionError {
        WorkflowDefinitionError("\(place): \(message)")
    }
}

extension WorkflowArgumentType {
    /// The type of a column's values, when a workflow can read and set it.
    init?(column type: AttributeType) {
        guard let match = Self.allCases.first(where: { $0.accepts(column: type) }) else { return nil }
        self = match
    }
}
