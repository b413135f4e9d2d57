import ConduitContext
import Hummingbird
import Logging

/// The request context of the Web API: who the caller is, once the API key is checked.
public struct ConduitRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The `systemuser` the request runs as.
    public var userId: Guid?
    /// The connection the request came on (a refused relay WebSocket upgrade leaves its reason under it).
    public var connection: ObjectIdentifier

    public init(source: Source) {
        self.coreContext = .init(source: source)
        self.userId = nil
        self.connection = ObjectIdentifier(source.channel)
    }

    /// Request bodies above this are refused with 413.
    public var maxUploadSize: Int { 16 * 1024 * 1024 }
}
