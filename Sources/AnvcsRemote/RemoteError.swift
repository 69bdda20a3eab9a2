import AnvcsGit
import AnvcsStorage

/// The one error type of AnvcsRemote. Each case says what failed, why, and with what input.
public enum RemoteError: Error, Sendable, CustomStringConvertible {
    /// The URL after `anvcs::` cannot be used.
    case invalidURL(url: String, reason: String)
    /// The refs manifest of an object-store remote is not one this helper can trust.
    case invalidManifest(location: String, reason: String)
    /// A pack the manifest lists is not in the store.
    case missingPack(name: String, location: String)
    /// A downloaded pack failed verification; nothing was written to the local repository.
    case corruptPack(name: String, location: String, detail: String)
    /// The store cannot guarantee safe concurrent pushes (no versioning, no conditional writes).
    case unsafeStore(location: String, reason: String)
    /// The store refused our credentials.
    case accessDenied(location: String, detail: String)
    case storage(StorageError, location: String)
    case git(GitError)
    /// A git (or git-anvcs) process we ran failed.
    case process(command: String, status: Int32, stderr: String)
    /// The helper protocol was violated by what git sent.
    case protocolViolation(line: String, reason: String)
    /// Another writer kept winning the compare-and-swap of the refs manifest.
    case contention(location: String, attempts: Int)
    case fileSystem(operation: String, path: String, errno: Int32)

    public var description: String {
        switch self {
        case .invalidURL(let url, let reason):
            return "anvcs::\(url): \(reason)"
        case .invalidManifest(let location, let reason):
            return "\(location)/refs.json is not a valid anvcs refs manifest: \(reason); the remote needs repair (restore a previous version of refs.json)"
        case .missingPack(let name, let location):
            return "\(location): pack \(name) is listed in refs.json but missing from the store; nothing was fetched"
        case .corruptPack(let name, let location, let detail):
            return "\(location): pack \(name) failed verification (\(detail)); nothing was fetched"
        case .unsafeStore(let location, let reason):
            return "\(location): \(reason); refusing to use it as a repository (add ?unsafe=true to the URL to accept lost updates)"
        case .accessDenied(let location, let detail):
            return "\(location): access denied: \(detail); check the credentials (AWS_PROFILE, ?profile=, AWS_ACCESS_KEY_ID)"
        case .storage(let error, let location):
            return "\(location): \(error)"
        case .git(let error):
            return error.description
        case .process(let command, let status, let stderr):
            let text = stderr.split(separator: "\n").suffix(3).joined(separator: "; ")
            return "\(command) exited with \(status)" + (text.isEmpty ? "" : ": \(text)")
        case .protocolViolation(let line, let reason):
            return "remote helper protocol: \(reason) in '\(line)'"
        case .contention(let location, let attempts):
            return "\(location): the refs manifest changed under us \(attempts) times in a row; try the push again"
        case .fileSystem(let operation, let path, let code):
            return "\(operation) \(path) failed: \(String(cString: strerror(code))) (errno \(code))"
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
