import CLibgit2

/// The order in which a revision walk yields commits.
public enum WalkOrder: Sendable {
    /// Newest first by commit time, parents after children (like `git log`).
    case time
    /// Children before parents, strictly (like `git log --topo-order`).
    case topological
}

extension Repository {
    /// Commits reachable from `include` but not from `exclude`, like `git rev-list include ^exclude`.
    /// Calls `body` for each; return false to stop early.
    public func walk(
        include: [ObjectID], exclude: [ObjectID] = [], order: WalkOrder = .time, firstParentOnly: Bool = false,
        _ body: (ObjectID) throws -> Bool
    ) throws {
        var walker: OpaquePointer?
        try check("git_revwalk_new", git_revwalk_new(&walker, pointer))
        defer { git_revwalk_free(walker) }
        let sorting = order == .time ? GIT_SORT_TIME.rawValue : (GIT_SORT_TOPOLOGICAL.rawValue | GIT_SORT_TIME.rawValue)
        try check("git_revwalk_sorting", git_revwalk_sorting(walker, sorting))
        if firstParentOnly { try check("git_revwalk_simplify_first_parent", git_revwalk_simplify_first_parent(walker)) }
        for id in include {
            var raw = id.raw
            try check("git_revwalk_push(\(id.short))", git_revwalk_push(walker, &raw))
        }
        for id in exclude {
            var raw = id.raw
            try check("git_revwalk_hide(\(id.short))", git_revwalk_hide(walker, &raw))
        }
        var oid = git_oid()
        while true {
            let rc = git_revwalk_next(&oid, walker)
            if rc == GIT_ITEROVER.rawValue { return }
            try check("git_revwalk_next", rc)
            if try !body(ObjectID(oid)) { return }
        }
    }

    /// Paths whose content differs between `commit` and its first parent (or the empty tree for a root).
    public func changedPaths(of commit: Commit) throws(GitError) -> [String] {
        var newTree: OpaquePointer?, oldTree: OpaquePointer?
        var treeRaw = commit.tree.raw
        try check("git_tree_lookup", git_tree_lookup(&newTree, pointer, &treeRaw))
        defer { git_tree_free(newTree) }
        if let first = commit.parents.first {
            let parent = try self.commit(first)
            var parentTree = parent.tree.raw
            try check("git_tree_lookup", git_tree_lookup(&oldTree, pointer, &parentTree))
        }
        defer { git_tree_free(oldTree) }
        var diff: OpaquePointer?
        try check("git_diff_tree_to_tree", git_diff_tree_to_tree(&diff, pointer, oldTree, newTree, nil))
        defer { git_diff_free(diff) }
        let count = git_diff_num_deltas(diff)
        var paths: [String] = []
        paths.reserveCapacity(count)
        for i in 0..<count {
            guard let delta = git_diff_get_delta(diff, i) else { continue }
            if let p = delta.pointee.new_file.path { paths.append(String(cString: p)) }
            if delta.pointee.status == GIT_DELTA_DELETED || delta.pointee.status == GIT_DELTA_RENAMED,
               let p = delta.pointee.old_file.path {
                let old = String(cString: p)
                if paths.last != old { paths.append(old) }
            }
        }
        return paths
    }
}
