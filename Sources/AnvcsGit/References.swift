import CLibgit2

extension Repository {
    /// The object a reference points at (peeling symbolic references), or nil when it does not exist.
    public func referenceTarget(_ name: String) throws(GitError) -> ObjectID? {
        var oid = git_oid()
        let rc = git_reference_name_to_id(&oid, pointer, name)
        if rc == GIT_ENOTFOUND.rawValue || rc == GIT_EUNBORNBRANCH.rawValue { return nil }
        try check("git_reference_name_to_id(\(name))", rc)
        return ObjectID(oid)
    }

    /// Moves `name` to `target` only if it still points at `expected` (nil: must not exist yet).
    /// Throws `GitError` with code `.modified` or `.exists` when another writer got there first.
    public func updateReference(_ name: String, to target: ObjectID, expected: ObjectID?, message: String) throws(GitError) {
        var ref: OpaquePointer?
        var newID = target.raw
        if var old = expected?.raw {
            try check("git_reference_create_matching(\(name))",
                      git_reference_create_matching(&ref, pointer, name, &newID, 1, &old, message))
        } else {
            try check("git_reference_create(\(name))", git_reference_create(&ref, pointer, name, &newID, 0, message))
        }
        git_reference_free(ref)
    }

    /// Deletes a reference; nothing happens when it does not exist.
    public func deleteReference(_ name: String) throws(GitError) {
        var ref: OpaquePointer?
        let rc = git_reference_lookup(&ref, pointer, name)
        if rc == GIT_ENOTFOUND.rawValue { return }
        try check("git_reference_lookup(\(name))", rc)
        defer { git_reference_free(ref) }
        try check("git_reference_delete(\(name))", git_reference_delete(ref))
    }

    /// Full names of references matching a glob such as `refs/notes/*`.
    public func referenceNames(matching glob: String) throws(GitError) -> [String] {
        var iterator: OpaquePointer?
        try check("git_reference_iterator_glob_new(\(glob))", git_reference_iterator_glob_new(&iterator, pointer, glob))
        defer { git_reference_iterator_free(iterator) }
        var names: [String] = []
        var name: UnsafePointer<CChar>?
        while git_reference_next_name(&name, iterator) == 0, let name { names.append(String(cString: name)) }
        return names
    }
}

extension Repository {
    /// Every branch, remote-tracking branch and tag with the commit it points at (tags peeled;
    /// refs that do not point at commits are left out).
    public func referenceTips(globs: [String] = ["refs/heads/*", "refs/remotes/*", "refs/tags/*"]) throws(GitError) -> [(name: String, commit: ObjectID)] {
        var out: [(String, ObjectID)] = []
        for glob in globs {
            for name in try referenceNames(matching: glob) {
                if let id = try? resolveCommit(name) { out.append((name, id)) }
            }
        }
        return out
    }

    /// Creates a commit object (without moving any reference) from a tree and parents.
    public func createCommit(tree: ObjectID, parents: [ObjectID], message: String, signature: Signature) throws(GitError) -> ObjectID {
        var treeRaw = tree.raw
        var treeHandle: OpaquePointer?
        try check("git_tree_lookup(\(tree.short))", git_tree_lookup(&treeHandle, pointer, &treeRaw))
        defer { git_tree_free(treeHandle) }
        var parentHandles: [OpaquePointer?] = []
        defer { for p in parentHandles { git_commit_free(p) } }
        for parent in parents {
            var raw = parent.raw
            var handle: OpaquePointer?
            try check("git_commit_lookup(\(parent.short))", git_commit_lookup(&handle, pointer, &raw))
            parentHandles.append(handle)
        }
        var out = git_oid()
        let rc = signature.withGitSignatureResult { sig in
            parentHandles.withUnsafeMutableBufferPointer { buf in
                git_commit_create(&out, pointer, nil, sig, sig, "UTF-8", message, treeHandle, buf.count, buf.baseAddress)
            }
        }
        try check("git_commit_create", rc)
        return ObjectID(out)
    }
}

extension Signature {
    /// Like `withGitSignature` for bodies that return a libgit2 status code.
    func withGitSignatureResult(_ body: (UnsafeMutablePointer<git_signature>) -> Int32) -> Int32 {
        var sig: UnsafeMutablePointer<git_signature>?
        let rc = git_signature_new(&sig, name, email, time, offsetMinutes)
        guard rc == 0, let sig else { return rc }
        defer { git_signature_free(sig) }
        return body(sig)
    }
}
