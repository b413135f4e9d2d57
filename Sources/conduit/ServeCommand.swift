import ArgumentParser
import ConduitPlatform
import ConduitServer
import ConduitStore
import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

/// `conduit serve`: the data platform and its Web API, on the embedded SQLite database or PostgreSQL.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract:
            "Run Conduit: the Web API, the event pipeline and the embedded bus, on SQLite (default) or PostgreSQL.",
        discussion: """
            With no options it keeps its data in ./conduit-data (SQLite, WAL) and listens on 127.0.0.1:8080. \
            Each option has a CONDUIT_… environment twin (CONDUIT_HOST, CONDUIT_PORT, CONDUIT_DATA_DIR, \
            CONDUIT_DATABASE, CONDUIT_ORGANIZATION, CONDUIT_WORKERS, CONDUIT_RETRY_GIVE_UP_HOURS, \
            CONDUIT_JOB_LEASE_SECONDS, CONDUIT_JOB_RETENTION_DAYS, CONDUIT_NAMESPACE, CONDUIT_ORGANIZATION_URL, \
            CONDUIT_REMOTE_CA, CONDUIT_LOG_LEVEL). SIGINT or SIGTERM stops it gracefully. \
            The asynchronous service runs system jobs with --workers workers, retrying failed posts with \
            exponential backoff and full jitter (5 s, 10 s, 20 s … up to 1 h between tries) until --retry-give-up. \
            The embedded bus (queues, topics, event hubs; Service Bus REST and management API) is on the same HTTP \
            port; its connection string is printed and written to <data-dir>/bus.connection. The bus also speaks \
            AMQP 1.0 for the Azure Service Bus and Event Hubs SDKs, on --amqp-port (5672; CONDUIT_AMQP_PORT) and \
            over WebSockets on the HTTP port; that connection string is in <data-dir>/amqp.connection. \
            The relay's hybrid connections (one-way, two-way and REST endpoints) are on the HTTP port too \
            (/$hc/{name} for listeners). Background workflows run as system jobs. /metrics (Prometheus), /health \
            and /ready are on the HTTP port; --log-format json writes JSON log lines; --trace-log logs tracing \
            spans. The System Jobs console is at the HTTP address (sign in with an API key). \
            TLS: --tls-certificate and --tls-key (PEM), or --tls self-signed (a development CA and certificate in \
            <data-dir>/tls, made once; trust its ca.pem), serve HTTPS on --https-port (8443) and AMQPS on \
            --amqps-port (5671) beside the plain ports, or instead of them with --no-plain. On an address other \
            than loopback the plain ports are off unless --plain is given.
            """
    )

    @Option(help: "The address to listen on.")
    var host: String = ProcessInfo.processInfo.environment["CONDUIT_HOST"] ?? "127.0.0.1"

    @Option(help: "The HTTP port (0 picks a free one).")
    var port: Int = Int(ProcessInfo.processInfo.environment["CONDUIT_PORT"] ?? "") ?? 8080

    @Option(name: .customLong("data-dir"), help: "Where the embedded database and admin.key live.")
    var dataDirectory: String = ProcessInfo.processInfo.environment["CONDUIT_DATA_DIR"] ?? "./conduit-data"

    @Option(help: "postgres://user@host:port/database to use PostgreSQL instead of the embedded SQLite database.")
    var database: String? = ProcessInfo.processInfo.environment["CONDUIT_DATABASE"]

    @Option(help: "The organization's unique name (used on first start).")
    var organization: String = ProcessInfo.processInfo.environment["CONDUIT_ORGANIZATION"] ?? "conduit"

    @Option(help: "System jobs this node runs at once (0: run none here; another node does).")
    var workers: Int =
        Int(ProcessInfo.processInfo.environment["CONDUIT_WORKERS"] ?? "") ?? AsyncServiceConfiguration().workers

    @Option(
        name: .customLong("retry-give-up"),
        help: "Hours after which a system job whose posts keep failing stops retrying and fails."
    )
    var retryGiveUpHours: Double =
        Double(ProcessInfo.processInfo.environment["CONDUIT_RETRY_GIVE_UP_HOURS"] ?? "") ?? 24

    @Option(
        name: .customLong("job-lease"),
        help: "Seconds a node holds a running system job without renewing it; after that another node may take it."
    )
    var jobLeaseSeconds: Double = Double(ProcessInfo.processInfo.environment["CONDUIT_JOB_LEASE_SECONDS"] ?? "") ?? 60

    @Option(
        name: .customLong("job-retention"),
        help: "Days completed system jobs are kept before they are deleted (0 keeps them)."
    )
    var jobRetentionDays: Double = Double(ProcessInfo.processInfo.environment["CONDUIT_JOB_RETENTION_DAYS"] ?? "") ?? 7

    @Option(
        name: .customLong("namespace"),
        help: "The embedded bus's namespace name: endpoints addressed sb://<name>/ post to it (CONDUIT_NAMESPACE)."
    )
    var namespaceName: String = ProcessInfo.processInfo.environment["CONDUIT_NAMESPACE"] ?? "localhost"

    @Option(
        name: .customLong("organization-url"),
        help: "The organization's URI in posted messages' Claims/Organization property (default http://<host>:<port>/)."
    )
    var organizationURL: String? = ProcessInfo.processInfo.environment["CONDUIT_ORGANIZATION_URL"]

    @Option(
        name: .customLong("remote-ca"),
        help:
            "A PEM file of the CAs that remote namespaces' certificates must chain to (default: the system's) (CONDUIT_REMOTE_CA)."
    )
    var remoteCA: String? = ProcessInfo.processInfo.environment["CONDUIT_REMOTE_CA"]

    @Option(
        name: .customLong("amqp-port"),
        help:
            "The embedded bus's AMQP 1.0 port for the Azure SDKs (0 picks a free one); its connection string goes to <data-dir>/amqp.connection (CONDUIT_AMQP_PORT)."
    )
    var amqpPort: Int = ProcessInfo.processInfo.environment["CONDUIT_AMQP_PORT"].flatMap { Int($0) } ?? 5672

    @Flag(name: .customLong("no-amqp"), help: "Serve no AMQP (the bus stays reachable over REST).")
    var noAMQP = false

    @Option(
        name: .customLong("log-level"),
        help: "trace, debug, info, notice, warning, error or critical (debug shows every SQL statement)."
    )
    var logLevel: String = ProcessInfo.processInfo.environment["CONDUIT_LOG_LEVEL"] ?? "info"

    @Option(
        name: .customLong("log-format"),
        help: "text (one line per event) or json (one JSON object per line, metadata as keys); also CONDUIT_LOG_FORMAT."
    )
    var logFormat: String = ProcessInfo.processInfo.environment["CONDUIT_LOG_FORMAT"] ?? "text"

    @Flag(
        name: .customLong("trace-log"),
        help: """
            Trace each change's way (Web API request, pipeline, system job, post) and log every span as it ends \
            (label conduit.trace; with --log-format json one object per span); also CONDUIT_TRACE_LOG=1.
            """
    )
    var traceLog = ProcessInfo.processInfo.environment["CONDUIT_TRACE_LOG"] == "1"

    @Option(
        name: .customLong("tls-certificate"),
        help:
            "A PEM file with the server's certificate (then any intermediates) for HTTPS and AMQPS (CONDUIT_TLS_CERTIFICATE)."
    )
    var tlsCertificate: String? = ProcessInfo.processInfo.environment["CONDUIT_TLS_CERTIFICATE"]

    @Option(
        name: .customLong("tls-key"),
        help: "The PEM file of that certificate's private key (CONDUIT_TLS_KEY)."
    )
    var tlsKey: String? = ProcessInfo.processInfo.environment["CONDUIT_TLS_KEY"]

    @Option(
        name: .customLong("tls"),
        help: """
            self-signed: serve TLS with a development certificate for --host and loopback, signed by a local CA, \
            both kept in <data-dir>/tls (made on first use; trust <data-dir>/tls/ca.pem in clients) (CONDUIT_TLS).
            """
    )
    var tlsMode: String? = ProcessInfo.processInfo.environment["CONDUIT_TLS"]

    @Option(name: .customLong("https-port"), help: "The HTTPS port when TLS is on (0 picks a free one).")
    var httpsPort: Int = ProcessInfo.processInfo.environment["CONDUIT_HTTPS_PORT"].flatMap { Int($0) } ?? 8443

    @Option(name: .customLong("amqps-port"), help: "The AMQPS port when TLS is on (0 picks a free one).")
    var amqpsPort: Int = ProcessInfo.processInfo.environment["CONDUIT_AMQPS_PORT"].flatMap { Int($0) } ?? 5671

    @Flag(
        inversion: .prefixedNo,
        help: """
            Serve the plain-text ports (HTTP --port, AMQP --amqp-port) beside the TLS ones. Default: on for a \
            loopback --host, off otherwise (then TLS is needed).
            """
    )
    var plain: Bool?

    /// Whether --host is a loopback address.
    var hostIsLoopback: Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// Whether the plain-text listeners run.
    var servesPlain: Bool { plain ?? hostIsLoopback }

    func validate() throws {
        guard logFormat == "text" || logFormat == "json" else {
            throw ValidationError("--log-format must be text or json, not '\(logFormat)'.")
        }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError(
                "--log-level must be one of trace, debug, info, notice, warning, error, critical; not '\(logLevel)'."
            )
        }
        guard workers >= 0 else { throw ValidationError("--workers must be 0 or more, not \(workers).") }
        guard retryGiveUpHours >= 0, retryGiveUpHours.isFinite else {
            throw ValidationError("--retry-give-up must be a number of hours, 0 or more.")
        }
        guard jobLeaseSeconds >= 1, jobLeaseSeconds.isFinite else {
            throw ValidationError("--job-lease must be a number of seconds, 1 or more.")
        }
        guard jobRetentionDays >= 0, jobRetentionDays.isFinite else {
            throw ValidationError("--job-retention must be a number of days, 0 or more.")
        }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be from 0 to 65535, not \(port).") }
        if let tlsMode, tlsMode != "self-signed" {
            throw ValidationError(
                "--tls takes self-signed (or give --tls-certificate and --tls-key), not '\(tlsMode)'."
            )
        }
        if tlsMode != nil, tlsCertificate != nil || tlsKey != nil {
            throw ValidationError("Give either --tls self-signed or --tls-certificate and --tls-key, not both.")
        }
        if (tlsCertificate == nil) != (tlsKey == nil) {
            throw ValidationError("--tls-certificate and --tls-key go together: give both PEM files.")
        }
        for (flag, file) in [("--tls-certificate", tlsCertificate), ("--tls-key", tlsKey)] {
            if let file, !FileManager.default.isReadableFile(atPath: file) {
                throw ValidationError("\(flag): cannot read the file \(file).")
            }
        }
        let servesTLS = tlsMode != nil || tlsCertificate != nil
        if !servesPlain && !servesTLS {
            throw ValidationError(
                hostIsLoopback
                    ? "--no-plain leaves nothing to listen on: give a certificate (--tls-certificate and --tls-key, or --tls self-signed)."
                    : "Conduit does not serve plain text on \(host) (not a loopback address) unless asked: give a certificate (--tls-certificate and --tls-key, or --tls self-signed), or --plain."
            )
        }
        for (flag, value) in [("--https-port", httpsPort), ("--amqps-port", amqpsPort)] {
            guard (0...65535).contains(value) else {
                throw ValidationError("\(flag) must be from 0 to 65535, not \(value).")
            }
        }
        guard (0...65535).contains(amqpPort) else {
            throw ValidationError("--amqp-port must be from 0 to 65535, not \(amqpPort).")
        }
        if let remoteCA, !FileManager.default.isReadableFile(atPath: remoteCA) {
            throw ValidationError("--remote-ca: cannot read the file \(remoteCA).")
        }
        guard !namespaceName.isEmpty, !namespaceName.contains(where: { $0 == "/" || $0 == ":" || $0 == " " }) else {
            throw ValidationError("--namespace must be a host name such as localhost, not '\(namespaceName)'.")
        }
    }

    func run() async throws {
        if logFormat == "json" { LoggingSystem.bootstrap { JSONLogHandler(label: $0) } }
        var logger = Logger(label: "conduit")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let backend: StoreConfiguration.Backend
        let databaseText: String
        if let database {
            guard database.hasPrefix("postgres://") || database.hasPrefix("postgresql://") else {
                throw CommandFailure(
                    "--database must be a postgres:// URL (without it Conduit uses SQLite in --data-dir)."
                )
            }
            backend = .postgres(url: database)
            databaseText =
                "PostgreSQL "
                + database.replacingOccurrences(of: #"://[^@/]*@"#, with: "://…@", options: .regularExpression)
        } else {
            try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
            let path = (dataDirectory as NSString).appendingPathComponent("conduit.sqlite")
            backend = .sqlite(path: path)
            databaseText = "SQLite " + path
        }
        let store = Store(configuration: StoreConfiguration(backend: backend), logger: logger)
        var jobsConfiguration: AsyncServiceConfiguration?
        if workers > 0 {
            var retry = RetryPolicy.default
            retry.giveUpAfter = .seconds(retryGiveUpHours * 3600)
            jobsConfiguration = AsyncServiceConfiguration(
                workers: workers,
                leaseDuration: .seconds(jobLeaseSeconds),
                retryPolicy: retry,
                retention: jobRetentionDays > 0 ? .seconds(jobRetentionDays * 86400) : nil
            )
        }
        var loaded: ServerTLS?
        if let tlsCertificate, let tlsKey {
            do {
                loaded = try ServerTLS(certificateFile: tlsCertificate, keyFile: tlsKey)
            } catch let error as ServerTLSError {
                throw CommandFailure(error.message)
            }
        } else if tlsMode == "self-signed" {
            do {
                loaded = try ServerTLS.selfSigned(
                    directory: (dataDirectory as NSString).appendingPathComponent("tls"),
                    hosts: [host]
                )
            } catch let error as ServerTLSError {
                throw CommandFailure(error.message)
            }
        }
        let tls = loaded
        let servesPlain = self.servesPlain
        let host = self.host
        let server = ConduitHTTPServer(
            configuration: ServerConfiguration(
                host: host,
                port: port,
                dataDirectory: dataDirectory,
                organizationName: organization,
                jobs: jobsConfiguration,
                namespaceName: namespaceName,
                organizationURL: organizationURL,
                remoteCAFile: remoteCA,
                amqpPort: noAMQP ? nil : amqpPort,
                traceLog: traceLog,
                tls: tls,
                httpsPort: httpsPort,
                amqpsPort: noAMQP ? nil : amqpsPort,
                plainListeners: servesPlain
            ),
            store: store,
            plugins: .withSamples(),
            logger: logger
        ) { ready in
            // The connection strings for 'conduit listen' and the Azure SDKs, readable by this user only.
            func writePrivate(_ name: String, _ text: String) -> String {
                let path = (dataDirectory as NSString).appendingPathComponent(name)
                FileManager.default.createFile(
                    atPath: path,
                    contents: Data((text + "\n").utf8),
                    attributes: [.posixPermissions: 0o600]
                )
                return path
            }
            let connectionFile = writePrivate("bus.connection", ready.busConnectionString)
            var lines = [
                "Conduit is running.",
                "  Web API:      \(ready.webAPIURL)",
                "  Console:      \(ready.webAPIURL.replacingOccurrences(of: "api/data/v9.2/", with: "")) (sign in with the API key)",
                "  Database:     \(databaseText)",
                "  Bus (REST):   \(ready.busConnectionString)",
                "                (also in \(connectionFile), for 'conduit listen --connection-string')",
            ]
            if let https = ready.httpsPort, let tls {
                lines.append("  HTTPS:        https://\(host):\(https)/ (certificate SHA-256 \(tls.fingerprint))")
                if let authority = tls.authorityFile {
                    lines.append("                development CA to trust: \(authority)")
                }
            }
            if let amqps = ready.amqpsConnectionString {
                let amqpsFile = writePrivate("amqps.connection", amqps)
                lines += [
                    "  Bus (AMQPS):  \(amqps)",
                    "                (also in \(amqpsFile))",
                ]
            }
            if !servesPlain {
                lines.append("  Plain HTTP and AMQP: off")
            } else if let amqp = ready.amqpConnectionString {
                let amqpFile = writePrivate("amqp.connection", amqp)
                lines += [
                    "  Bus (AMQP):   \(amqp)",
                    "                (also in \(amqpFile), for the Azure Service Bus and Event Hubs SDKs)",
                ]
            } else if noAMQP {
                lines.append("  Bus (AMQP):   off (--no-amqp)")
            } else {
                lines.append("  Bus (AMQP):   not listening (see the error below)")
            }
            lines.append("  API key file: \(ready.administratorKeyPath) (send it as 'Authorization: Bearer <key>')")
            FileHandle.standardOutput.write(Data((lines.joined(separator: "\n") + "\n").utf8))
        }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: store), .init(service: server)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
    }
}
