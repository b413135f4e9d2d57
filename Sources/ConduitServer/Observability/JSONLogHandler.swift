import Foundation
import Logging

/// A swift-log handler that writes one JSON object per line (`conduit serve --log-format json`): `time` (ISO 8601,
/// UTC, milliseconds), `level`, `label`, `message`, `source`, and each metadata key at the top level (`job.id`,
/// `step.id`, `endpoint`, `correlation.id`, …; a key that would hide one of those five gets a `meta.` prefix).
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    let label: String
    let write: @Sendable (String) -> Void

    /// - Parameter write: Where each line goes (standard error by default).
    public init(label: String, write: @escaping @Sendable (String) -> Void = JSONLogHandler.standardError) {
        self.label = label
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var object: [String: Any] = [
            "time": Self.timestamp(Date()), "level": event.level.rawValue, "label": label,
            "message": event.message.description, "source": event.source,
        ]
        if let error = event.error { object["error"] = "\(error)" }
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        for (key, value) in merged {
            object[object[key] == nil ? key : "meta." + key] = Self.json(value)
        }
        guard
            let data = try? JSONSerialization.data(
                withJSONObject: object,
                options: [.sortedKeys, .withoutEscapingSlashes]
            )
        else { return }
        write(String(decoding: data, as: UTF8.self) + "\n")
    }

    private static func json(_ value: Logger.Metadata.Value) -> Any {
        switch value {
        case .string(let text): text
        case .stringConvertible(let convertible): convertible.description
        case .array(let items): items.map { json($0) }
        case .dictionary(let members): members.mapValues { json($0) }
        }
    }

    private static let format = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    static func timestamp(_ date: Date) -> String { format.format(date) }

    /// Writes a line to standard error.
    public static let standardError: @Sendable (String) -> Void = { line in
        FileHandle.standardError.write(Data(line.utf8))
    }
}
