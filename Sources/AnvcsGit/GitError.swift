import CLibgit2
import CLibgit2Startup

/// A failed libgit2 call: which call, its return code and libgit2's own message.
public struct GitError: Error, CustomStringConvertible, Sendable {
    public enum Code: Sendable, Equatable {
        case notFound, exists, ambiguous, modified, locked, invalidSpec, bareRepository, unbornBranch
        case other(Int32)

        init(_ raw: Int32) {
            switch raw {
            case GIT_ENOTFOUND.rawValue: self = .notFound
            case GIT_EEXISTS.rawValue: self = .exists
            case GIT_EAMBIGUOUS.rawValue: self = .ambiguous
            case GIT_EMODIFIED.rawValue: self = .modified
            case GIT_ELOCKED.rawValue: self = .locked
            case GIT_EINVALIDSPEC.rawValue: self = .invalidSpec
            case GIT_EBAREREPO.rawValue: self = .bareRepository
            case GIT_EUNBORNBRANCH.rawValue: self = .unbornBranch
            default: self = .other(raw)
            }
        }
    }

    public let call: String
    public let code: Code
    public let message: String

    public init(call: String, code: Code, message: String) {
        self.call = call
        self.code = code
        self.message = message
    }

    public var description: String { "\(call) failed: \(message)" }
}

/// Runs a libgit2 call and turns a negative return into a `GitError`, reading libgit2's
/// thread-local error message at once (before any other call can replace it).
@discardableResult
func check(_ call: @autoclosure () -> String, _ result: Int32) throws(GitError) -> Int32 {
    guard result < 0 else { return result }
    var message = "error \(result)"
    if let last = git_error_last(), let text = last.pointee.message {
        message = String(cString: text).trimmingTrailingNewlines()
    }
    throw GitError(call: call(), code: .init(result), message: message)
}

extension String {
    func trimmingTrailingNewlines() -> String {
        var s = Substring(self)
        while let last = s.last, last == "\n" || last == "\r" { s.removeLast() }
        return String(s)
    }
}

/// libgit2 must be initialised once per process; a global initialiser runs exactly once.
/// Its request to parse the system CA bundle is declined by CLibgit2Startup (why: see there).
let libgit2Initialized: Bool = {
    git_libgit2_init() > 0
}()

/// How libgit2 started in this process: whether it initialised, and how many CA-bundle parses it
/// asked for (each declined: ANVCS never uses libgit2's TLS transports).
public enum Libgit2Startup {
    public static var initialized: Bool { libgit2Initialized }
    public static var declinedCABundleParses: Int { Int(anvcs_libgit2_ca_bundle_requests()) }
}

@inline(__always) func ensureLibgit2() { precondition(libgit2Initialized) }
