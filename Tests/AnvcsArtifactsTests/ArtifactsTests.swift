import AnvcsArtifacts
import AnvcsTestSupport
import Foundation
import Testing

@Suite struct PointerTests {
    let sha = String(repeating: "ab", count: 32)

    @Test func roundTripAndStrictParsing() throws {
        let p = try ArtifactPointer(sha256: sha, size: 42, key: "models/a.pt")
        #expect(ArtifactPointer.parse(Array(p.text.utf8)) == p)
        let bad = [
            p.text.replacingOccurrences(of: "size 42", with: "size 042"),
            p.text.replacingOccurrences(of: "anvcs-artifact 1", with: "anvcs-artifact 2"),
            String(p.text.dropLast()),
            p.text + "extra\n",
            p.text.replacingOccurrences(of: sha, with: sha.uppercased()),
            p.text.replacingOccurrences(of: "key models/a.pt", with: "key ../../etc/passwd"),
            p.text.replacingOccurrences(of: "key models/a.pt", with: "key /etc/passwd"),
        ]
        for text in bad { #expect(ArtifactPointer.parse(Array(text.utf8)) == nil, "\(text)") }
    }

    @Test func hostileKeysAreRefused() {
        for key in ["../x", "a/../../b", "/abs", "a\\b", "a//b", "", "a/./b", "tab\there"] {
            #expect(throws: ArtifactError.self, "\(key)") { try ArtifactKey.validate(key) }
        }
        #expect(throws: Never.self) { try ArtifactKey.validate("data/2026/train.parquet") }
    }
}

@Suite struct GitAttributesTests {
    @Test func trackUntrackAndLFSOwnership() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("anvcs-attr-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent(".gitattributes").path
        try "# mine\n*.psd filter=lfs diff=lfs merge=lfs -text\n*.txt text\n".write(toFile: path, atomically: true, encoding: .utf8)
        var f = GitAttributesFile(path: path)
        let added = try f.track("*.pt", takeOver: false), again = try f.track("*.pt", takeOver: false)
        #expect(added && !again)
        #expect(throws: ArtifactError.self) { _ = try f.track("*.psd", takeOver: false) }
        let takenOver = try f.track("*.psd", takeOver: true), spaced = try f.track("my data/*.csv", takeOver: false)
        #expect(takenOver && spaced)
        try f.save()
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains("# mine\n") && text.contains("*.txt text\n"))
        #expect(!text.contains("filter=lfs"))
        #expect(text.contains("my[[:space:]]data/*.csv filter=anvcs"))
        var g = GitAttributesFile(path: path)
        #expect(g.trackedPatterns == ["*.pt", "*.psd", "my data/*.csv"])
        let first = g.untrack("*.pt"), second = g.untrack("*.pt")
        #expect(first && !second)
    }
}

/// The filter with real git: clean to pointers, smudge back, verified bytes.
@Suite struct FilterIntegrationTests {
    func setUp() throws -> TemporaryRepository {
        let t = try TemporaryRepository()
        #expect(try t.anvcs(["init", "-q"]).succeeded)
        #expect(try t.anvcs(["track", "*.bin", "*.pt"]).succeeded)
        return t
    }

    func writeBytes(_ t: TemporaryRepository, _ name: String, count: Int, seed: UInt64) throws -> [UInt8] {
        var rng = SeededRandom(seed: seed)
        var bytes = [UInt8](repeating: 0, count: count)
        for i in 0..<count { bytes[i] = UInt8(truncatingIfNeeded: rng.next()) }
        try Data(bytes).write(to: URL(fileURLWithPath: t.path + "/" + name))
        return bytes
    }

    @Test func cleanSmudgeRoundTripAcrossCheckouts() throws {
        let t = try setUp()
        let big = try writeBytes(t, "model.pt", count: 3_000_000, seed: 1)
        try t.git(["add", ".gitattributes", "model.pt"])
        try t.git(["commit", "-q", "-m", "model"])
        let stored = try t.git(["cat-file", "-p", "HEAD:model.pt"])
        #expect(stored.hasPrefix("anvcs-artifact 1\nsha256 "))
        #expect(stored.contains("size 3000000\nkey model.pt\n"))
        // A second version on a branch; switching back and forth hydrates the exact bytes.
        try t.git(["checkout", "-q", "-b", "v2"])
        let v2 = try writeBytes(t, "model.pt", count: 1_000_000, seed: 2)
        try t.git(["commit", "-q", "-am", "v2"])
        try t.git(["checkout", "-q", "main"])
        #expect(Array(try Data(contentsOf: URL(fileURLWithPath: t.path + "/model.pt"))) == big)
        try t.git(["checkout", "-q", "v2"])
        #expect(Array(try Data(contentsOf: URL(fileURLWithPath: t.path + "/model.pt"))) == v2)
        #expect(try t.git(["status", "--porcelain", "--untracked-files=no"]).isEmpty)
        let diff = try t.git(["diff", "main", "v2", "--", "model.pt"])
        #expect(diff.contains("size 1000000") && diff.contains("size 3000000"))
    }

