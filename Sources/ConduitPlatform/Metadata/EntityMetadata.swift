/// Who owns the rows of a table.
public enum OwnershipType: String, Sendable, Hashable, Codable {
    case userOwned = "UserOwned"
    case organizationOwned = "OrganizationOwned"
}

/// A table: its names, its key and primary name, and its columns.
public struct EntityMetadata: Sendable, Hashable, Codable {
    /// The logical name (`contact`), also the SQL table name.
    public var logicalName: String
    /// The Web API collection name (`contacts`).
    public var entitySetName: String
    /// The display name.
    public var displayName: String
    /// `<logicalname>id`.
    public var primaryIdAttribute: String
    /// The primary name column (`fullname`, `name`).
    public var primaryNameAttribute: String
    /// The ownership.
    public var ownership: OwnershipType
    /// Created at run time.
    public var isCustom: Bool
    /// The columns, in definition order.
    public var attributes: [AttributeMetadata]

    /// Creates a table with the common columns every table has (`<name>id`, the primary name, `createdon`,
    /// `modifiedon`, `createdby`, `modifiedby`, `createdonbehalfby`, `modifiedonbehalfby`, `ownerid`, `statecode`,
    /// `statuscode`, `versionnumber`) followed by `columns`.
    public init(
        logicalName: String,
        entitySetName: String,
        displayName: String? = nil,
        primaryNameAttribute: String = "name",
        primaryNameMaxLength: Int = 100,
        ownership: OwnershipType = .userOwned,
        isCustom: Bool = false,
        states: [OptionMetadata] = EntityMetadata.defaultStates,
        statuses: [OptionMetadata] = EntityMetadata.defaultStatuses,
        columns: [AttributeMetadata]
    ) {
        self.logicalName = logicalName
        self.entitySetName = entitySetName
        self.displayName = displayName ?? logicalName
        self.primaryIdAttribute = logicalName + "id"
        self.primaryNameAttribute = primaryNameAttribute
        self.ownership = ownership
        self.isCustom = isCustom
        var all: [AttributeMetadata] = [
            AttributeMetadata(primaryIdAttribute, .uniqueidentifier, isPrimaryId: true),
            AttributeMetadata(
                primaryNameAttribute,
                .string,
                maxLength: primaryNameMaxLength,
                isPrimaryName: true,
                isCustom: isCustom
            ),
            AttributeMetadata("createdon", .datetime, displayName: "Created On", isReadOnly: true),
            AttributeMetadata("modifiedon", .datetime, displayName: "Modified On", isReadOnly: true),
            AttributeMetadata(
                "createdby",
                .lookup,
                displayName: "Created By",
                targets: ["systemuser"],
                isReadOnly: true
            ),
            AttributeMetadata(
                "modifiedby",
                .lookup,
                displayName: "Modified By",
                targets: ["systemuser"],
                isReadOnly: true
            ),
            AttributeMetadata(
                "createdonbehalfby",
                .lookup,
                displayName: "Created By (Delegate)",
                targets: ["systemuser"],
                isReadOnly: true
            ),
            AttributeMetadata(
                "modifiedonbehalfby",
                .lookup,
                displayName: "Modified By (Delegate)",
                targets: ["systemuser"],
                isReadOnly: true
            ),
            AttributeMetadata("ownerid", .owner, displayName: "Owner", targets: ["systemuser"]),
            AttributeMetadata("statecode", .state, displayName: "Status", options: states),
            AttributeMetadata("statuscode", .status, displayName: "Status Reason", options: statuses),
            AttributeMetadata("versionnumber", .bigint, displayName: "Version Number", isReadOnly: true),
        ]
        for column in columns {
            if let index = all.firstIndex(where: { $0.logicalName == column.logicalName }) {
                all[index] = column
            } else {
                all.append(column)
            }
        }
        self.attributes = all
    }

    /// Active (0) and Inactive (1).
    public static let defaultStates = [OptionMetadata(0, "Active"), OptionMetadata(1, "Inactive")]
    /// Active (1, state 0) and Inactive (2, state 1).
    public static let defaultStatuses = [
        OptionMetadata(1, "Active", state: 0), OptionMetadata(2, "Inactive", state: 1),
    ]

    /// The column with this logical name.
    public func attribute(_ logicalName: String) -> AttributeMetadata? {
        attributes.first { $0.logicalName == logicalName }
    }

    /// The default `statuscode` for a `statecode`.
    public func defaultStatus(forState state: Int32) -> Int32? {
        attribute("statuscode")?.options.first { $0.state == state }?.value
    }
}
