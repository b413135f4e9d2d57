import ConduitContext
import ConduitStore
import Foundation
import SQLKit
import Synchronization

/// The enabled steps by message and table, read from `sdkmessageprocessingstep`, its filter, plug-in type and
/// images. Reloaded after a write to those tables on this node, and at least every few seconds (other nodes).
final class StepCache: Sendable {
    private struct State {
        var steps: [StepRegistration]?
        var loadedAt: Date = .distantPast
    }
    private let state = Mutex(State())
    /// How long a loaded set is trusted without a local change.
    let lifetime: TimeInterval = 5

    /// Forgets the loaded steps (after a commit that changed registrations).
    func invalidate() {
        state.withLock { $0.steps = nil }
    }

    /// Every cached step, or `nil` when the cache is empty or older than its lifetime.
    private func fresh() -> [StepRegistration]? {
        state.withLock { state in
            guard let steps = state.steps, Date().timeIntervalSince(state.loadedAt) < lifetime else { return nil }
            return steps
        }
    }

    private func remember(_ steps: [StepRegistration]) {
        state.withLock {
            $0.steps = steps
            $0.loadedAt = Date()
        }
    }

    /// The steps from the cache, or `nil` when it must be (re)loaded.
    func cachedSteps(message: String, entity: String) -> [StepRegistration]? {
        fresh().map { Self.select($0, message: message, entity: entity) }
    }

    static func select(_ all: [StepRegistration], message: String, entity: String) -> [StepRegistration] {
        all.filter { $0.messageName == message && ($0.entityName == nil || $0.entityName == entity) }
            .sorted { ($0.stage, $0.rank, $0.name) < ($1.stage, $1.rank, $1.name) }
    }

    /// The enabled steps for a message on a table, ordered by stage then rank.
    func steps(message: String, entity: String, db: any SQLDatabase) async throws -> [StepRegistration] {
        if let cached = cachedSteps(message: message, entity: entity) { return cached }
        let all = try await Self.load(db: db)
        remember(all)
        return Self.select(all, message: message, entity: entity)
    }

    /// The enabled step with this id (for its system jobs), from the cache or read through a reader connection.
    func step(id: Guid, store: Store) async throws -> StepRegistration? {
        // A step missing from a cached set may be newer than the set (registered on another node): read again.
        if let step = fresh()?.first(where: { $0.id == id }) { return step }
        let all = try await store.withDatabase { db in try await Self.load(db: db) }
        remember(all)
        return all.first { $0.id == id }
    }

    static func load(db: any SQLDatabase) async throws -> [StepRegistration] {
        let rows = try await db.raw(
            """
            SELECT s.sdkmessageprocessingstepid AS id, s.name AS name, m.name AS message,
                   f.primaryobjecttypecode AS entity, s.stage AS stage, s.mode AS mode, s.rank AS rank,
                   s.filteringattributes AS filtering, s.eventhandler AS handler, s.eventhandler__type AS handlertype,
                   t.typename AS typename, t.pluginassemblyid AS assembly, a.isolationmode AS isolation,
                   s.configuration AS configuration,
                   s.impersonatinguserid AS impersonating, s.asyncautodelete AS autodelete
            FROM sdkmessageprocessingstep s
            JOIN sdkmessage m ON m.sdkmessageid = s.sdkmessageid
            LEFT JOIN sdkmessagefilter f ON f.sdkmessagefilterid = s.sdkmessagefilterid
            LEFT JOIN plugintype t ON t.plugintypeid = s.eventhandler
            LEFT JOIN pluginassembly a ON a.pluginassemblyid = t.pluginassemblyid
            WHERE s.statecode = 0
            """
        ).all()
        let imageRows = try await db.raw(
            """
            SELECT sdkmessageprocessingstepid AS step, imagetype, entityalias, attributes
            FROM sdkmessageprocessingstepimage WHERE statecode = 0 OR statecode IS NULL
            """
        ).all()
        var images: [Guid: [ImageRegistration]] = [:]
        for row in imageRows {
            guard let step = Guid(try row.decode(column: "step", as: String?.self) ?? "") else { continue }
            let list = (try row.decode(column: "attributes", as: String?.self)).map(Self.columnList) ?? nil
            images[step, default: []].append(
                ImageRegistration(
                    imageType: Int32(try row.decode(column: "imagetype", as: Int?.self) ?? 0),
                    alias: try row.decode(column: "entityalias", as: String?.self) ?? "",
                    attributes: list
                )
            )
        }
        return try rows.compactMap { row -> StepRegistration? in
            guard let id = Guid(try row.decode(column: "id", as: String.self)) else { return nil }
            let entity = try row.decode(column: "entity", as: String?.self)
            let handler = try row.decode(column: "handler", as: String?.self).flatMap(Guid.init)
            let handlerType = try row.decode(column: "handlertype", as: String?.self)
            return StepRegistration(
                id: id,
                name: try row.decode(column: "name", as: String?.self) ?? "",
                messageName: try row.decode(column: "message", as: String.self),
                entityName: entity == "none" ? nil : entity,
                stage: Int32(try row.decode(column: "stage", as: Int?.self) ?? 40),
                mode: Int32(try row.decode(column: "mode", as: Int?.self) ?? 0),
                rank: Int32(try row.decode(column: "rank", as: Int?.self) ?? 1),
                filteringAttributes: (try row.decode(column: "filtering", as: String?.self)).flatMap(Self.columnList)
                    .map(Set.init),
                eventHandler: handler.map { EntityReference(logicalName: handlerType ?? "plugintype", id: $0) },
                pluginTypeName: try row.decode(column: "typename", as: String?.self),
                pluginAssemblyId: try row.decode(column: "assembly", as: String?.self).flatMap(Guid.init),
                pluginIsolationMode: try row.decode(column: "isolation", as: Int?.self).map(Int32.init),
                configuration: try row.decode(column: "configuration", as: String?.self),
                impersonatingUserId: try row.decode(column: "impersonating", as: String?.self).flatMap(Guid.init),
                asyncAutoDelete: try row.decode(column: "autodelete", as: Bool?.self) ?? false,
                images: images[id] ?? []
            )
        }
    }

    /// `"a, b,c"` → `["a", "b", "c"]`; `nil` when empty.
    static func columnList(_ text: String) -> [String]? {
        let names = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            .filter { !$0.isEmpty }
        return names.isEmpty ? nil : names
    }
}
