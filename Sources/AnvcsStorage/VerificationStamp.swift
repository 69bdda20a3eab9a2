import CFileAttributes
#if canImport(Glibc)
import Glibc
#endif

/// A note on a file's inode (the extended attribute `user.anvcs.verified`) that its bytes hashed
/// to a sha256, so that another process can trust a gigabyte it would otherwise hash again: the
/// way git's index trusts a work tree file whose stat data did not change.
///
/// The stamp names the inode, size and modification time the file had while it was hashed; a
/// write moves the mtime, a replacement changes the inode, and either voids the stamp. Two rules
/// guard the gaps of that test:
/// - racy files: a reader's stamp is written only if the file's mtime was at least two seconds
///   older than the moment of hashing, so a write landing in the same timestamp tick as the hash
///   (coarse kernel clocks keep mtime for a few milliseconds) cannot hide behind an unchanged
///   mtime. The one exception is a writer's own file (`recordWritten`): a temporary file it
///   created exclusively, hashed as it wrote every byte, stamped on its descriptor before the
///   file gets its public name, so no other writer can have reached it;
/// - other writers: only a file owned by this user counts. Setting a `user.` attribute needs
///   write permission, so a stamp on our own file was set by us (or root), not by another user
///   of a shared store directory.
/// Bit rot under an unchanged inode is not caught (as with git's index). Everything is best effort:
/// a file system without user attributes never has stamps and every reader hashes as before.
public enum VerificationStamp {
    static let attribute = "user.anvcs.verified"
    /// How much older than the hash the file's mtime must be (the racy-git rule, with margin).
    static let racyMargin = 2
    /// Smaller files are hashed in less time than a stamp costs to write: they get none.
    static let minimumSize: Int64 = 1 << 20

    /// Stamps `path` as hashing to `sha256` when it still has `identity`, the identity read when
    /// hashing began (a file changed meanwhile gets no stamp), and is not racily new.
    public static func record(path: String, sha256: String, identity: FileIdentity?) {
        guard let identity, identity.size >= minimumSize, FileIdentity(path: path) == identity else { return }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        guard now.tv_sec - identity.modifiedSeconds >= racyMargin else { return }
        let value = Array(text(sha256: sha256, identity: identity).utf8)
        _ = value.withUnsafeBytes { setxattr(path, attribute, $0.baseAddress, $0.count, 0) }
    }

    /// Stamps the file open as `descriptor`, which this process created exclusively and wrote
    /// entirely while hashing it to `sha256`, before it is renamed to where others can see it.
    public static func recordWritten(descriptor: Int32, sha256: String) {
        guard let identity = FileIdentity(descriptor: descriptor), identity.size >= minimumSize else { return }
        let value = Array(text(sha256: sha256, identity: identity).utf8)
        _ = value.withUnsafeBytes { fsetxattr(descriptor, attribute, $0.baseAddress, $0.count, 0) }
    }

    /// True when `path` carries a valid stamp for `sha256` (and `size`, when given).
    public static func confirms(path: String, sha256: String, size: UInt64? = nil) -> Bool {
        stampedSize(path: path, sha256: sha256, size: size) != nil
    }

    /// The file's size when a valid stamp for `sha256` (and `size`, when given) is on it.
    static func stampedSize(path: String, sha256: String, size: UInt64?) -> UInt64? {
        var info = stat()
        guard stat(path, &info) == 0, Int64(info.st_size) >= minimumSize, info.st_uid == geteuid() else { return nil }
        if let size, UInt64(info.st_size) != size { return nil }
        var buffer = [UInt8](repeating: 0, count: 256)
        let length = buffer.withUnsafeMutableBytes { getxattr(path, attribute, $0.baseAddress, $0.count) }
        guard length > 0,
              String(decoding: buffer[0..<length], as: UTF8.self) == text(sha256: sha256.lowercased(), identity: FileIdentity(info))
        else { return nil }
        return UInt64(info.st_size)
    }

    /// The sha256 and size of `path`: `expected` straight from a valid stamp, otherwise hashed
    /// (and stamped for the next reader, whatever the bytes hashed to).
    public static func digest(of path: String, expected: String, size: UInt64? = nil) throws(StorageError) -> (sha256: String, size: UInt64) {
        if let stamped = stampedSize(path: path, sha256: expected, size: size) { return (expected.lowercased(), stamped) }
        let digest = try ContentDigest.hashFile(at: path)
        record(path: path, sha256: digest.sha256, identity: digest.identity)
        return (digest.sha256, digest.size)
    }

    /// `v1 <sha256> <size> <inode> <mtime seconds>.<nanoseconds>`
    static func text(sha256: String, identity: FileIdentity) -> String {
        "v1 \(sha256) \(identity.size) \(identity.inode) \(identity.modifiedSeconds).\(identity.modifiedNanoseconds)"
    }
}
