import CLibgit2

/// A regular file of a commit's tree that the commit introduced.
public struct IntroducedFile: Sendable, Equatable {
    public var path: String
    public var blob: ObjectID
}

extension Repository {
    /// The regular files (modes 100644 and 100755) of `commit` whose blob is at that path in no
    /// parent: every file of a root commit, what changed against the parent otherwise, and for a
    /// merge only what differs from every parent (`git diff-tree -r -c --root --no-renames`,
    /// files only; a change of mode alone introduces no new content and is not listed).
    /// A subtree identical to the one of any parent is skipped whole, so the cost follows what
    /// changed, not the size of the tree.
    public func introducedFiles(commit id: ObjectID) throws(GitError) -> [IntroducedFile] {
        let commit = try commit(id)
        let tree = try lookupTree(commit.tree)
        defer { git_tree_free(tree) }
        var parents: [OpaquePointer?] = []
        defer { for p in parents { git_tree_free(p) } }
        for parent in commit.parents {
            parents.append(try lookupTree(try self.commit(parent).tree))
        }
        var found: [IntroducedFile] = []
        try collect(tree, parents: parents, prefix: "", into: &found)
        return found
    }

    private func lookupTree(_ id: ObjectID) throws(GitError) -> OpaquePointer? {
        var raw = id.raw
        var tree: OpaquePointer?
        try check("git_tree_lookup(\(id.short))", git_tree_lookup(&tree, pointer, &raw))
        return tree
    }

    /// Walks `tree` against the same directory of each parent (nil: the parent lacks it).
    private func collect(_ tree: OpaquePointer?, parents: [OpaquePointer?], prefix: String,
                         into found: inout [IntroducedFile]) throws(GitError) {
        guard let tree else { return }
        for index in 0..<git_tree_entrycount(tree) {
            guard let entry = git_tree_entry_byindex(tree, index), let name = git_tree_entry_name(entry),
                  let id = git_tree_entry_id(entry) else { continue }
            let counterparts = parents.map { parent in parent.flatMap { git_tree_entry_byname($0, name) } }
            // The same object at this name in some parent: nothing below differs from every parent.
            if !parents.isEmpty, counterparts.contains(where: { counterpart in
                counterpart.flatMap { git_tree_entry_id($0) }.map { git_oid_equal($0, id) == 1 } ?? false }) {
                continue
            }
            let path = prefix + String(cString: name)
            switch git_tree_entry_filemode(entry) {
            case GIT_FILEMODE_TREE:
                var subtree: OpaquePointer?
                try check("git_tree_lookup(\(path))", git_tree_lookup(&subtree, pointer, id))
                defer { git_tree_free(subtree) }
                var parentSubtrees: [OpaquePointer?] = []
                defer { for p in parentSubtrees { git_tree_free(p) } }
                for counterpart in counterparts {
                    guard let counterpart, git_tree_entry_filemode(counterpart) == GIT_FILEMODE_TREE else {
                        parentSubtrees.append(nil)
                        continue
                    }
                    var p: OpaquePointer?
                    try check("git_tree_lookup(\(path))", git_tree_lookup(&p, pointer, git_tree_entry_id(counterpart)))
                    parentSubtrees.append(p)
                }
                try collect(subtree, parents: parentSubtrees, prefix: path + "/", into: &found)
            case GIT_FILEMODE_BLOB, GIT_FILEMODE_BLOB_EXECUTABLE:
                found.append(IntroducedFile(path: path, blob: ObjectID(id)))
            default:
                continue  // symbolic links, submodules
            }
        }
    }
}
