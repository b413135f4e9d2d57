import AsyncHTTPClient
import NIOSSL

/// The HTTP client of a command: over HTTPS it verifies the server's certificate against the system's trust store,
/// or against the certificate authorities of `--ca` (a PEM file, such as the development CA `conduit serve --tls
/// self-signed` writes to `<data-dir>/tls/ca.pem`). It never falls back to plain text.
enum CommandHTTPClient {
    /// The help of a client command's `--ca` option.
    static let caHelp =
        "HTTPS: the PEM file of the certificate authorities to trust instead of the system's, such as <data-dir>/tls/ca.pem of 'conduit serve --tls self-signed' (or CONDUIT_CA)."

    static func make(caFile: String?) throws -> HTTPClient {
        guard let caFile else { return HTTPClient(eventLoopGroupProvider: .singleton) }
        var tls = TLSConfiguration.makeClientConfiguration()
        do {
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
        } catch {
            throw CommandFailure("--ca: the file \(caFile) cannot be read as PEM certificates (\(error))")
        }
        var configuration = HTTPClient.Configuration()
        configuration.tlsConfiguration = tls
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }
}
