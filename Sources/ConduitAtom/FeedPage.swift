/// Where a list response sits in the whole list: the request's `$skip` and `$top`, and whether more follow.
///
/// The caller slices the list; the encoder only writes the links. The Python client pages by following a
/// second `<link rel="next">` and needs `$skip`, `$top` and `api-version` in its query, which the encoder
/// writes when ``hasMore`` is true. The .NET client ignores links and asks for the next 100 until a page is
/// shorter than 100.
public struct FeedPage: Sendable, Hashable {
    /// The number of entities skipped (`$skip`, default 0).
    public var skip: Int
    /// The page size asked for (`$top`, default 100).
    public var top: Int
    /// Whether entities follow this page, which adds the `next` link.
    public var hasMore: Bool

    /// Creates page information.
    public init(skip: Int = 0, top: Int = 100, hasMore: Bool = false) {
        self.skip = skip
        self.top = top
        self.hasMore = hasMore
    }
}
