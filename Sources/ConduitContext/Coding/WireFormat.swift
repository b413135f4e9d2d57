/// The three bodies Dataverse posts, by `serviceendpoint.messageformat`.
public enum WireFormat: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// 1, ".NET Binary": [MC-NBFX] binary XML without a dictionary, `application/msbin1` (the Dataverse default).
    case binary
    /// 2, "Json": `DataContractJsonSerializer` output, `application/json`.
    case json
    /// 3, "Text XML": `DataContractSerializer` output, `application/xml`.
    case xml

    /// The `messageformat` option value.
    public var messageFormat: Int {
        switch self {
        case .binary: return 1
        case .json: return 2
        case .xml: return 3
        }
    }

    /// The format for a `messageformat` option value.
    public init?(messageFormat: Int) {
        switch messageFormat {
        case 1: self = .binary
        case 2: self = .json
        case 3: self = .xml
        default: return nil
        }
    }

    /// The message `ContentType`.
    public var contentType: String {
        switch self {
        case .binary: return "application/msbin1"
        case .json: return "application/json"
        case .xml: return "application/xml"
        }
    }

    /// The format for a content type (parameters such as `; charset=utf-8` are ignored).
    public init?(contentType: String) {
        let bare = contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: " \t") } ?? ""
        guard let match = WireFormat.allCases.first(where: { $0.contentType == bare.lowercased() }) else {
            return nil
        }
        self = match
    }

    /// A short human name.
    public var displayName: String {
        switch self {
        case .binary: return ".NET binary"
        case .json: return "JSON"
        case .xml: return "XML"
        }
    }

    public var description: String { rawValue }
}

extension StringProtocol {
    func trimmingCharacters(in set: String) -> String {
        var scalars = Substring(self)
        while let first = scalars.first, set.contains(first) { scalars.removeFirst() }
        while let last = scalars.last, set.contains(last) { scalars.removeLast() }
        return String(scalars)
    }
}
