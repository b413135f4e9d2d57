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
