import CLibgit2
import Crypto
#if canImport(Glibc)
import Glibc
#endif

/// The stat fields git keeps per index entry (`struct stat_data` in git's read-cache), in the
/// widths the index stores them.
public struct IndexStat: Equatable, Sendable {
    public var ctimeSeconds: UInt32, ctimeNanoseconds: UInt32
    public var mtimeSeconds: UInt32, mtimeNanoseconds: UInt32
    public var device: UInt32, inode: UInt32
    public var uid: UInt32, gid: UInt32
    /// The file size truncated to 32 bits, as git stores it.
    public var size: UInt32
}

extension IndexStat {
    public init(_ st: stat) {
        ctimeSeconds = UInt32(truncatingIfNeeded: st.st_ctim.tv_sec)
        ctimeNanoseconds = UInt32(truncatingIfNeeded: st.st_ctim.tv_nsec)
        mtimeSeconds = UInt32(truncatingIfNeeded: st.st_mtim.tv_sec)
        mtimeNanoseconds = UInt32(truncatingIfNeeded: st.st_mtim.tv_nsec)
        device = UInt32(truncatingIfNeeded: st.st_dev)
        inode = UInt32(truncatingIfNeeded: st.st_ino)
        uid = st.st_uid
        gid = st.st_gid
        size = UInt32(truncatingIfNeeded: st.st_size)
    }
}

/// Rewrites, in place, the stat data of index entries whose work tree file ANVCS replaced with
/// content that cleans back to the very blob the entry names (an artifact hydrated over its
/// pointer file). Without this git sees a changed size and mtime and pipes the whole artifact
/// through the clean filter again on the next `git status`, only to find the same pointer.
///
/// It follows git's own locking protocol (`index.lock`, created exclusively, written, renamed
/// over `index`) and changes nothing but the 40 stat bytes of the named entries and the trailing
/// checksum; every extension is kept byte for byte. An entry is only touched when it still names
/// `blob` and still carries the stat of the file that was replaced, i.e. git had recorded that
/// pointer file as up to date and nothing changed the entry since. A split index (`link`) is left
/// alone. Returns the paths updated.
public enum IndexStatRefresh {
    public struct Replacement: Sendable {
        public var blob: ObjectID
        public var before: IndexStat
        public var after: IndexStat
        /// The new file's size (the index keeps only its low 32 bits).
        public var fileSize: UInt64
        public init(blob: ObjectID, before: IndexStat, after: IndexStat, fileSize: UInt64) {
            self.blob = blob
            self.before = before
            self.after = after
            self.fileSize = fileSize
        }
    }

    /// From this many bytes of refreshed files on, the index is written in a later second than
    /// their mtimes (see `apply`): about what git reads through a filter in the second it may wait.
    public static let racyWaitThreshold: UInt64 = 64 << 20

