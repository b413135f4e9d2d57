import ConduitContext

extension OrganizationService {
    /// Registers a step the way the Plug-in Registration Tool does: an `sdkmessageprocessingstep` row for `message`
    /// on `table`, handled by a plug-in type. Returns the step's id.
    ///
    /// - Parameters:
    ///   - name: The step's name (the name of its system jobs, too).
    ///   - message: `Create`, `Update`, …
    ///   - table: The table's logical name.
    ///   - stage: 10, 20 or 40.
    ///   - mode: 0 synchronous, 1 asynchronous.
    ///   - rank: The order among the steps of a stage.
    ///   - pluginType: The `plugintype` row of the handler.
    ///   - configuration: The step's unsecure configuration.
    @discardableResult
    public func registerStep(
        _ name: String,
        message: String,
        table: String,
        stage: Int32 = 40,
        mode: Int32 = 1,
        rank: Int32 = 1,
        pluginType: Guid,
        configuration: String? = nil
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
            ("eventhandler", .entityReference(EntityReference(logicalName: "plugintype", id: pluginType))),
            ("supporteddeployment", .optionSetValue(OptionSetValue(0))),
        ]
        if let configuration { step.attributes["configuration"] = .string(configuration) }
        return try await create(step)
    }
}
