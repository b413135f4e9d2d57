import Crypto
import Foundation
import NIOSSL
import SwiftASN1
import X509

/// The certificate `conduit serve` presents on its TLS listeners (HTTPS for the Web API, the console and the bus's
/// REST and relay endpoints; AMQPS for the Azure SDKs), with its private key.
public struct ServerTLS: Sendable {
    /// The server's certificate first, then any intermediates.
    public var certificateChain: [NIOSSLCertificate]
    public var privateKey: NIOSSLPrivateKey
    /// The PEM file clients should trust for a generated certificate (its CA); `nil` for a given certificate.
    public var authorityFile: String?

    public init(certificateChain: [NIOSSLCertificate], privateKey: NIOSSLPrivateKey, authorityFile: String? = nil) {
        self.certificateChain = certificateChain
        self.privateKey = privateKey
        self.authorityFile = authorityFile
    }

    /// Loads a PEM certificate chain and its PEM private key.
    ///
    /// - Throws: ``ServerTLSError`` naming the file and what is wrong with it.
    public init(certificateFile: String, keyFile: String) throws {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificateFile)
        } catch {
            throw ServerTLSError(
                "The certificate file \(certificateFile) cannot be read as PEM certificates: \(Self.describe(error))."
            )
        }
        guard !chain.isEmpty else {
            throw ServerTLSError("The certificate file \(certificateFile) holds no PEM certificate.")
        }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: keyFile, format: .pem)
        } catch {
            throw ServerTLSError(
                "The key file \(keyFile) cannot be read as a PEM private key: \(Self.describe(error))."
            )
        }
        self.init(certificateChain: chain, privateKey: key)
        // A key that does not match the certificate fails every handshake: refuse it now.
        do {
            _ = try NIOSSLContext(configuration: serverConfiguration())
        } catch {
            throw ServerTLSError(
                "The key in \(keyFile) does not go with the certificate in \(certificateFile): \(Self.describe(error))."
            )
        }
    }

    /// The TLS configuration of a listener: TLS 1.2 or newer, this certificate and key.
    public func serverConfiguration() -> TLSConfiguration {
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: certificateChain.map { .certificate($0) },
            privateKey: .privateKey(privateKey)
        )
        configuration.minimumTLSVersion = .tlsv12
        return configuration
    }

    /// The SHA-256 fingerprint of the server's certificate, as `AB:CD:…`.
    public var fingerprint: String {
        guard let first = certificateChain.first, let der = try? first.toDERBytes() else { return "" }
        return SHA256.hash(data: der).map { String(format: "%02X", $0) }.joined(separator: ":")
    }

    private static func describe(_ error: any Error) -> String {
        if let error = error as? NIOSSLError { return "\(error)" }
        if let error = error as? BoringSSLError { return "\(error)" }
        return "\(error)"
    }
}

extension ServerTLS {
    /// The files of a development certificate in `directory`: a local certificate authority and a server
    /// certificate it signed.
    public struct SelfSignedFiles: Sendable {
        public let directory: String
        /// The authority's certificate: what clients trust (`REQUESTS_CA_BUNDLE`, `connection_verify`, `--cacert`).
        public var authority: String { (directory as NSString).appendingPathComponent("ca.pem") }
        public var authorityKey: String { (directory as NSString).appendingPathComponent("ca.key") }
        public var certificate: String { (directory as NSString).appendingPathComponent("server.pem") }
        public var key: String { (directory as NSString).appendingPathComponent("server.key") }
    }

    /// A development certificate for `hosts` (names and IP addresses; loopback is always included), kept in
    /// `directory` (`<data-dir>/tls`): made on first use and used again while it is valid for another week and
    /// names every host; a new one is made (with a new authority) otherwise.
    ///
    /// - Returns: The certificate, with ``authorityFile`` set to the authority clients should trust.
    public static func selfSigned(directory: String, hosts: [String], now: Date = Date()) throws -> ServerTLS {
        let files = SelfSignedFiles(directory: directory)
        let names = Self.subjectNames(hosts)
        if let existing = try? ServerTLS(certificateFile: files.certificate, keyFile: files.key),
            FileManager.default.fileExists(atPath: files.authority),
            let der = try? existing.certificateChain.first?.toDERBytes(),
            let certificate = try? Certificate(derEncoded: der),
            certificate.notValidAfter > now.addingTimeInterval(7 * 86_400),
            let alternatives = try? certificate.extensions.subjectAlternativeNames,
            Set(names).isSubset(of: Set(alternatives))
        {
            return ServerTLS(
                certificateChain: existing.certificateChain,
                privateKey: existing.privateKey,
                authorityFile: files.authority
            )
        }
        try Self.makeSelfSigned(files: files, names: names, now: now)
        var made = try ServerTLS(certificateFile: files.certificate, keyFile: files.key)
        made.authorityFile = files.authority
        return made
    }