    public static func apply(indexFile: String, _ replacements: [String: Replacement]) throws(GitError) -> [String] {
        guard !replacements.isEmpty else { return [] }
        let lockPath = indexFile + ".lock"
        let lock = open(lockPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        guard lock >= 0 else {
            if errno == EEXIST {
                throw GitError(call: "open(\(lockPath))", code: .locked, message: "another git process holds \(lockPath)")
            }
            throw Repository.fileError("open", lockPath)
        }
        var committed = false
        defer {
            if !committed { unlink(lockPath) }
        }
        var bytes = try readAll(indexFile)
        let updated = try patch(&bytes, replacements, file: indexFile)
        guard !updated.isEmpty else { close(lock); return [] }
        // git takes an entry whose mtime is not older than the index file for "racily clean" and
        // reads the file through the clean filter again (at whole-second resolution: git is built
        // without USE_NSEC by default). For large files that costs more than waiting for the
        // next second before the index is written; small ones git may check again, as it does its own.
        let racy = updated.compactMap { replacements[$0] }
        if racy.reduce(UInt64(0), { $0 + $1.fileSize }) >= racyWaitThreshold {
            waitPastModificationTimes(racy.map(\.after))
        }
        if let code = bytes.withUnsafeBytes({ writeFully(lock, $0) }) {
            close(lock)
            throw Repository.fileError("write", lockPath, code: code)
        }
        guard close(lock) == 0 else { throw Repository.fileError("close", lockPath) }
        guard rename(lockPath, indexFile) == 0 else { throw Repository.fileError("rename", indexFile) }
        committed = true
        return updated.sorted()
    }

    /// Patches the entries in `bytes` (a whole index file); returns the paths of the entries changed.
    static func patch(_ bytes: inout [UInt8], _ replacements: [String: Replacement], file: String) throws(GitError) -> Set<String> {
        func corrupt(_ why: String) -> GitError {
            GitError(call: "read(\(file))", code: .other(-1), message: "not an index git wrote: \(why)")
        }
        guard bytes.count >= 12 + 20, bytes[0..<4].elementsEqual(Array("DIRC".utf8)) else { throw corrupt("no DIRC signature") }
        let version = be32(bytes, 4)
        guard (2...4).contains(version) else { throw corrupt("version \(version)") }
        let count = Int(be32(bytes, 8))
        let contentEnd = bytes.count - 20
        let skipHash = bytes[contentEnd...].allSatisfy { $0 == 0 }
        if !skipHash {
            let digest = Array(Insecure.SHA1.hash(data: bytes[0..<contentEnd]))
            guard digest.elementsEqual(bytes[contentEnd...]) else { throw corrupt("checksum mismatch") }
        }
        var offset = 12
        var previousPath: [UInt8] = []
        var changed: Set<String> = []
        var pending = replacements
        for _ in 0..<count {
            guard offset + 62 <= contentEnd else { throw corrupt("entries run past the end") }
            let flags = UInt16(bytes[offset + 60]) << 8 | UInt16(bytes[offset + 61])
            var pathStart = offset + 62
            if version >= 3 && flags & 0x4000 != 0 { pathStart += 2 }
            var path: [UInt8]
            var next: Int
            if version == 4 {
                // The path is the previous one minus N trailing bytes (N a varint), plus a NUL-terminated suffix.
                var cursor = pathStart
                guard cursor < contentEnd else { throw corrupt("truncated entry") }
                var byte = bytes[cursor]; cursor += 1
                var strip = Int(byte & 0x7f)
                while byte & 0x80 != 0 {
                    guard cursor < contentEnd else { throw corrupt("truncated entry") }
                    byte = bytes[cursor]; cursor += 1
                    strip = ((strip + 1) << 7) | Int(byte & 0x7f)
                }
                guard strip <= previousPath.count, let nul = bytes[cursor..<contentEnd].firstIndex(of: 0) else { throw corrupt("bad path") }
                path = Array(previousPath.dropLast(strip)) + bytes[cursor..<nul]
                next = nul + 1
            } else {
                guard let nul = bytes[pathStart..<contentEnd].firstIndex(of: 0) else { throw corrupt("bad path") }
                path = Array(bytes[pathStart..<nul])
                // Entries are padded with 1 to 8 NULs to a multiple of 8 bytes.
                next = offset + ((pathStart - offset + path.count + 8) & ~7)
            }
            previousPath = path
            let stage = (flags >> 12) & 0x3
            if stage == 0, !pending.isEmpty, let name = String(validating: path, as: UTF8.self),
               let replacement = pending.removeValue(forKey: name) {
                let id = bytes[(offset + 40)..<(offset + 60)]
                let recorded = readStat(bytes, offset)
                                // All of what git compares to call a file unchanged (`ie_match_stat` with the
                // defaults: mtime, ctime, inode, owner, size): the entry is the pointer file's.
                if withUnsafeBytes(of: replacement.blob.raw.id, { id.elementsEqual($0) }), recorded == replacement.before {
                    writeStat(&bytes, offset, replacement.after)
                    changed.insert(name)
                }
            }
            offset = next
        }
        // Extensions: four-byte signature, four-byte size. A split index keeps most entries in
        // the shared file, where the stat this file carries is not the whole story: left alone.
        var cursor = offset
        while cursor + 8 <= contentEnd {
            if bytes[cursor..<(cursor + 4)].elementsEqual(Array("link".utf8)) { return [] }
            cursor += 8 + Int(be32(bytes, cursor + 4))
        }
        guard !changed.isEmpty else { return [] }
        if !skipHash {
            let digest = Array(Insecure.SHA1.hash(data: bytes[0..<contentEnd]))
            bytes.replaceSubrange(contentEnd..., with: digest)
        }
        return changed
    }

    static func be32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
        UInt32(bytes[at]) << 24 | UInt32(bytes[at + 1]) << 16 | UInt32(bytes[at + 2]) << 8 | UInt32(bytes[at + 3])
    }

