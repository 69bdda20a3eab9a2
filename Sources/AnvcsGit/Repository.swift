import CLibgit2
#if canImport(Glibc)
import Glibc
#endif

/// An open git repository. The only owner of its `git_repository` handle.
///
/// Not `Sendable`: libgit2 handles are used from one thread at a time; open one per task.
public final class Repository {
    let pointer: OpaquePointer
    /// The index, loaded by the first `stagedBlob` call.
    private var index: OpaquePointer?

    private init(pointer: OpaquePointer) { self.pointer = pointer }
    deinit {
        git_index_free(index)
        git_repository_free(pointer)
    }

    /// Opens the repository that contains `path`, searching upwards as git does
    /// (and honouring `GIT_DIR`-style `.git` files of worktrees and submodules).
    public static func discover(from path: String) throws(GitError) -> Repository {
        ensureLibgit2()
        var buf = git_buf()
        defer { git_buf_dispose(&buf) }
        try check("git_repository_discover(\(path))", git_repository_discover(&buf, path, 0, nil))
        return try open(String(cString: buf.ptr))
    }

    /// Opens the repository at exactly `path` (a work tree or a git directory).
    public static func open(_ path: String) throws(GitError) -> Repository {
        ensureLibgit2()
        var handle: OpaquePointer?
        try check("git_repository_open(\(path))", git_repository_open(&handle, path))
        return Repository(pointer: handle!)
    }

    /// Creates a new repository (used by tests and the demo).
    public static func create(at path: String, bare: Bool = false) throws(GitError) -> Repository {
        ensureLibgit2()
        var handle: OpaquePointer?
        try check("git_repository_init(\(path))", git_repository_init(&handle, path, bare ? 1 : 0))
        return Repository(pointer: handle!)
    }

    public var isBare: Bool { git_repository_is_bare(pointer) == 1 }
    /// True when HEAD's branch has no commit yet (whatever the branch is called; libgit2's
    /// own `git_repository_is_empty` only recognises the default branch name).
    public var isEmpty: Bool { git_repository_head_unborn(pointer) == 1 }
    public var isHeadDetached: Bool { git_repository_head_detached(pointer) == 1 }
    public var isShallow: Bool { git_repository_is_shallow(pointer) == 1 }

    /// The git directory of this work tree (`.git`, or `.git/worktrees/NAME`), with a trailing slash.
    public var gitDirectory: String { String(cString: git_repository_path(pointer)) }
    /// The directory shared by all work trees (where refs, objects and ANVCS's state live).
    public var commonDirectory: String { String(cString: git_repository_commondir(pointer)) }
    /// The work tree root with a trailing slash, or nil for a bare repository.
    public var workingDirectory: String? { git_repository_workdir(pointer).map { String(cString: $0) } }

    /// The index file git uses here: `GIT_INDEX_FILE` when git set it (relative to the current
    /// directory, as git reads it), else `index` in this work tree's git directory.
    public var indexFile: String {
        if let value = getenv("GIT_INDEX_FILE").map({ String(cString: $0) }), !value.isEmpty {
            if value.hasPrefix("/") { return value }
            guard let cwd = getcwd(nil, 0) else { return value }
            defer { free(cwd) }
            return String(cString: cwd) + "/" + value
        }
        return gitDirectory + "index"
    }

    /// The commit HEAD points at, or nil on an unborn branch.
    public func headCommit() throws(GitError) -> ObjectID? {
        var oid = git_oid()
        let rc = git_reference_name_to_id(&oid, pointer, "HEAD")
        if rc == GIT_ENOTFOUND.rawValue || rc == GIT_EUNBORNBRANCH.rawValue { return nil }
        try check("git_reference_name_to_id(HEAD)", rc)
        return ObjectID(oid)
    }

    /// The short name of the branch HEAD is on (`main`), or nil when detached.
    public func currentBranch() -> String? {
        var ref: OpaquePointer?
        guard git_reference_lookup(&ref, pointer, "HEAD") == 0 else { return nil }
        defer { git_reference_free(ref) }
        guard git_reference_type(ref) == GIT_REFERENCE_SYMBOLIC, let target = git_reference_symbolic_target(ref) else { return nil }
        let name = String(cString: target)
        return name.hasPrefix("refs/heads/") ? String(name.dropFirst("refs/heads/".count)) : name
    }

