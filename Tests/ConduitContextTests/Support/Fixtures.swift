import Foundation

/// The captured Dataverse payloads under `Fixtures/contexts` (copied from the shared fixture set, each with its
/// `.source.txt`).
enum Fixtures {
    static var contextsDirectory: URL {
        Bundle.module.resourceURL!.appendingPathComponent("Fixtures/contexts")
    }

    /// Every `*.json` context fixture: name and bytes.
    static func jsonContexts() throws -> [(name: String, bytes: [UInt8])] {
        let names = try FileManager.default.contentsOfDirectory(atPath: contextsDirectory.path)
            .filter { $0.hasSuffix(".json") }.sorted()
        return try names.map { name in
            (name, Array(try Data(contentsOf: contextsDirectory.appendingPathComponent(name))))
        }
    }

    static func jsonContext(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: contextsDirectory.appendingPathComponent(name)))
    }
}
