import AnvcsGit
import AnvcsTestSupport
import Foundation
import Testing

/// `introducedFiles` against `git diff-tree -r -c --root --no-renames`, the command it replaces
/// in pre-push: root commits, nested changes, deletions, symlinks, modes, and a merge whose
/// resolution differs from both sides.
@Suite struct TreeChangesTests {
    /// git's answer: regular files whose new blob is not all zeros (deleted) and differs from
    /// every parent's blob (`-c` lists only such paths for merges).
    func gitIntroduced(_ t: TemporaryRepository, _ commit: String) throws -> Set<String> {
        let output = try t.git(["diff-tree", "-r", "-z", "-c", "--root", "--no-renames", commit])
        var result = Set<String>()
        var tokens = output.split(separator: "\0", omittingEmptySubsequences: false).makeIterator()
        while let token = tokens.next() {
            guard token.hasPrefix(":"), let path = tokens.next() else { continue }
            let parents = token.prefix(while: { $0 == ":" }).count
            let fields = token.dropFirst(parents).split(separator: " ")
            let mode = fields[parents], blob = fields[2 * parents + 1]
            let parentBlobs = fields[(parents + 1)...(2 * parents)]
            guard mode == "100644" || mode == "100755", !blob.allSatisfy({ $0 == "0" }),
                  !parentBlobs.contains(blob) else { continue }
            result.insert("\(path) \(blob)")
        }
        return result
    }

    func ours(_ repository: Repository, _ commit: String) throws -> Set<String> {
        Set(try repository.introducedFiles(commit: ObjectID(hex: commit)!).map { "\($0.path) \($0.blob.hex)" })
    }

    @Test func matchesGitDiffTreeOnRootChangesAndMerges() throws {
        let t = try TemporaryRepository()
        try t.write("a.bin", "one\n")
        try t.write("dir/sub/b.bin", "two\n")
        try t.write("dir/c.bin", "three\n")
        try t.write("run.sh", "#!/bin/sh\n")
        try t.git(["update-index", "--add", "--chmod=+x", "run.sh"])
        try FileManager.default.createSymbolicLink(atPath: t.path + "/link", withDestinationPath: "a.bin")
        try t.git(["add", "-A"])
        try t.git(["commit", "-q", "-m", "root"])
        let root = try t.git(["rev-parse", "HEAD"]).trimmingCharacters(in: .whitespacesAndNewlines)

        try t.git(["checkout", "-q", "-b", "side"])
        try t.write("dir/sub/b.bin", "two, side\n")
        try t.write("dir/new.bin", "new\n")
        try FileManager.default.removeItem(atPath: t.path + "/dir/c.bin")
        try t.git(["add", "-A"])
        try t.git(["commit", "-q", "-m", "side"])
        let side = try t.git(["rev-parse", "HEAD"]).trimmingCharacters(in: .whitespacesAndNewlines)

        try t.git(["checkout", "-q", "main"])
        try t.write("dir/sub/b.bin", "two, main\n")
        try t.write("a.bin", "one, main\n")
        try t.git(["commit", "-q", "-am", "main"])
        let main = try t.git(["rev-parse", "HEAD"]).trimmingCharacters(in: .whitespacesAndNewlines)
        _ = try t.run(["git", "merge", "-q", "side"])
        try t.write("dir/sub/b.bin", "two, resolved\n")
        try t.git(["add", "-A"])
        try t.git(["commit", "-q", "--no-edit"])
        let merge = try t.git(["rev-parse", "HEAD"]).trimmingCharacters(in: .whitespacesAndNewlines)

        let repository = try Repository.open(t.path)
        for commit in [root, side, main, merge] {
            #expect(try ours(repository, commit) == gitIntroduced(t, commit), "commit \(commit)")
        }
        // Spelled out: the root has every regular file (no symlink), the merge only the resolution.
        #expect(try ours(repository, root).map { $0.split(separator: " ")[0] }.sorted() == ["a.bin", "dir/c.bin", "dir/sub/b.bin", "run.sh"])
        #expect(try ours(repository, merge).map { $0.split(separator: " ")[0] } == ["dir/sub/b.bin"])
    }
}
