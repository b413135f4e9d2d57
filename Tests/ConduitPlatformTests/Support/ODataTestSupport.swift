import ConduitPlatform
import Testing

/// Helpers for the OData query tests.
enum ODataTestSupport {
    /// Parses a query string.
    static func parse(_ query: String) throws(ODataQueryError) -> ODataQueryOptions {
        try ODataQueryOptions.parse(queryString: query)
    }

    /// Parses decoded `$filter` text, percent-encoding it as a client would; `extra` is appended to the query string
    /// (parameter aliases, for instance).
    static func filter(_ text: String, _ extra: String = "") throws(ODataQueryError) -> ODataFilter? {
        try parse("$filter=" + encode(text) + extra).filter
    }

    /// The error that parsing `query` throws, or nil when it parses.
    static func error(_ query: String) -> ODataQueryError? {
        do {
            _ = try parse(query)
            return nil
        } catch {
            return error
        }
    }

    /// Percent-encodes `text` for a query string value: everything but unreserved characters and `'(),:@!*;`.
    static func encode(_ text: String) -> String {
        var encoded = ""
        for byte in text.utf8 {
            let scalar = Unicode.Scalar(byte)
            if byte < 0x80,
                scalar.properties.isAlphabetic || ("0"..."9").contains(scalar)
                    || "-._~'(),:@!*;".unicodeScalars.contains(scalar)
            {
                encoded.unicodeScalars.append(scalar)
            } else {
                let hex = String(byte, radix: 16, uppercase: true)
                encoded += "%" + (hex.count == 1 ? "0" : "") + hex
            }
        }
        return encoded
    }

    /// `name op value` comparisons, shorter to write in expectations.
    static func compare(_ property: String, _ comparison: ODataComparison, _ value: ODataLiteral) -> ODataFilter {
        .compare(property: property, comparison, value)
    }
}

/// A query string and the error it must give.
struct ODataErrorCase: Sendable, CustomTestStringConvertible {
    var query: String
    var option: String
    var position: Int?
    var message: String

    init(_ query: String, _ option: String, _ position: Int?, _ message: String) {
        self.query = query
        self.option = option
        self.position = position
        self.message = message
    }

    /// A query that fails as a whole or at an option without a position.
    static func query(_ query: String, _ option: String, _ message: String) -> ODataErrorCase {
        ODataErrorCase(query, option, nil, message)
    }

    /// `$filter=text`, failing with `$filter: what at position N`.
    static func filter(_ text: String, _ position: Int, _ what: String) -> ODataErrorCase {
        option("$filter", text, position, what)
    }

    /// `name=text`, failing with `name: what at position N`.
    static func option(_ name: String, _ text: String, _ position: Int, _ what: String) -> ODataErrorCase {
        ODataErrorCase(name + "=" + text, name, position, "\(name): \(what) at position \(position)")
    }

    var testDescription: String { query }

    /// Expects parsing the query to give exactly this error.
    func check() {
        guard let error = ODataTestSupport.error(query) else {
            Issue.record("\(query) parsed")
            return
        }
        #expect(error.message == message)
        #expect(error.option == option)
        #expect(error.position == position)
    }
}