    static func put32(_ bytes: inout [UInt8], _ at: Int, _ value: UInt32) {
        bytes[at] = UInt8(value >> 24); bytes[at + 1] = UInt8((value >> 16) & 0xff)
        bytes[at + 2] = UInt8((value >> 8) & 0xff); bytes[at + 3] = UInt8(value & 0xff)
    }

    // Entry layout: ctime s/ns, mtime s/ns, dev, ino, mode, uid, gid, size (4 bytes each), then the id.
    static func readStat(_ bytes: [UInt8], _ entry: Int) -> IndexStat {
        IndexStat(ctimeSeconds: be32(bytes, entry), ctimeNanoseconds: be32(bytes, entry + 4),
                  mtimeSeconds: be32(bytes, entry + 8), mtimeNanoseconds: be32(bytes, entry + 12),
                  device: be32(bytes, entry + 16), inode: be32(bytes, entry + 20),
                  uid: be32(bytes, entry + 28), gid: be32(bytes, entry + 32), size: be32(bytes, entry + 36))
    }

    static func writeStat(_ bytes: inout [UInt8], _ entry: Int, _ s: IndexStat) {
        put32(&bytes, entry, s.ctimeSeconds); put32(&bytes, entry + 4, s.ctimeNanoseconds)
        put32(&bytes, entry + 8, s.mtimeSeconds); put32(&bytes, entry + 12, s.mtimeNanoseconds)
        put32(&bytes, entry + 16, s.device); put32(&bytes, entry + 20, s.inode)
        put32(&bytes, entry + 28, s.uid); put32(&bytes, entry + 32, s.gid)
        put32(&bytes, entry + 36, s.size)
    }

    /// Returns once the coarse clock (the one file timestamps come from) is in a later second
    /// than every given mtime (at most about a second).
    static func waitPastModificationTimes(_ stats: [IndexStat]) {
        guard let latest = stats.map(\.mtimeSeconds).max() else { return }
        for _ in 0..<1200 {
            var now = timespec()
            clock_gettime(CLOCK_REALTIME_COARSE, &now)
            if UInt32(truncatingIfNeeded: now.tv_sec) > latest { return }
            usleep(1000)
        }
    }

    static func readAll(_ path: String) throws(GitError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Repository.fileError("open", path) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw Repository.fileError("fstat", path) }
        var bytes = [UInt8](repeating: 0, count: Int(st.st_size))
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 { if errno == EINTR { continue }; throw Repository.fileError("read", path) }
            if n == 0 { break }
            offset += n
        }
        guard offset == bytes.count else { throw GitError(call: "read(\(path))", code: .other(-1), message: "the file shrank while it was read") }
        return bytes
    }

}

extension ObjectID {
    /// The id git gives a blob of these bytes (`git hash-object`).
    public static func blob(of bytes: [UInt8]) -> ObjectID {
        var oid = git_oid()
        _ = bytes.withUnsafeBytes { git_odb_hash(&oid, $0.baseAddress, $0.count, GIT_OBJECT_BLOB) }
        return ObjectID(oid)
    }
}
