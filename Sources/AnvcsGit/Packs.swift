import CLibgit2
#if canImport(Glibc)
import Glibc
#endif

/// A pack file built by libgit2's pack builder, written to a file.
public struct WrittenPack: Sendable {
    /// The file (header, objects, trailing SHA-1 checksum).
    public let path: String
    /// Its size in bytes.
    public let size: UInt64
    /// How many objects it holds.
    public let objectCount: Int
    /// The pack's name as git names it (`pack-<name>.pack`): its trailing checksum in hex.
    public let name: String
}

/// What indexing a received pack produced.
public struct IndexedPack: Sendable {
    public let name: String
    public let objectCount: Int
    /// How many pieces the indexer scanned the pack in, side by side (1: serially).
    public var scanPieces = 1
}

extension Repository {
    /// Packs every object reachable from `tips` that is not reachable from `known` (objects the
    /// receiver already has), without deltas against objects outside the pack (never thin), into
    /// a new file at `path` (created exclusively; removed again on failure). The pack streams
    /// to the file as libgit2 produces it, so it is never whole in memory, whatever its size.
    /// Tips may be commits or annotated tags; ids in `known` missing here are ignored.
    public func writePack(tips: [ObjectID], known: [ObjectID], to path: String) throws(GitError) -> WrittenPack {
        var builder: OpaquePointer?
        try check("git_packbuilder_new", git_packbuilder_new(&builder, pointer))
        defer { git_packbuilder_free(builder) }
        git_packbuilder_set_threads(builder, 0)
        var walk: OpaquePointer?
        try check("git_revwalk_new", git_revwalk_new(&walk, pointer))
        defer { git_revwalk_free(walk) }
        var pushed = 0
        for tip in tips {
            var raw = tip.raw
            var object: OpaquePointer?
            try check("git_object_lookup(\(tip.short))", git_object_lookup(&object, pointer, &raw, GIT_OBJECT_ANY))
            defer { git_object_free(object) }
            var commitID = raw
            if git_object_type(object) == GIT_OBJECT_TAG {
                // The tag object itself travels, and what it points at is walked.
                try check("git_packbuilder_insert(\(tip.short))", git_packbuilder_insert(builder, &raw, nil))
                var peeled: OpaquePointer?
                try check("git_object_peel(\(tip.short))", git_object_peel(&peeled, object, GIT_OBJECT_ANY))
                defer { git_object_free(peeled) }
                if git_object_type(peeled) != GIT_OBJECT_COMMIT {
                    var target = git_object_id(peeled)!.pointee
                    try check("git_packbuilder_insert_recur", git_packbuilder_insert_recur(builder, &target, nil))
                    continue
                }
                commitID = git_object_id(peeled)!.pointee
            } else if git_object_type(object) != GIT_OBJECT_COMMIT {
                try check("git_packbuilder_insert_recur(\(tip.short))", git_packbuilder_insert_recur(builder, &raw, nil))
                continue
            }
            try check("git_revwalk_push(\(tip.short))", git_revwalk_push(walk, &commitID))
            pushed += 1
        }
        for id in known {
            var raw = id.raw
            var commit: OpaquePointer?
            // Only commits we have can be hidden; anything else the receiver knows is irrelevant here.
            guard git_object_lookup(&commit, pointer, &raw, GIT_OBJECT_ANY) == 0 else { continue }
            defer { git_object_free(commit) }
            var peeled: OpaquePointer?
            guard git_object_peel(&peeled, commit, GIT_OBJECT_COMMIT) == 0 else { continue }
            var peeledID = git_object_id(peeled)!.pointee
            git_object_free(peeled)
            try check("git_revwalk_hide(\(id.short))", git_revwalk_hide(walk, &peeledID))
        }
        if pushed > 0 {
            try check("git_packbuilder_insert_walk", git_packbuilder_insert_walk(builder, walk))
        }
        let count = Int(git_packbuilder_object_count(builder))
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Self.fileError("open", path) }
        let sink = PackFileSink(fd: fd)
        let rc = withExtendedLifetime(sink) {
            git_packbuilder_foreach(builder, { data, size, payload in
                let sink = Unmanaged<PackFileSink>.fromOpaque(payload!).takeUnretainedValue()
                return sink.write(UnsafeRawBufferPointer(start: data, count: size)) ? 0 : -1
            }, Unmanaged.passUnretained(sink).toOpaque())
        }
        let closed = close(fd) == 0
        if let code = sink.errno {
            unlink(path)
            throw Self.fileError("write", path, code: code)
        }
        do throws(GitError) { try check("git_packbuilder_foreach", rc) } catch { unlink(path); throw error }
        guard closed else { let error = Self.fileError("close", path); unlink(path); throw error }
        // The trailer is the pack's SHA-1, an object id's 20 bytes: named as ids are.
        let name = sink.size >= 32 ? sink.tail.withUnsafeBytes { ObjectID(git_oid(rawBytes: $0.baseAddress!)) }.hex : ""
        return WrittenPack(path: path, size: sink.size, objectCount: count, name: name)
    }

    /// A failed system call on `path`, told by `code` (the errno at the call site unless given).
    static func fileError(_ operation: String, _ path: String, code: Int32 = errno) -> GitError {
        GitError(call: "\(operation)(\(path))", code: .other(-1), message: String(cString: strerror(code)))
    }

    /// The directory where this repository keeps its packs (`objects/pack`).
    public var packDirectory: String { commonDirectory + "objects/pack" }

    /// Whether the object database holds `id`.
    public func hasObject(_ id: ObjectID) throws(GitError) -> Bool {
        var odb: OpaquePointer?
        try check("git_repository_odb", git_repository_odb(&odb, pointer))
        defer { git_odb_free(odb) }
        var raw = id.raw
        return git_odb_exists(odb, &raw) == 1
    }

    /// Makes objects of packs written by another process (or by `PackIndexer`) visible here.
    public func refreshObjects() throws(GitError) {
        var odb: OpaquePointer?
        try check("git_repository_odb", git_repository_odb(&odb, pointer))
        defer { git_odb_free(odb) }
        try check("git_odb_refresh", git_odb_refresh(odb))
    }

    /// Whether git accepts `name` as a reference name (as `git check-ref-format` does).
    public static func isValidReferenceName(_ name: String) -> Bool {
        ensureLibgit2()
        var valid: Int32 = 0
        guard git_reference_name_is_valid(&valid, name) == 0 else { return false }
        return valid == 1
    }
}

/// Where `git_packbuilder_foreach` pours the pack: the file, its size so far and its last 20
/// bytes (the trailing checksum, which is the pack's name).
private final class PackFileSink {
    let fd: Int32
    var size: UInt64 = 0
    var tail: [UInt8] = []
    /// The first write error; the pack builder is stopped there.
    var errno: Int32?

    init(fd: Int32) { self.fd = fd }

    func write(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if let code = writeFully(fd, bytes) {
            errno = code
            return false
        }
        size += UInt64(bytes.count)
        tail.append(contentsOf: bytes.suffix(20))
        if tail.count > 20 { tail.removeFirst(tail.count - 20) }
        return true
    }
}