    /// Resolves a revision expression (`HEAD~2`, a branch, an abbreviated id) to a commit id.
    public func resolveCommit(_ revision: String) throws(GitError) -> ObjectID {
        var object: OpaquePointer?
        try check("git_revparse_single(\(revision))", git_revparse_single(&object, pointer, revision))
        defer { git_object_free(object) }
        var peeled: OpaquePointer?
        try check("git_object_peel(\(revision))", git_object_peel(&peeled, object, GIT_OBJECT_COMMIT))
        defer { git_object_free(peeled) }
        return ObjectID(git_object_id(peeled))
    }

    /// The bytes of a blob.
    public func blob(_ id: ObjectID) throws(GitError) -> [UInt8] {
        var raw = id.raw
        var handle: OpaquePointer?
        try check("git_blob_lookup(\(id.short))", git_blob_lookup(&handle, pointer, &raw))
        defer { git_blob_free(handle) }
        let size = Int(git_blob_rawsize(handle))
        guard size > 0, let content = git_blob_rawcontent(handle) else { return [] }
        return Array(UnsafeRawBufferPointer(start: content, count: size))
    }

    /// The blob staged at `path` (stage 0) in the index file as it was last written, or nil.
    /// Read once per `Repository`: later index writes by other processes are not seen.
    public func stagedBlob(path: String) throws(GitError) -> ObjectID? {
        if index == nil {
            var handle: OpaquePointer?
            try check("git_repository_index", git_repository_index(&handle, pointer))
            index = handle
        }
        guard let entry = git_index_get_bypath(index, path, 0) else { return nil }
        return ObjectID(entry.pointee.id)
    }

    /// The bytes of a blob of at most `limit` bytes; nil for a larger one, which is not read
    /// (the object database answers the size from the object's header).
    public func blob(_ id: ObjectID, atMost limit: Int) throws(GitError) -> [UInt8]? {
        var odb: OpaquePointer?
        try check("git_repository_odb", git_repository_odb(&odb, pointer))
        defer { git_odb_free(odb) }
        var raw = id.raw
        var length = 0
        var type = GIT_OBJECT_INVALID
        try check("git_odb_read_header(\(id.short))", git_odb_read_header(&length, &type, odb, &raw))
        guard type == GIT_OBJECT_BLOB, length <= limit else { return nil }
        return try blob(id)
    }

    /// Writes `bytes` as a blob and returns its id.
    public func writeBlob(_ bytes: [UInt8]) throws(GitError) -> ObjectID {
        var oid = git_oid()
        let rc = bytes.withUnsafeBytes { git_blob_create_from_buffer(&oid, pointer, $0.baseAddress, $0.count) }
        try check("git_blob_create_from_buffer", rc)
        return ObjectID(oid)
    }

    /// The identity git would use for a new commit here (`user.name`/`user.email`),
    /// or a neutral one when none is configured, so that writing a note never fails for lack of it.
    public func defaultSignature(now: Int64) -> Signature {
        var sig: UnsafeMutablePointer<git_signature>?
        if git_signature_default(&sig, pointer) == 0, let sig {
            defer { git_signature_free(sig) }
            var s = Signature(sig)
            s.time = now
            return s
        }
        return Signature(name: "anvcs", email: "anvcs@localhost", time: now)
    }

    /// Whether `ancestor` is reachable from `descendant` (or equal to it).
    public func isAncestor(_ ancestor: ObjectID, of descendant: ObjectID) throws(GitError) -> Bool {
        if ancestor == descendant { return true }
        var a = ancestor.raw, d = descendant.raw
        let rc = git_graph_descendant_of(pointer, &d, &a)
        try check("git_graph_descendant_of", rc)
        return rc == 1
    }
}

extension Repository {
    /// The best common ancestor of two commits, or nil when they share none.
    public func mergeBase(_ a: ObjectID, _ b: ObjectID) throws(GitError) -> ObjectID? {
        var out = git_oid()
        var x = a.raw, y = b.raw
        let rc = git_merge_base(&out, pointer, &x, &y)
        if rc == GIT_ENOTFOUND.rawValue { return nil }
        try check("git_merge_base", rc)
        return ObjectID(out)
    }
}
