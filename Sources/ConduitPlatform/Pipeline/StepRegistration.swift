import ConduitContext

/// An enabled step as the pipeline runs it, read from `sdkmessageprocessingstep` and its images.
struct StepRegistration: Sendable, Hashable {
    var id: Guid
    var name: String
    var messageName: String
    /// `nil` for a step on every table.
    var entityName: String?
    var stage: Int32
    /// 0 synchronous, 1 asynchronous.
    var mode: Int32
    var rank: Int32
    /// For Update: run only when the target holds one of these columns. `nil` = any.
    var filteringAttributes: Set<String>?
    /// The `eventhandler`: a `plugintype` or a `serviceendpoint`.
    var eventHandler: EntityReference?
    /// The plug-in type name, when the handler is a `plugintype`.
    var pluginTypeName: String?
    /// The plug-in type's assembly, when it has one: the compiled-in plug-ins' (isolation mode 1), or an uploaded,
    /// sandboxed WebAssembly module (2).
    var pluginAssemblyId: Guid? = nil
    /// The assembly's `isolationmode`.
    var pluginIsolationMode: Int32? = nil
    var configuration: String?
    var impersonatingUserId: Guid?
    var asyncAutoDelete: Bool
    var images: [ImageRegistration]

    var isAsynchronous: Bool { mode == 1 }

    /// Whether the plug-in is an uploaded assembly's, run in the sandbox (anything but isolation mode 1, None,
    /// which names the plug-ins compiled into the server; the sandbox refuses modes other than 2 with a message).
    var runsInSandbox: Bool {
        guard let pluginAssemblyId else { return false }
        return pluginAssemblyId != PluginAssemblyRules.compiledAssemblyId && pluginIsolationMode != 1
    }

    /// The handler when it is a service endpoint (the out-of-box service-endpoint plug-in posts the context).
    var serviceEndpoint: EntityReference? {
        eventHandler?.logicalName == "serviceendpoint" ? eventHandler : nil
    }

    /// Whether an Update with these target columns triggers the step.
    func isTriggered(byUpdateOf columns: [String]) -> Bool {
        guard let filteringAttributes, !filteringAttributes.isEmpty else { return true }
        return columns.contains { filteringAttributes.contains($0) }
    }
}

/// An image registration (`sdkmessageprocessingstepimage`).
struct ImageRegistration: Sendable, Hashable {
    /// 0 pre, 1 post, 2 both.
    var imageType: Int32
    var alias: String
    /// `nil` = every column.
    var attributes: [String]?

    var isPre: Bool { imageType == 0 || imageType == 2 }
    var isPost: Bool { imageType == 1 || imageType == 2 }

    /// The image of `row`: the registered columns only, in the row's order.
    func image(of row: Entity) -> Entity {
        guard let attributes else { return row }
        var image = row
        image.attributes = KeyedCollection(row.attributes.entries.filter { attributes.contains($0.key) })
        image.formattedValues = KeyedCollection(row.formattedValues.entries.filter { attributes.contains($0.key) })
        return image
    }
}
