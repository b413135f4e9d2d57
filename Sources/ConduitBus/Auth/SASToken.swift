import Crypto
import Foundation

/// A Shared Access Signature token as Azure Service Bus, Event Hubs and Relay compute it:
/// `SharedAccessSignature sr=<url-encoded resource>&sig=<url-encoded base64 HMAC-SHA256>&se=<unix expiry>&skn=<key name>`.
///
/// The signed string is `<url-encoded resource> + "\n" + <expiry>`, keyed with the UTF-8 bytes of the key as
/// written (not base64-decoded). Fields may come in any order, keys case-insensitively.
public struct SASToken: Sendable, Hashable {
    /// The resource URI the token is for, decoded (`sb://host/queue`).
    public var resource: String
    /// The resource exactly as it appears in the token (still URL-encoded): what was signed.
    public var encodedResource: String
    /// The base64 signature, decoded from the token.
    public var signature: String
    /// Unix seconds after which the token is no longer valid.
    public var expiry: Int64
    /// The name of the authorization rule whose key signed it.
    public var keyName: String

    /// Signs a token for `resource` with `key` of rule `keyName`, valid until `expiry` (Unix seconds).
    public static func make(resource: String, keyName: String, key: String, expiry: Int64) -> SASToken {
        let encoded = urlEncode(resource)
        return SASToken(
            resource: resource,
            encodedResource: encoded,
            signature: sign(encodedResource: encoded, expiry: expiry, key: key),
            expiry: expiry,
            keyName: keyName
        )
    }

    /// The header value: `SharedAccessSignature sr=…&sig=…&se=…&skn=…` (the SDKs' field order).
    public var headerValue: String {
        "SharedAccessSignature sr=\(encodedResource)&sig=\(Self.urlEncode(signature))&se=\(expiry)&skn=\(Self.urlEncode(keyName))"
    }

    /// Parses a token (with or without the `SharedAccessSignature ` prefix).
    public init(parsing text: String) throws(SASTokenError) {
        var body = Substring(text.trimmingCharacters(in: .whitespaces))
        let prefix = "SharedAccessSignature "
        if body.lowercased().hasPrefix(prefix.lowercased()) { body = body.dropFirst(prefix.count) }
        var fields: [String: String] = [:]
        var rawResource: String?
        for pair in body.split(separator: "&", omittingEmptySubsequences: true) {
            guard let equals = pair.firstIndex(of: "=") else {
                throw SASTokenError("the token field '\(pair.prefix(20))' has no '='")
            }
            let name = pair[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            let value = String(pair[pair.index(after: equals)...]).trimmingCharacters(in: .whitespaces)
            if name == "sr" { rawResource = value }
            fields[name] = value.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? value
        }
        guard let resource = fields["sr"], let rawResource, !resource.isEmpty else {
            throw SASTokenError("the token has no resource (sr)")
        }
        guard let signature = fields["sig"], !signature.isEmpty else {
            throw SASTokenError("the token has no signature (sig)")
        }
        guard let expiryText = fields["se"], let expiry = Int64(expiryText) else {
            throw SASTokenError("the token has no valid expiry (se must be Unix seconds)")
        }
        guard let keyName = fields["skn"], !keyName.isEmpty else {
            throw SASTokenError("the token names no key (skn)")
        }
        self.init(
            resource: resource,
            encodedResource: rawResource,
            signature: signature,
            expiry: expiry,
            keyName: keyName
        )
    }

    init(resource: String, encodedResource: String, signature: String, expiry: Int64, keyName: String) {
        self.resource = resource
        self.encodedResource = encodedResource
        self.signature = signature
        self.expiry = expiry
        self.keyName = keyName
    }

    /// Whether `key` signed this token. The resource is checked as it appears in the token first, then re-encoded
    /// in upper- and lower-case hexadecimal (clients differ in how they encode it).
    public func isSigned(with key: String) -> Bool {
        let candidates = [encodedResource, Self.urlEncode(resource), Self.urlEncode(resource, lowercaseHex: true)]
        var seen = Set<String>()
        for candidate in candidates where seen.insert(candidate).inserted {
            let expected = Self.sign(encodedResource: candidate, expiry: expiry, key: key)
            if Self.constantTimeEqual(expected, signature) { return true }
        }
        return false
    }

    /// `Base64(HMAC-SHA256(UTF8(key), UTF8(encodedResource + "\n" + expiry)))`.
    static func sign(encodedResource: String, expiry: Int64, key: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(
            for: Data((encodedResource + "\n" + String(expiry)).utf8),
            using: SymmetricKey(data: Data(key.utf8))
        )
        return Data(mac).base64EncodedString()
    }

    /// URL encoding as .NET's `WebUtility.UrlEncode` and Python's `quote_plus` do it: unreserved characters kept,
    /// space as `+`, everything else `%XX` (upper-case hexadecimal unless asked otherwise).
    static func urlEncode(_ text: String, lowercaseHex: Bool = false) -> String {
        var result = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
                UInt8(ascii: "~"):
                result.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: " "):
                result += "+"
            default:
                let hex = String(byte, radix: 16, uppercase: !lowercaseHex)
                result += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return result
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let left = Array(a.utf8)
        let right = Array(b.utf8)
        guard left.count == right.count else { return false }
        var difference: UInt8 = 0
        for index in left.indices { difference |= left[index] ^ right[index] }
        return difference == 0
    }
}

/// A token that cannot be read; the message says what is wrong with it.
public struct SASTokenError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "invalid SAS token: \(message)" }
}