    /// The names a development certificate carries: loopback, and each host (an IP address or a DNS name).
    static func subjectNames(_ hosts: [String]) -> [GeneralName] {
        var names: [GeneralName] = [.dnsName("localhost"), Self.ipName("127.0.0.1")!, Self.ipName("::1")!]
        for host in hosts where !host.isEmpty && host != "0.0.0.0" && host != "::" {
            let name = Self.ipName(host) ?? .dnsName(host)
            if !names.contains(name) { names.append(name) }
        }
        return names
    }

    private static func ipName(_ text: String) -> GeneralName? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return .ipAddress(ASN1OctetString(contentBytes: withUnsafeBytes(of: &v4) { Array($0)[...] }))
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            return .ipAddress(ASN1OctetString(contentBytes: withUnsafeBytes(of: &v6) { Array($0)[...] }))
        }
        return nil
    }

    private static func makeSelfSigned(files: SelfSignedFiles, names: [GeneralName], now: Date) throws {
        do {
            try FileManager.default.createDirectory(atPath: files.directory, withIntermediateDirectories: true)
            let authorityKey = P256.Signing.PrivateKey()
            let authorityName = try DistinguishedName {
                OrganizationName("Conduit")
                CommonName("Conduit development CA (\(ProcessInfo.processInfo.hostName))")
            }
            let authority = try Certificate(
                version: .v3,
                serialNumber: Certificate.SerialNumber(),
                publicKey: .init(authorityKey.publicKey),
                notValidBefore: now.addingTimeInterval(-3600),
                notValidAfter: now.addingTimeInterval(825 * 86_400),
                issuer: authorityName,
                subject: authorityName,
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                    Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                    SubjectKeyIdentifier(hash: .init(authorityKey.publicKey))
                },
                issuerPrivateKey: .init(authorityKey)
            )
            let serverKey = P256.Signing.PrivateKey()
            let server = try Certificate(
                version: .v3,
                serialNumber: Certificate.SerialNumber(),
                publicKey: .init(serverKey.publicKey),
                notValidBefore: now.addingTimeInterval(-3600),
                notValidAfter: now.addingTimeInterval(397 * 86_400),
                issuer: authorityName,
                subject: try DistinguishedName {
                    OrganizationName("Conduit")
                    CommonName("Conduit development server")
                },
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.notCertificateAuthority)
                    Critical(KeyUsage(digitalSignature: true))
                    try ExtendedKeyUsage([.serverAuth])
                    SubjectAlternativeNames(names)
                    AuthorityKeyIdentifier(keyIdentifier: try authority.extensions.subjectKeyIdentifier?.keyIdentifier)
                },
                issuerPrivateKey: .init(authorityKey)
            )
            try Self.write(try authority.serializeAsPEM().pemString, to: files.authority, mode: 0o644)
            try Self.write(authorityKey.pemRepresentation, to: files.authorityKey, mode: 0o600)
            try Self.write(try server.serializeAsPEM().pemString, to: files.certificate, mode: 0o644)
            try Self.write(serverKey.pemRepresentation, to: files.key, mode: 0o600)
        } catch let error as ServerTLSError {
            throw error
        } catch {
            throw ServerTLSError("Cannot make a development certificate in \(files.directory): \(error).")
        }
    }

    private static func write(_ text: String, to path: String, mode: Int) throws {
        guard
            FileManager.default.createFile(
                atPath: path,
                contents: Data((text.hasSuffix("\n") ? text : text + "\n").utf8),
                attributes: [.posixPermissions: mode]
            )
        else { throw ServerTLSError("Cannot write \(path).") }
    }
}

/// A TLS certificate or key that cannot be used, and why.
public struct ServerTLSError: Error, CustomStringConvertible, Sendable {
    public let message: String
    init(_ message: String) { self.message = message }
    public var description: String { message }
}
