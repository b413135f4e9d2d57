/// The `Content-Type` values Azure sends with management responses.
public enum ManagementContentType {
    /// A single entity (`<entry>`), for create, update, get and `$namespaceinfo`.
    public static let entry = "application/atom+xml;type=entry;charset=utf-8"
    /// A list (`<feed>`), also for the "not found" feed of a GET.
    public static let feed = "application/atom+xml;type=feed;charset=utf-8"
    /// An error body (`<Error>`).
    public static let error = "application/xml; charset=utf-8"
    /// What the clients send with PUT bodies.
    public static let request = "application/atom+xml"
}