    /// git cleans a file again when its stat data no longer matches the index (racily clean
    /// after a checkout, touched, copied back): the filter compares it with the staged entry
    /// instead of writing it again, and a real change still gets its own pointer.
    @Test func aRecleanedArtifactKeepsItsPointerAndAChangeGetsANewOne() throws {
        let t = try setUp()
        var big = try writeBytes(t, "model.pt", count: 3_000_000, seed: 5)
        try t.git(["add", ".gitattributes", "model.pt"])
        try t.git(["commit", "-q", "-m", "model"])
        let first = try t.git(["cat-file", "-p", "HEAD:model.pt"])
        let tmp = t.path + "/.git/anvcs/objects/tmp"
        // New mtime, same bytes: git must read the file again to know.
        var times = [timespec(tv_sec: time(nil) + 5, tv_nsec: 0), timespec(tv_sec: time(nil) + 5, tv_nsec: 0)]
        utimensat(AT_FDCWD, t.path + "/model.pt", &times, 0)
        try t.git(["add", "model.pt"])
        #expect(try t.git(["diff", "--cached", "--name-only"]).isEmpty)
        #expect(try t.git(["status", "--porcelain", "--untracked-files=no"]).isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: tmp).isEmpty)
        // One byte flipped in the middle, same size: a new pointer, and both versions check out.
        big[1_500_000] ^= 0x80
        try Data(big).write(to: URL(fileURLWithPath: t.path + "/model.pt"))
        try t.git(["commit", "-q", "-am", "flipped"])
        let second = try t.git(["cat-file", "-p", "HEAD:model.pt"])
        #expect(second != first && second.contains("size 3000000"))
        try t.git(["checkout", "-q", "HEAD~1"])
        big[1_500_000] ^= 0x80
        #expect(Array(try Data(contentsOf: URL(fileURLWithPath: t.path + "/model.pt"))) == big)
        try t.git(["checkout", "-q", "main"])
        big[1_500_000] ^= 0x80
        #expect(Array(try Data(contentsOf: URL(fileURLWithPath: t.path + "/model.pt"))) == big)
    }

    @Test func pointersPassThroughAndCorruptPointersAreContent() throws {
        let t = try setUp()
        let sha = String(repeating: "0", count: 64)
        let pointer = "anvcs-artifact 1\nsha256 \(sha)\nsize 5\nkey x.bin\n"
        try t.write("x.bin", pointer)
        try t.write("corrupt.bin", "anvcs-artifact 1\nsha256 nothex\n")
        try t.git(["add", "."])
        try t.git(["commit", "-q", "-m", "pointers"])
        #expect(try t.git(["cat-file", "-p", "HEAD:x.bin"]) == pointer)
        let corrupt = try t.git(["cat-file", "-p", "HEAD:corrupt.bin"])
        #expect(corrupt.hasPrefix("anvcs-artifact 1\nsha256 ") && corrupt.contains("size 31"))
        // A pointer whose bytes are nowhere: checkout keeps the pointer and says so.
        try FileManager.default.removeItem(atPath: t.path + "/x.bin")
        let r = try t.run(["git", "checkout", "x.bin"])
        #expect(r.succeeded)
        #expect(r.stderr.contains("is in no store or cache"))
        #expect(t.read("x.bin") == pointer)
        #expect(t.read("corrupt.bin") == "anvcs-artifact 1\nsha256 nothex\n")
    }

    @Test func corruptCacheEntryKeepsThePointer() throws {
        let t = try setUp()
        _ = try writeBytes(t, "a.bin", count: 10_000, seed: 3)
        try t.git(["add", "."])
        try t.git(["commit", "-q", "-m", "a"])
        let stored = try t.git(["cat-file", "-p", "HEAD:a.bin"])
        let sha = String(stored.split(separator: "\n")[1].dropFirst(7))
        let cached = t.path + "/.git/anvcs/objects/\(sha.prefix(2))/\(sha)"
        try Data("tampered".utf8).write(to: URL(fileURLWithPath: cached))
        try FileManager.default.removeItem(atPath: t.path + "/a.bin")
        let r = try t.run(["git", "checkout", "a.bin"])
        #expect(r.stderr.contains("expected sha256"))
        #expect(t.read("a.bin") == stored)
    }
}
