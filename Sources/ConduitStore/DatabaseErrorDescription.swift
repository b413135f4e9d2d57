import ConduitSQLite
import Foundation
import NIOCore
import NIOPosix
import PostgresKit

/// A short, secret-free description of an error from SQLite, PostgreSQL or NIO, for ``StoreError`` messages.
func describeDatabaseError(_ error: any Error) -> String {
    switch error {
    case let error as StoreError:
        return error.message
    case let error as PSQLError:
        return describePostgresError(error)
    case let error as SQLiteFailure:
        return error.message
    case let error as NIOConnectionError:
        if let failure = error.connectionErrors.first {
            return describeDatabaseError(failure.error)
        }
        if let dnsError = error.dnsAError ?? error.dnsAAAAError {
            return "cannot resolve the host name (\(dnsError))"
        }
        return "cannot connect"
    case let error as IOError:
        return describeErrno(error.errnoCode)
    case let error as ChannelError:
        if case .connectTimeout(let amount) = error {
            return "no answer within \(amount.nanoseconds / 1_000_000_000) s (connection timed out)"
        }
        return "\(error)"
    case is CancellationError:
        return "cancelled"
    default:
        return "\(error)"
    }
}

private func describePostgresError(_ error: PSQLError) -> String {
    switch error.code {
    case .server:
        let message = error.serverInfo?[.message] ?? "the server reported an error"
        if let state = error.serverInfo?[.sqlState] {
            return "\(message) (SQLSTATE \(state))"
        }
        return message
    case .sslUnsupported:
        return "the server does not support TLS; add ?sslmode=disable to the URL to connect without it"
    case .connectionError, .failedToAddSSLHandler:
        if let underlying = error.underlying {
            return describeDatabaseError(underlying)
        }
        return "connection error"
    case .serverClosedConnection:
        return "the server closed the connection"
    case .clientClosedConnection:
        return "the connection was closed"
    case .authMechanismRequiresPassword:
        return "the server asks for a password; put it in the URL (postgres://user:password@host/database)"
    case .unsupportedAuthMechanism:
        return "the server asks for an authentication method this client does not support"
    case .saslError:
        return "SCRAM authentication failed"
    case .poolClosed:
        return "the connection pool is closed"
    case .queryCancelled:
        return "cancelled"
    default:
        if let underlying = error.underlying {
            return "\(error.code): \(describeDatabaseError(underlying))"
        }
        return "\(error.code)"
    }
}

private func describeErrno(_ code: CInt) -> String {
    switch code {
    case ECONNREFUSED: return "connection refused"
    case ETIMEDOUT: return "connection timed out"
    case EHOSTUNREACH: return "host unreachable"
    case ENETUNREACH: return "network unreachable"
    case ECONNRESET: return "connection reset"
    default: return String(cString: strerror(code)).lowercased()
    }
}
