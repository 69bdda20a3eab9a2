import CLibgit2

/// A commit read out of the object database: a plain value, no C handle kept.
public struct Commit: Sendable {
    public let id: ObjectID
    public let parents: [ObjectID]
    public let tree: ObjectID
    public let author: Signature
    public let committer: Signature
    /// The full message, as stored.
    public let message: String

    /// The first line of the message.
    public var summary: String {
        message.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
    }
    public var isMerge: Bool { parents.count > 1 }
}

extension Repository {
    /// Reads the commit `id`.
    public func commit(_ id: ObjectID) throws(GitError) -> Commit {
        var raw = id.raw
        var handle: OpaquePointer?
        try check("git_commit_lookup(\(id.short))", git_commit_lookup(&handle, pointer, &raw))
        defer { git_commit_free(handle) }
        let count = git_commit_parentcount(handle)
        var parents: [ObjectID] = []
        parents.reserveCapacity(Int(count))
        for i in 0..<count { parents.append(ObjectID(git_commit_parent_id(handle, i))) }
        let message = git_commit_message_raw(handle).map { String(cString: $0) } ?? ""
        return Commit(
            id: id, parents: parents, tree: ObjectID(git_commit_tree_id(handle)),
            author: Signature(git_commit_author(handle)), committer: Signature(git_commit_committer(handle)),
            message: message)
    }
}
