/// The type of a column, as Dataverse's `AttributeTypeCode` names it.
public enum AttributeType: String, Sendable, Hashable, Codable, CaseIterable {
    case uniqueidentifier
    case string
    case memo
    case integer
    case bigint
    case decimal
    case double
    case money
    case boolean
    case datetime
    /// A reference to a row of one or more tables (`Targets`).
    case lookup
    /// `ownerid`: a `systemuser` (or team).
    case owner
    /// A reference to an `account` or a `contact`.
    case customer
    /// An option set (choice).
    case picklist
    /// `statecode`.
    case state
    /// `statuscode`.
    case status
    /// A multi-select option set (choices).
    case multiselectpicklist

    /// `true` for the three kinds of reference.
    public var isReference: Bool { self == .lookup || self == .owner || self == .customer }
    /// `true` for the option-set kinds read as `OptionSetValue`.
    public var isOptionSet: Bool { self == .picklist || self == .state || self == .status }
}

/// One option of a choice column. For `statuscode`, `state` names the `statecode` it belongs to.
public struct OptionMetadata: Sendable, Hashable, Codable {
    public var value: Int32
    public var label: String
    public var state: Int32?

    public init(_ value: Int32, _ label: String, state: Int32? = nil) {
        self.value = value
        self.label = label
        self.state = state
    }
}

/// A column of a table.
public struct AttributeMetadata: Sendable, Hashable, Codable {
    /// The logical name (`firstname`).
    public var logicalName: String
    /// The column type.
    public var type: AttributeType
    /// The display name.
    public var displayName: String
    /// For string and memo columns, the largest length in characters.
    public var maxLength: Int?
    /// For references, the tables it may point to.
    public var targets: [String]
    /// For choices, the options.
    public var options: [OptionMetadata]
    /// The table's primary key.
    public var isPrimaryId: Bool
    /// The table's primary name column.
    public var isPrimaryName: Bool
    /// Created at run time.
    public var isCustom: Bool
    /// Set by the platform only (`createdon`, `versionnumber`, …): a client cannot write it.
    public var isReadOnly: Bool
    /// `false` for a secret a client may write but never read back (`serviceendpoint.saskey`, `sastoken`,
    /// `authvalue`): reads leave it out, as Dataverse's `IsValidForRead = false` does.
    public var isValidForRead: Bool

    /// Creates a column.
    public init(
        _ logicalName: String,
        _ type: AttributeType,
        displayName: String? = nil,
        maxLength: Int? = nil,
        targets: [String] = [],
        options: [OptionMetadata] = [],
        isPrimaryId: Bool = false,
        isPrimaryName: Bool = false,
        isCustom: Bool = false,
        isReadOnly: Bool = false,
        isValidForRead: Bool = true
    ) {
        self.logicalName = logicalName
        self.type = type
        self.displayName = displayName ?? logicalName
        self.maxLength = maxLength ?? ((type == .string) ? 100 : (type == .memo ? 2000 : nil))
        self.targets = targets
        self.options = options
        self.isPrimaryId = isPrimaryId
        self.isPrimaryName = isPrimaryName
        self.isCustom = isCustom
        self.isReadOnly = isReadOnly
        self.isValidForRead = isValidForRead
    }

    private enum CodingKeys: String, CodingKey {
        case logicalName, type, displayName, maxLength, targets, options, isPrimaryId, isPrimaryName, isCustom
        case isReadOnly, isValidForRead
    }

    /// Decodes a column; metadata stored before `isValidForRead` existed reads as readable.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        logicalName = try container.decode(String.self, forKey: .logicalName)
        type = try container.decode(AttributeType.self, forKey: .type)
        displayName = try container.decode(String.self, forKey: .displayName)
        maxLength = try container.decodeIfPresent(Int.self, forKey: .maxLength)
        targets = try container.decode([String].self, forKey: .targets)
        options = try container.decode([OptionMetadata].self, forKey: .options)
        isPrimaryId = try container.decode(Bool.self, forKey: .isPrimaryId)
        isPrimaryName = try container.decode(Bool.self, forKey: .isPrimaryName)
        isCustom = try container.decode(Bool.self, forKey: .isCustom)
        isReadOnly = try container.decode(Bool.self, forKey: .isReadOnly)
        isValidForRead = try container.decodeIfPresent(Bool.self, forKey: .isValidForRead) ?? true
    }

    /// The label of an option value, if the column has it.
    public func label(of value: Int32) -> String? {
        options.first { $0.value == value }?.label
    }
}
