import Foundation

/// One entity of a list response: its name, its description and the times of its Atom entry.
public struct AtomFeedItem<Description: Sendable & Hashable>: Sendable, Hashable {
    /// The entity name, written as the entry `title` (the clients take the listed name from it).
    public var name: String
    /// The description written in the entry `content`.
    public var description: Description
    /// The entry `published` time (the entity's creation).
    public var published: Date
    /// The entry `updated` time (the last change of the entity's description).
    public var updated: Date

    /// Creates a feed item.
    public init(name: String, description: Description, published: Date, updated: Date) {
        self.name = name
        self.description = description
        self.published = published
        self.updated = updated
    }
}
