import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The console's page, script and style sheet, compiled into the server (`Console/Assets`). With the environment
/// variable `CONDUIT_CONSOLE_DIR` they are read from that directory on each request instead, for working on them.
enum ConsoleAssets {
    /// The files, by the name they are served under.
    static let served = ["index.html", "console.js", "console.css"]

    static func embedded(_ name: String) -> [UInt8]? {
        switch name {
        case "index.html": PackageResources.index_html
        case "console.js": PackageResources.console_js
        case "console.css": PackageResources.console_css
        default: nil
        }
    }

    static func contentType(_ name: String) -> String {
        switch (name as NSString).pathExtension {
        case "html": "text/html; charset=utf-8"
        case "js": "text/javascript; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        default: "application/octet-stream"
        }
    }

    /// No script, style or image from anywhere but the server, none inline, and no framing by other sites.
    static let securityPolicy =
        "default-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

    static func response(for name: String) throws -> Response {
        var bytes = embedded(name)
        if let directory = ProcessInfo.processInfo.environment["CONDUIT_CONSOLE_DIR"], !directory.isEmpty {
            let path = (directory as NSString).appendingPathComponent(name)
            bytes = FileManager.default.contents(atPath: path).map { Array($0) }
        }
        guard let bytes else { throw HTTPError(.notFound, message: "The console has no file \(name).") }
        return Response(
            status: .ok,
            headers: [
                .contentType: contentType(name),
                .cacheControl: "no-cache",
                .contentSecurityPolicy: securityPolicy,
                .xContentTypeOptions: "nosniff",
                HTTPField.Name("Referrer-Policy")!: "no-referrer",
            ],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes))
        )
    }
}
