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
        var root = commit.tree.raw
        let tree = try lookupTree(&root, label: commit.tree.short)
        defer { git_tree_free(tree) }
        var parents: [OpaquePointer?] = []
        defer { for p in parents { git_tree_free(p) } }
        for parent in commit.parents {
            let parentTree = try self.commit(parent).tree
            var raw = parentTree.raw
            parents.append(try lookupTree(&raw, label: parentTree.short))
        }
        var found: [IntroducedFile] = []
        try collect(tree, parents: parents, prefix: "", into: &found)
        return found
    }

    /// The tree `id` (a commit's, or an entry's id; `label` names it in errors); free it.
    private func lookupTree(_ id: UnsafePointer<git_oid>, label: String) throws(GitError) -> OpaquePointer? {
        var tree: OpaquePointer?
        try check("git_tree_lookup(\(label))", git_tree_lookup(&tree, pointer, id))
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
                let subtree = try lookupTree(id, label: path)
                defer { git_tree_free(subtree) }
                var parentSubtrees: [OpaquePointer?] = []
                defer { for p in parentSubtrees { git_tree_free(p) } }
                for counterpart in counterparts {
                    guard let counterpart, git_tree_entry_filemode(counterpart) == GIT_FILEMODE_TREE,
                          let counterpartID = git_tree_entry_id(counterpart) else {
                        parentSubtrees.append(nil)
                        continue
                    }
                    parentSubtrees.append(try lookupTree(counterpartID, label: path))
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
