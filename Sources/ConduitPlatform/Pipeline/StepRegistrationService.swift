import ConduitContext

/// An image to register with a step (`sdkmessageprocessingstepimage`).
public struct StepImage: Sendable, Hashable {
    /// 0 pre-image, 1 post-image, 2 both.
    public var type: Int32
    /// The image's name in the context's `PreEntityImages`/`PostEntityImages`.
    public var alias: String
    /// The columns, comma-separated; `nil` for every column.
    public var attributes: String?

    public init(type: Int32, alias: String, attributes: String? = nil) {
        self.type = type
        self.alias = alias
        self.attributes = attributes
    }
}

extension OrganizationService {
    /// Registers a step the way the Plug-in Registration Tool does: an `sdkmessageprocessingstep` row for `message`
    /// on `table`, handled by a plug-in type or a service endpoint, with its images. Returns the step's id.
    ///
    /// - Parameters:
    ///   - name: The step's name (the name of its system jobs, too).
    ///   - message: `Create`, `Update`, …
    ///   - table: The table's logical name.
    ///   - stage: 10, 20 or 40.
    ///   - mode: 0 synchronous, 1 asynchronous.
    ///   - rank: The order among the steps of a stage.
    ///   - handler: The `eventhandler`: a `plugintype` row, or a `serviceendpoint` row (the out-of-box
    ///     service-endpoint plug-in then posts the context to it).
    ///   - configuration: The step's unsecure configuration.
    ///   - filteringAttributes: For Update, the comma-separated columns that trigger the step; `nil` for any.
    ///   - images: The pre- and post-images to register.
    @discardableResult
    public func registerStep(
        _ name: String,
        message: String,
        table: String,
        stage: Int32 = 40,
        mode: Int32 = 1,
        rank: Int32 = 1,
        handler: EntityReference,
        configuration: String? = nil,
        filteringAttributes: String? = nil,
        images: [StepImage] = [],
        impersonatingUserId: Guid? = nil,
        asyncAutoDelete: Bool = false
    ) async throws -> Guid {
        var step = Entity(logicalName: "sdkmessageprocessingstep")
        step.attributes = [
            ("name", .string(name)), ("stage", .optionSetValue(OptionSetValue(stage))),
            ("mode", .optionSetValue(OptionSetValue(mode))), ("rank", .int(rank)),
            (
                "sdkmessageid",
                .entityReference(EntityReference(logicalName: "sdkmessage", id: Platform.messageId(message)))
            ),
            (
                "sdkmessagefilterid",
                .entityReference(
                    EntityReference(
                        logicalName: "sdkmessagefilter",
                        id: Platform.messageFilterId(message: message, table: table)
                    )
                )
            ),
            ("eventhandler", .entityReference(handler)),
            ("supporteddeployment", .optionSetValue(OptionSetValue(0))),
        ]
        if let configuration { step.attributes["configuration"] = .string(configuration) }
        if let filteringAttributes { step.attributes["filteringattributes"] = .string(filteringAttributes) }
        if let impersonatingUserId {
            step.attributes["impersonatinguserid"] = .entityReference(
                EntityReference(logicalName: "systemuser", id: impersonatingUserId)
            )
        }
        if asyncAutoDelete { step.attributes["asyncautodelete"] = .boolean(true) }
        let id = try await create(step)
        for image in images {
            var row = Entity(logicalName: "sdkmessageprocessingstepimage")
            row.attributes = [
                ("name", .string(image.alias)), ("entityalias", .string(image.alias)),
                ("imagetype", .optionSetValue(OptionSetValue(image.type))),
                ("messagepropertyname", .string(message == "Create" ? "Id" : "Target")),
                (
                    "sdkmessageprocessingstepid",
                    .entityReference(EntityReference(logicalName: "sdkmessageprocessingstep", id: id))
                ),
            ]
            if let attributes = image.attributes { row.attributes["attributes"] = .string(attributes) }
            _ = try await create(row)
        }
        return id
    }

    /// Registers a step handled by a plug-in type compiled into the server; see
    /// ``registerStep(_:message:table:stage:mode:rank:handler:configuration:filteringAttributes:images:)``.
    @discardableResult
    public func registerStep(
        _ name: String,
        message: String,
        table: String,
        stage: Int32 = 40,
        mode: Int32 = 1,
        rank: Int32 = 1,
        pluginType: Guid,
        configuration: String? = nil,
        filteringAttributes: String? = nil,
        images: [StepImage] = []
    ) async throws -> Guid {
        try await registerStep(
            name,
            message: message,
            table: table,
            stage: stage,
            mode: mode,
            rank: rank,
            handler: EntityReference(logicalName: "plugintype", id: pluginType),
            configuration: configuration,
            filteringAttributes: filteringAttributes,
            images: images
        )
    }
}
