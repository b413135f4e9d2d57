import ConduitServer
import Foundation
import Logging
import Synchronization
import Testing

/// `--log-format json`: one JSON object per line, metadata as keys.
@Suite("JSON log lines")
struct JSONLogHandlerTests {
    @Test("A log line is one JSON object with time, level, label, message, source and the metadata as keys")
    func line() throws {
        let lines = Mutex<[String]>([])
        var logger = Logger(label: "conduit.test") { label in
            JSONLogHandler(label: label) { line in lines.withLock { $0.append(line) } }
        }
        logger.logLevel = .info
        logger[metadataKey: "node"] = "a"
        logger.debug("not written")
        logger.warning(
            "system job failed",
            metadata: ["job.id": "42", "message": "hides nothing", "tries": .array(["1", "2"])]
        )
        let written = lines.withLock { $0 }
        #expect(written.count == 1)
        let line = try #require(written.first)
        #expect(line.hasSuffix("\n") && !line.dropLast().contains("\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["level"] as? String == "warning")
        #expect(object["label"] as? String == "conduit.test")
        #expect(object["message"] as? String == "system job failed")
        #expect(object["job.id"] as? String == "42" && object["node"] as? String == "a")
        #expect(object["meta.message"] as? String == "hides nothing")
        #expect(object["tries"] as? [String] == ["1", "2"])
        #expect((object["time"] as? String)?.hasSuffix("Z") == true)
    }
}
