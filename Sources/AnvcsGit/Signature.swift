import CLibgit2

/// Who and when: an author or committer line of a commit.
public struct Signature: Sendable, Equatable {
    public var name: String
    public var email: String
    /// Seconds since the epoch.
    public var time: Int64
    /// Offset from UTC in minutes.
    public var offsetMinutes: Int32

    public init(name: String, email: String, time: Int64, offsetMinutes: Int32 = 0) {
        self.name = name
        self.email = email
        self.time = time
        self.offsetMinutes = offsetMinutes
    }

    init(_ sig: UnsafePointer<git_signature>) {
        name = sig.pointee.name.map { String(cString: $0) } ?? ""
        email = sig.pointee.email.map { String(cString: $0) } ?? ""
        time = sig.pointee.when.time
        offsetMinutes = sig.pointee.when.offset
    }

    /// Calls `body` with a libgit2 signature that lives only for the call.
    func withGitSignature<T>(_ body: (UnsafeMutablePointer<git_signature>) throws(GitError) -> T) throws(GitError) -> T {
        var sig: UnsafeMutablePointer<git_signature>?
        try check("git_signature_new", git_signature_new(&sig, name, email, time, offsetMinutes))
        defer { git_signature_free(sig) }
        return try body(sig!)
    }
}
