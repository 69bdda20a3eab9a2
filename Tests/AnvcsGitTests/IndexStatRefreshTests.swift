import AnvcsGit
import AnvcsTestSupport
import Foundation
import Testing

/// `IndexStatRefresh` against index files written by real git (versions 2, 3 and 4), read back
/// by real git: an entry gets the stat of the file that replaced its pointer, and git then sees
/// the work tree clean without reading the file.
@Suite struct IndexStatRefreshTests {
    /// A repository with `a.txt`, `deep/dir/b.txt` and `c.txt` committed, in index version `version`.
    func repository(version: Int) throws -> TemporaryRepository {
        let t = try TemporaryRepository()
        try t.write("a.txt", "pointer a\n")
        try t.write("deep/dir/b.txt", "pointer b\n")
        try t.write("c.txt", "pointer c\n")
        try t.git(["add", "-A"])
        try t.git(["commit", "-q", "-m", "files"])
        if version == 3 {
            // An extended flag (intent-to-add) makes git write version 3.
            try t.write("new.txt", "x\n")
            try t.git(["add", "-N", "new.txt"])
        } else {
            try t.git(["update-index", "--index-version", "\(version)"])
        }
        // (Exits 1 for the intent-to-add entry, which "needs update".)
        _ = try t.run(["git", "update-index", "-q", "--refresh"])
        return t
    }

    func stat(_ path: String) -> stat {
        var st = Glibc.stat()
        _ = lstat(path, &st)
        return st
    }

    /// Replaces `relative` with other bytes the way the hydrator does (temporary file, rename).
    func replace(_ t: TemporaryRepository, _ relative: String, with text: String) throws -> IndexStatRefresh.Replacement {
        let target = t.path + "/" + relative
        let old = try [UInt8](Data(contentsOf: URL(fileURLWithPath: target)))
        let before = stat(target)
        try Data(text.utf8).write(to: URL(fileURLWithPath: target + ".tmp"))
        // Seconds old, so that git does not take the entry for racily clean and look at the
        // content after all (which differs here: these files are not filtered).
        var times = [timeval(tv_sec: time(nil) - 5, tv_usec: 0), timeval(tv_sec: time(nil) - 5, tv_usec: 0)]
        #expect(utimes(target + ".tmp", &times) == 0)
        #expect(rename(target + ".tmp", target) == 0)
        return .init(blob: ObjectID.blob(of: old), before: IndexStat(before), after: IndexStat(stat(target)),
                     fileSize: UInt64(text.utf8.count))
    }

    func debug(_ t: TemporaryRepository, _ path: String) throws -> String {
        try t.git(["ls-files", "--debug", "--", path])
    }

    @Test(arguments: [2, 3, 4]) func patchedEntriesCarryTheNewStatAndGitAgrees(version: Int) throws {
        let t = try repository(version: version)
        let b = try replace(t, "deep/dir/b.txt", with: String(repeating: "artifact bytes\n", count: 100))
        let a = try replace(t, "a.txt", with: "other\n")
        let untouched = try debug(t, "c.txt")
        let done = try IndexStatRefresh.apply(indexFile: t.path + "/.git/index", ["deep/dir/b.txt": b, "a.txt": a])
        #expect(done == ["a.txt", "deep/dir/b.txt"])
        #expect(try debug(t, "deep/dir/b.txt").contains("size: 1500"))
        #expect(try debug(t, "c.txt") == untouched)
        // git trusts the stat: the entries still name the old blobs and the files are taken as clean.
        #expect(try t.git(["diff", "--name-only", "--", "a.txt", "deep", "c.txt"]) == "")
        #expect(try t.git(["ls-files", "-s", "a.txt"]).contains(a.blob.hex))
        // fsck checks the index's trailing checksum and entry order.
        let fsck = try t.run(["git", "fsck", "--no-dangling"])
        #expect(fsck.succeeded, "\(fsck.stderr)")
        let header = try [UInt8](Data(contentsOf: URL(fileURLWithPath: t.path + "/.git/index")).prefix(8))
        #expect(header[7] == UInt8(version), "the index version stays")
    }

    @Test func anEntryGitDidNotRecordAsUpToDateIsLeftAlone() throws {
        let t = try repository(version: 2)
        var a = try replace(t, "a.txt", with: "other\n")
        a.before.mtimeNanoseconds &+= 1  // not the stat git recorded
        var c = try replace(t, "c.txt", with: "other c\n")
        c.blob = ObjectID.blob(of: Array("something else\n".utf8))  // not the blob staged
        let before = try Data(contentsOf: URL(fileURLWithPath: t.path + "/.git/index"))
        #expect(try IndexStatRefresh.apply(indexFile: t.path + "/.git/index", ["a.txt": a, "c.txt": c, "missing.txt": a]).isEmpty)
        #expect(try Data(contentsOf: URL(fileURLWithPath: t.path + "/.git/index")) == before)
        #expect(!FileManager.default.fileExists(atPath: t.path + "/.git/index.lock"))
    }

    @Test func aLockedIndexIsNotTouched() throws {
        let t = try repository(version: 2)
        let a = try replace(t, "a.txt", with: "other\n")
        let index = t.path + "/.git/index"
        let before = try Data(contentsOf: URL(fileURLWithPath: index))
        #expect(FileManager.default.createFile(atPath: index + ".lock", contents: Data()))
        do {
            _ = try IndexStatRefresh.apply(indexFile: index, ["a.txt": a])
            Issue.record("a locked index must not be written")
        } catch {
            #expect(error.code == .locked)
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: index)) == before)
        #expect(FileManager.default.fileExists(atPath: index + ".lock"), "another process's lock stays")
    }

    @Test func aCorruptIndexIsRefusedAndKept() throws {
        let t = try repository(version: 2)
        let a = try replace(t, "a.txt", with: "other\n")
        let index = t.path + "/.git/index"
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: index)))
        bytes[20] ^= 0xff
        try Data(bytes).write(to: URL(fileURLWithPath: index))
        do {
            _ = try IndexStatRefresh.apply(indexFile: index, ["a.txt": a])
            Issue.record("a corrupt index must be refused")
        } catch {
            #expect(error.message.contains("checksum"))
        }
        #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: index))) == bytes)
        #expect(!FileManager.default.fileExists(atPath: index + ".lock"))
    }

    @Test func blobIdsAreGitsOwn() throws {
        let t = try TemporaryRepository()
        let text = "anvcs-artifact 1\nsha256 00\n"
        let hashed = try t.git(["hash-object", "--stdin"], input: text).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(ObjectID.blob(of: Array(text.utf8)).hex == hashed)
    }
}
