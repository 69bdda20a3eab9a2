@testable import AnvcsStorage
import CFileAttributes
import Foundation
import Testing

/// Verification stamps: a hash done once is trusted by the next process only while the inode,
/// size and mtime it was taken on are unchanged, and never for a file written moments before.
struct VerificationStampTests {
    /// Writes `size` random bytes and moves the mtime `age` seconds into the past.
    func file(_ path: String, size: Int, seed: UInt64, age: Int) throws -> String {
        try TestEnvironment.writeRandomFile(at: path, size: size, seed: seed)
        var times = [timespec(tv_sec: time(nil) - age, tv_nsec: 0), timespec(tv_sec: time(nil) - age, tv_nsec: 0)]
        utimensat(AT_FDCWD, path, &times, 0)
        return try ContentDigest.hashFile(at: path).sha256
    }

    /// Whether this file system keeps user attributes at all (tmpfs before Linux 6.6 does not).
    func supportsStamps(_ directory: String) -> Bool {
        let probe = directory + "/probe"
        _ = FileManager.default.createFile(atPath: probe, contents: Data())
        defer { unlink(probe) }
        return setxattr(probe, "user.anvcs.probe", "1", 1, 0) == 0
    }

    @Test func aHashedFileIsStampedAndTrustedUntilItIsWritten() throws {
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/model.bin"
        let sha = try file(path, size: 1_100_000, seed: 1, age: 10)
        #expect(!VerificationStamp.confirms(path: path, sha256: sha))
        let digest = try VerificationStamp.digest(of: path, expected: sha)
        #expect(digest.sha256 == sha && digest.size == 1_100_000)
        guard supportsStamps(directory) else {
            #expect(!VerificationStamp.confirms(path: path, sha256: sha), "no attributes, no stamp: every reader hashes")
            return
        }
        #expect(VerificationStamp.confirms(path: path, sha256: sha))
        #expect(VerificationStamp.confirms(path: path, sha256: sha, size: 1_100_000))
        #expect(!VerificationStamp.confirms(path: path, sha256: sha, size: 1_099_999))
        #expect(!VerificationStamp.confirms(path: path, sha256: String(repeating: "0", count: 64)))

        // An in-place write of the same length moves the mtime: the stamp is void, and the next
        // digest is the real one.
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seek(toOffset: 4096)
        try handle.write(contentsOf: [0xDE, 0xAD])
        try handle.close()
        #expect(!VerificationStamp.confirms(path: path, sha256: sha))
        #expect(try VerificationStamp.digest(of: path, expected: sha).sha256 != sha)
    }

    @Test func aFileWrittenMomentsAgoIsNotStamped() throws {
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/fresh.bin"
        let sha = try file(path, size: 1_050_000, seed: 2, age: 0)
        #expect(try VerificationStamp.digest(of: path, expected: sha).sha256 == sha)
        #expect(!VerificationStamp.confirms(path: path, sha256: sha), "racily new: a write in the same tick would keep the mtime")
    }

    @Test func smallFilesAreNotStamped() throws {
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/small.bin"
        let sha = try file(path, size: 100_000, seed: 6, age: 10)
        #expect(try VerificationStamp.digest(of: path, expected: sha).sha256 == sha)
        #expect(getxattr(path, VerificationStamp.attribute, nil, 0) < 0, "hashing 100 KB costs less than a stamp")
    }

    @Test func aStampCopiedOntoAnotherInodeIsVoid() throws {
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        guard supportsStamps(directory) else { return }
        let original = directory + "/a.bin", copy = directory + "/b.bin"
        let sha = try file(original, size: 1_200_000, seed: 3, age: 10)
        _ = try VerificationStamp.digest(of: original, expected: sha)
        #expect(VerificationStamp.confirms(path: original, sha256: sha))
        // Same size and mtime, other inode, the very same attribute value (cp --preserve=all).
        _ = try file(copy, size: 1_200_000, seed: 4, age: 10)
        var info = stat()
        stat(original, &info)
        var times = [info.st_atim, info.st_mtim]
        utimensat(AT_FDCWD, copy, &times, 0)
        var value = [UInt8](repeating: 0, count: 256)
        let length = getxattr(original, VerificationStamp.attribute, &value, value.count)
        #expect(length > 0)
        #expect(setxattr(copy, VerificationStamp.attribute, value, length, 0) == 0)
        #expect(!VerificationStamp.confirms(path: copy, sha256: sha))
    }

    /// The documented limit, which is also what proves the shortcut is taken: bytes changed
    /// behind a restored mtime on the same inode are not noticed (as with git's index).
    @Test func aValidStampIsTrustedWithoutHashingEvenOverBytesChangedBehindARestoredMtime() throws {
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        guard supportsStamps(directory) else { return }
        let path = directory + "/m.bin"
        let sha = try file(path, size: 1_300_000, seed: 5, age: 10)
        _ = try VerificationStamp.digest(of: path, expected: sha)
        var info = stat()
        stat(path, &info)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.write(contentsOf: [0x00])
        try handle.close()
        var times = [info.st_atim, info.st_mtim]
        utimensat(AT_FDCWD, path, &times, 0)
        #expect(try VerificationStamp.digest(of: path, expected: sha).sha256 == sha)
        #expect(try ContentDigest.hashFile(at: path).sha256 != sha)
    }
}
