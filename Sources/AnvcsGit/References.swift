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
