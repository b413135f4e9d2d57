import ArgumentParser
import ConduitContext
import Foundation

/// A command failed because of its input: printed as one line on standard error, exit code 2.
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Reading and writing the bodies the `context` commands work on.
enum CommandIO {
    static func read(_ path: String?) throws -> [UInt8] {
        if let path {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw CommandFailure("cannot read \(path): no such file or it is not readable")
            }
            return Array(data)
        }
        return Array(FileHandle.standardInput.readDataToEndOfFile())
    }

    static func decode(_ bytes: [UInt8], format: WireFormat, source: String?) throws -> RemoteExecutionContext {
        do {
            return try ContextCodec.decode(bytes, format: format)
        } catch {
            throw CommandFailure("\(source ?? "standard input"): \(error)")
        }
    }

    /// A zone from a name (`Europe/Paris`) or an offset (`-07:00`, `+0530`); the system's zone when `nil`.
    static func timeZone(_ text: String?) throws -> TimeZone {
        guard let text else { return .current }
        if let zone = TimeZone(identifier: text) { return zone }
        let digits = text.dropFirst().filter { $0 != ":" }
        if let sign = text.first, sign == "+" || sign == "-", digits.count == 4, let value = Int(digits),
            value / 100 <= 14, value % 100 < 60,
            let zone = TimeZone(secondsFromGMT: (sign == "-" ? -1 : 1) * (value / 100 * 3600 + value % 100 * 60))
        {
            return zone
        }
        throw CommandFailure(
            "unknown time zone '\(text)': give a name such as Europe/Paris or an offset such as -07:00"
        )
    }

    static func write(_ bytes: [UInt8], to path: String?) throws {
        if let path {
            guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
                throw CommandFailure("cannot write \(path)")
            }
        } else {
            FileHandle.standardOutput.write(Data(bytes))
        }
    }
}
