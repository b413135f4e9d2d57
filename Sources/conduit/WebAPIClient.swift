import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Where a client command finds the server: `--url`, `--key-file` and `--ca`, with `CONDUIT_URL`, `CONDUIT_KEY_FILE`
/// and `CONDUIT_CA` twins.
struct ServerOptions: ParsableArguments {
    @Option(help: "The Web API root of the server.")
    var url: String = ProcessInfo.processInfo.environment["CONDUIT_URL"] ?? "http://127.0.0.1:8080/api/data/v9.2/"

    @Option(name: .customLong("key-file"), help: "The file holding the API key (the administrator's by default).")
    var keyFile: String = ProcessInfo.processInfo.environment["CONDUIT_KEY_FILE"] ?? "./conduit-data/admin.key"

    @Option(help: ArgumentHelp(CommandHTTPClient.caHelp))
    var ca: String? = ProcessInfo.processInfo.environment["CONDUIT_CA"]

    func validate() throws {
        guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
            throw ValidationError("--url must be an http:// or https:// URL, not '\(url)'.")
        }
    }
}

/// A small client of Conduit's Web API for the command line: JSON in, JSON out, Dataverse-shaped errors turned into
/// one-line failures.
struct WebAPIClient {
    let root: String
    let key: String
    let client: HTTPClient

    /// Runs `body` with a client for the server the options name.
    static func with<T>(_ options: ServerOptions, _ body: (WebAPIClient) async throws -> T) async throws -> T {
        guard let text = try? String(contentsOfFile: options.keyFile, encoding: .utf8) else {
            throw CommandFailure(
                "cannot read the API key file \(options.keyFile) (start 'conduit serve' once, or pass --key-file)"
            )
        }
        let key = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let root = options.url.hasSuffix("/") ? options.url : options.url + "/"
        let client = try CommandHTTPClient.make(caFile: options.ca)
        do {
            let value = try await body(WebAPIClient(root: root, key: key, client: client))
            try await client.shutdown()
            return value
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    /// The console API's root (`…/api/console/`) beside the Web API's.
    var consoleRoot: String {
        guard let range = root.range(of: "api/data/", options: .backwards) else { return root + "../console/" }
        return String(root[..<range.lowerBound]) + "api/console/"
    }

    /// Sends a request to `<root><path>` (the console API's root with `console`); returns the parsed JSON body (or
    /// `nil` for none). A non-2xx answer throws the server's error message. With `prefer`, a write answers with the
    /// written row (`Prefer: return=representation`).
    @discardableResult
    func send(
        _ method: HTTPMethod,
        _ path: String,
        body: [String: Any]? = nil,
        prefer: Bool = false,
        console: Bool = false
    ) async throws -> Any? {
        var request = HTTPClientRequest(url: (console ? consoleRoot : root) + path)
        request.method = method
        if prefer { request.headers.add(name: "Prefer", value: "return=representation") }
        request.headers.add(name: "Authorization", value: "Bearer \(key)")
        request.headers.add(name: "Accept", value: "application/json")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body)))
        }
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: .seconds(30))
        } catch {
            throw CommandFailure("cannot reach \(root): \(error)")
        }
        let bytes = try await response.body.collect(upTo: 64 << 20)
        let json =
            bytes.readableBytes > 0 ? try? JSONSerialization.jsonObject(with: Data(bytes.readableBytesView)) : nil
        guard (200..<300).contains(response.status.code) else {
            let error = (json as? [String: Any])?["error"] as? [String: Any]
            let message = error?["message"] as? String ?? String(buffer: bytes)
            throw CommandFailure("\(response.status.code) \(response.status.reasonPhrase): \(message)")
        }
        return json
    }

    /// `value` of a collection answer.
    func rows(_ path: String) async throws -> [[String: Any]] {
        (try await send(.GET, path) as? [String: Any])?["value"] as? [[String: Any]] ?? []
    }

    /// An id as given, or the id of the one row of `set` whose `name` (or one of `columns`) is `text` (`what` names
    /// the rows in errors, `hint` says where to look when none matches).
    func resolve(
        _ text: String,
        in set: String,
        idColumn: String,
        what: String,
        by columns: [String] = ["name"],
        hint: String? = nil
    ) async throws -> String {
        if UUID(uuidString: text) != nil { return text.lowercased() }
        let name = queryEncoded(text.replacingOccurrences(of: "'", with: "''"))
        let filter = columns.map { "\($0)%20eq%20'\(name)'" }.joined(separator: "%20or%20")
        let rows = try await rows("\(set)?$select=\(idColumn)&$filter=\(filter)")
        let byName = columns == ["name"]
        let which = columns.joined(separator: " or ")
        guard let id = rows.first?[idColumn] as? String else {
            let suffix = hint.map { " (\($0))" } ?? ""
            throw CommandFailure("no \(what) \(byName ? "is named" : "has the \(which)") '\(text)'\(suffix)")
        }
        guard rows.count == 1 else {
            throw CommandFailure(
                "\(rows.count) \(what)s \(byName ? "are named" : "have the \(which)") '\(text)'; give the id"
            )
        }
        return id
    }

    /// Prints a JSON value, pretty, without the `@odata` annotations of a row.
    static func printJSON(_ value: Any) throws {
        let clean = (value as? [String: Any]).map { row in row.filter { !$0.key.hasPrefix("@") } as Any } ?? value
        let data = try JSONSerialization.data(
            withJSONObject: clean,
            options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        )
        print(String(decoding: data, as: UTF8.self))
    }
}

/// Percent-encodes a query option's value (spaces, quotes, …).
func queryEncoded(_ text: String) -> String {
    var allowed = CharacterSet.urlQueryAllowed
    allowed.remove(charactersIn: "&=+ '")
    return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
}

/// Left-aligned columns under a header, as the client commands print tables.
func formatTable(_ header: [String], _ rows: [[String]]) -> String {
    var widths = header.map(\.count)
    for row in rows {
        for (index, cell) in row.enumerated() where index < widths.count {
            widths[index] = max(widths[index], cell.count)
        }
    }
    func line(_ cells: [String]) -> String {
        cells.enumerated().map { index, cell in
            index == cells.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
        }.joined(separator: "  ")
    }
    return ([line(header)] + rows.map(line)).joined(separator: "\n")
}
