import AnvcsHTTP

/// The one error type of AnvcsStorage. Each case says what failed, why, and with what input.
public enum StorageError: Error, Sendable, CustomStringConvertible {
    /// S3 (or an S3-compatible server) answered with an error document.
    case s3(status: Int, code: String, message: String, operation: String, resource: String, requestId: String?)
    /// The request signature was rejected and the server's clock differs from ours by `skewSeconds`.
    case clockSkew(skewSeconds: Double, operation: String, resource: String)
    /// The network failed, after `attempts` tries.
    case network(underlying: HTTPError, operation: String, attempts: Int)
    /// An IPFS (Kubo RPC API) call failed; `message` is Kubo's.
    case ipfs(operation: String, status: Int, message: String)
    /// A precondition (`If-Match`, `If-None-Match`) did not hold.
    case preconditionFailed(operation: String, resource: String)
    case notFound(key: String, versionId: String?, store: String)
    /// Downloaded (or stored) bytes do not hash to the pinned sha256.
    case digestMismatch(key: String, expected: String, actual: String)
    case sizeMismatch(key: String, expected: UInt64, actual: UInt64)
    case fileSystem(operation: String, path: String, errno: Int32)
    case invalidResponse(operation: String, detail: String)
    case credentialsUnavailable(detail: String)
    case invalidConfiguration(detail: String)
    case invalidKey(key: String, reason: String)
    /// Every store of a composite failed; each failure is kept.
    case allStoresFailed(operation: String, failures: [String])

    public var description: String {
        switch self {
        case .s3(let status, let code, let message, let operation, let resource, let requestId):
            let id = requestId.map { " request id \($0)" } ?? ""
            return "\(operation) \(resource) failed: HTTP \(status) \(code): \(message)\(id)"
        case .clockSkew(let skew, let operation, let resource):
            let rounded = (skew * 10).rounded() / 10
            return "\(operation) \(resource) was refused because this machine's clock is \(abs(rounded)) s "
                + (skew > 0 ? "ahead of" : "behind") + " the server's; fix the system clock (NTP)"
        case .network(let underlying, let operation, let attempts):
            return "\(operation) failed after \(attempts) attempt(s): \(underlying)"
        case .ipfs(let operation, let status, let message):
            return "IPFS \(operation) failed: HTTP \(status): \(message)"
        case .preconditionFailed(let operation, let resource):
            return "\(operation) \(resource): the object changed (precondition failed)"
        case .notFound(let key, let versionId, let store):
            return "\(store): no object \(key)" + (versionId.map { " version \($0)" } ?? "")
        case .digestMismatch(let key, let expected, let actual):
            return "\(key): content sha256 \(actual) does not match the pinned \(expected); destination left untouched"
        case .sizeMismatch(let key, let expected, let actual):
            return "\(key): \(actual) bytes where the pin says \(expected)"
        case .fileSystem(let operation, let path, let code):
            return "\(operation) \(path) failed: \(String(cString: strerror(code))) (errno \(code))"
        case .invalidResponse(let operation, let detail):
            return "\(operation): unexpected response: \(detail)"
        case .credentialsUnavailable(let detail):
            return "no AWS credentials: \(detail)"
        case .invalidConfiguration(let detail):
            return "storage configuration: \(detail)"
        case .invalidKey(let key, let reason):
            return "invalid key \(key): \(reason)"
        case .allStoresFailed(let operation, let failures):
            return "\(operation) failed in every store: " + failures.joined(separator: "; ")
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
