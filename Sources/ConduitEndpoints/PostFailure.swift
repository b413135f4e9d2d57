import ConduitPlatform

/// The failures a post to a namespace ends in, whatever the transport (the embedded bus, the REST API, AMQP): each
/// with what a person can do about it, so that a job's `friendlymessage` reads the same for every transport. All of
/// them leave the job to retry.
enum PostFailure {
    /// Whether a transport's error text is about the peer's TLS certificate.
    static func isCertificateProblem(_ text: String) -> Bool {
        text.contains("CERTIFICATE_VERIFY_FAILED") || text.lowercased().contains("certificate")
    }

    /// The namespace's certificate is not trusted here.
    static func untrustedCertificate(_ address: EndpointAddress, _ detail: String) -> ExternalServiceError {
        ExternalServiceError(
            "The namespace \(address) presented a TLS certificate this server does not trust: \(detail).",
            friendlyMessage:
                "Give conduit serve the certificate authority of the remote namespace (--remote-ca FILE); the job will try again."
        )
    }

    /// The endpoint's SAS key or token was refused (`message` says by whom and how).
    static func refusedCredentials(_ message: String) -> ExternalServiceError {
        ExternalServiceError(
            message,
            friendlyMessage: "Fix the service endpoint's SAS key or token, then retry the job."
        )
    }

    /// The entity `path` does not exist (`message` says where).
    static func missingEntity(_ message: String, path: String) -> ExternalServiceError {
        ExternalServiceError(
            message,
            friendlyMessage: "Create '\(path)' in the namespace; the job posts on its next attempt."
        )
    }

    /// The namespace could not be reached (`message` says how).
    static func unreachable(_ message: String) -> ExternalServiceError {
        ExternalServiceError(
            message,
            friendlyMessage: "The remote namespace is down or unreachable; the job will try again."
        )
    }
}
