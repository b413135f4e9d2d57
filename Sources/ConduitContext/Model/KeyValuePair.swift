/// One entry of a .NET `DataCollection<TKey, TValue>` (`ParameterCollection`, `AttributeCollection`,
/// `FormattedValueCollection`, `EntityImageCollection`, …) or a `KeyValuePair<string,string>` value.
public struct KeyValuePair<Key: Hashable & Sendable, Value: Hashable & Sendable>: Hashable, Sendable {
    /// The key.
    public var key: Key
    /// The value.
    public var value: Value

    /// Creates an entry.
    public init(key: Key, value: Value) {
        self.key = key
        self.value = value
    }
}

/// An ordered list of keyed entries, as the SDK's `DataCollection<string, T>`: order and duplicates are kept,
/// because they are what the wire carries.
public struct KeyedCollection<Value: Hashable & Sendable>: Hashable, Sendable, RandomAccessCollection,
    ExpressibleByArrayLiteral
{
    /// The entries in wire order.
    public var entries: [KeyValuePair<String, Value>]

    /// Creates a collection from entries.
    public init(_ entries: [KeyValuePair<String, Value>] = []) {
        self.entries = entries
    }

    /// Creates a collection from `(key, value)` pairs.
    public init(arrayLiteral elements: (String, Value)...) {
        self.entries = elements.map { KeyValuePair(key: $0.0, value: $0.1) }
    }

    public var startIndex: Int { entries.startIndex }
    public var endIndex: Int { entries.endIndex }
    public subscript(position: Int) -> KeyValuePair<String, Value> { entries[position] }

    /// The value of the first entry with this key; setting replaces it in place, or appends a new entry.
    /// Setting `nil` removes every entry with the key.
    public subscript(key: String) -> Value? {
        get { entries.first(where: { $0.key == key })?.value }
        set {
            if let newValue {
                if let index = entries.firstIndex(where: { $0.key == key }) {
                    entries[index].value = newValue
                } else {
                    entries.append(KeyValuePair(key: key, value: newValue))
                }
            } else {
                entries.removeAll { $0.key == key }
            }
        }
    }

    /// The keys in order.
    public var keys: [String] { entries.map(\.key) }

    /// Appends an entry (a duplicate key is kept, as the wire may carry one).
    public mutating func append(key: String, value: Value) {
        entries.append(KeyValuePair(key: key, value: value))
    }
}

/// `ParameterCollection` (InputParameters, OutputParameters, SharedVariables), `AttributeCollection` and
/// `KeyAttributeCollection`: string keys and polymorphic values.
public typealias ParameterCollection = KeyedCollection<ContextValue>

/// `EntityImageCollection` (PreEntityImages, PostEntityImages): alias → entity image.
public typealias EntityImageCollection = KeyedCollection<Entity>

/// `FormattedValueCollection`: attribute name → display text.
public typealias FormattedValueCollection = KeyedCollection<String>
