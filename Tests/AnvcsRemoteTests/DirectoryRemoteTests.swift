import AnvcsTestSupport
import Foundation
import Testing

/// Real `git clone`, `git fetch`, `git push` against `anvcs::file:///dir` object-store remotes.
@Suite struct DirectoryRemoteTests {
    @Test func pushCloneFetchRoundTrip() throws {
        let f = try RemoteFixture()
        let tip = try f.commits(3)
        let url = "anvcs::file://\(f.root)/store"
        try f.work.git(["remote", "add", "origin", url])
        try f.work.git(["push", "-q", "origin", "main"])
        #expect(FileManager.default.fileExists(atPath: f.root + "/store/refs.json"))

        let clone = try f.clone(url, into: "clone")
        #expect(try f.rev("HEAD", in: clone) == tip)
        #expect(try f.must(["fsck", "--strict"], in: clone).isEmpty)

        // A second push carries only the new objects: one more pack.
        let next = try f.commit("b.txt", "b\n", in: clone)
        try f.must(["push", "-q", "origin", "main"], in: clone)
        let packs = try FileManager.default.contentsOfDirectory(atPath: f.root + "/store/packs").filter { $0.hasSuffix(".pack") }
        #expect(packs.count == 2)
        try f.work.git(["fetch", "-q", "origin"])
        #expect(try f.rev("origin/main", in: f.work.path) == next)
        let ls = try f.must(["ls-remote", url], in: f.work.path)
        #expect(ls.contains("\(next)\tHEAD") && ls.contains("\(next)\trefs/heads/main"))
    }

    @Test func nonFastForwardIsRejectedLikeGitAndForceWins() throws {
        let f = try RemoteFixture()
        try f.commits(2)
        let url = "anvcs::file://\(f.root)/store"
        try f.work.git(["push", "-q", url, "main"])
        let other = try f.clone(url, into: "other")
        let theirs = try f.commit("theirs.txt", "theirs\n", in: other)
        try f.must(["push", "-q", "origin", "main"], in: other)

        let ours = try f.work.commitFile("ours.txt", "ours\n", message: "ours")
        let rejected = try f.work.run(["git", "push", url, "main"])
        #expect(!rejected.succeeded)
        #expect(rejected.stderr.contains("[rejected]") && rejected.stderr.contains("fetch first"))
        #expect(try f.must(["ls-remote", url, "refs/heads/main"], in: f.work.path).hasPrefix(theirs))

        // Now that we know their commit, the rejection is a non-fast-forward.
        try f.work.git(["fetch", "-q", url, "main"])
        let nonFF = try f.work.run(["git", "push", url, "main"])
        #expect(!nonFF.succeeded && nonFF.stderr.contains("non-fast-forward"))

        let forced = try f.work.run(["git", "push", "--force", url, "main"])
        #expect(forced.succeeded, "\(forced.stderr)")
        #expect(forced.stderr.contains("forced update"))
        #expect(try f.must(["ls-remote", url, "refs/heads/main"], in: f.work.path).hasPrefix(ours))
        let dryRun = try f.work.run(["git", "push", "--dry-run", url, "main:refs/heads/dry"])
        #expect(dryRun.succeeded)
        #expect(try f.must(["ls-remote", url], in: f.work.path).contains("refs/heads/dry") == false)
    }

    @Test func atomicPushMovesAllOrNothingAndTagsAndDeletes() throws {
        let f = try RemoteFixture()
        try f.commits(2)
        let url = "anvcs::file://\(f.root)/store"
        try f.work.git(["push", "-q", url, "main", "main:refs/heads/side"])
        let other = try f.clone(url, into: "other")
        try f.must(["checkout", "-q", "side"], in: other)
        try f.commit("side.txt", "side\n", in: other)
        try f.must(["push", "-q", "origin", "side"], in: other)

        try f.work.commitFile("main.txt", "main\n", message: "main moves")
        try f.work.git(["checkout", "-q", "-b", "side-local", "main~1"])
        try f.work.commitFile("conflict.txt", "x\n", message: "diverges from their side")
        try f.work.git(["checkout", "-q", "main"])
        let before = try f.must(["ls-remote", url], in: f.work.path)
        let atomic = try f.work.run(["git", "push", "--atomic", url, "main", "side-local:refs/heads/side"])
        #expect(!atomic.succeeded)
        #expect(try f.must(["ls-remote", url], in: f.work.path) == before)
        let partial = try f.work.run(["git", "push", url, "main", "side-local:refs/heads/side"])
        #expect(!partial.succeeded)
        #expect(try f.must(["ls-remote", url, "refs/heads/main"], in: f.work.path).hasPrefix(try f.work.head()))

        // Annotated tags travel; moving one needs force; a branch can be deleted.
        try f.work.git(["tag", "-a", "-m", "release", "v1", "main~1"])
        try f.work.git(["push", "-q", url, "v1"])
        try f.work.git(["tag", "-f", "-a", "-m", "moved", "v1", "main"])
        let moved = try f.work.run(["git", "push", url, "v1"])
        #expect(!moved.succeeded && moved.stderr.contains("already exists"))
        try f.work.git(["push", "-q", url, ":refs/heads/side"])
        let after = try f.must(["ls-remote", url], in: f.work.path)
        #expect(!after.contains("refs/heads/side") && after.contains("refs/tags/v1"))
        let clone = try f.clone(url, into: "tagged")
        #expect(try f.must(["cat-file", "-t", "v1"], in: clone).hasPrefix("tag"))
    }

    @Test func provenanceNotesTravelAndMergeFieldByField() throws {
        let f = try RemoteFixture()
        let first = try f.commits(1)
        let url = "anvcs::file://\(f.root)/store"
        try f.work.git(["notes", "--ref", "anvcs", "add", "-m", #"{"schema":"anvcs/provenance/1","commit_id":"\#(first)","ai_meta":{"model":"m1"}}"#, first])
        try f.work.git(["push", "-q", url, "main"])
        let clone = try f.clone(url, into: "clone")
        #expect(try f.must(["notes", "--ref", "anvcs", "show", first], in: clone).contains("m1"))

        // Both sides add a field to the same note; the next push merges them.
        try f.must(["notes", "--ref", "anvcs", "add", "-f", "-m", #"{"schema":"anvcs/provenance/1","commit_id":"\#(first)","ai_meta":{"model":"m1","prompt":"p"}}"#, first], in: clone)
        try f.commit("c.txt", "c\n", in: clone)
        try f.must(["push", "-q", "origin", "main"], in: clone)
        try f.work.git(["notes", "--ref", "anvcs", "add", "-f", "-m", #"{"schema":"anvcs/provenance/1","commit_id":"\#(first)","ai_meta":{"model":"m1","agent_id":"a"}}"#, first])
        try f.work.git(["pull", "-q", "--rebase", url, "main"])
        try f.work.commitFile("d.txt", "d\n", message: "d")
        try f.work.git(["push", "-q", url, "main"])
        try f.must(["fetch", "-q", "origin"], in: clone)
        let merged = try f.must(["notes", "--ref", "anvcs", "show", first], in: clone)
        #expect(merged.contains("\"prompt\"") && merged.contains("\"agent_id\""), "\(merged)")
    }
}

/// The helper's own artifact step: the pushed commits' artifacts reach the store before any ref
/// moves, even when git's pre-push hook is skipped (`--no-verify`).
@Suite struct RemoteArtifactTests {
    @Test func artifactsAreStoredBeforeRefsMoveAndAFailingStoreRejectsThePush() throws {
        let f = try RemoteFixture()
        let store = f.root + "/artifact-store"
        #expect(try f.work.anvcs(["init", "-q"]).succeeded)
        #expect(try f.work.anvcs(["track", "*.bin"]).succeeded)
        try f.work.git(["config", "anvcs.adapters.local.path", store])
        try f.work.write("ai-vcs.config.yaml", "blobs:\n  upload_on_commit: false\n")
        let bytes = (0..<50_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        try Data(bytes).write(to: URL(fileURLWithPath: f.work.path + "/model.bin"))
        try f.must(["add", "-A"], in: f.work.path)
        try f.must(["commit", "-q", "-m", "model"], in: f.work.path)
        let url = "anvcs::file://\(f.root)/store"

        // The store is unusable: the push is refused and the remote has no ref.
        try f.work.git(["config", "anvcs.adapters.local.path", f.work.path + "/model.bin/below-a-file"])
        let refused = try f.git(["push", "--no-verify", url, "main"], in: f.work.path)
        #expect(!refused.succeeded)
        #expect(refused.stderr.contains("artifact upload failed"), "\(refused.stderr)")
        #expect(try f.must(["ls-remote", url], in: f.work.path).isEmpty)

        try f.work.git(["config", "anvcs.adapters.local.path", store])
        let pushed = try f.git(["push", "--no-verify", url, "main"], in: f.work.path)
        #expect(pushed.succeeded, "\(pushed.stderr)")
        #expect(!(try FileManager.default.subpathsOfDirectory(atPath: store)).isEmpty)

        let clone = f.root + "/clone"
        let r = try f.work.run(["git", "clone", "-q", "-c", "filter.anvcs.process=git anvcs filter-process", "-c", "filter.anvcs.required=true",
                                "-c", "anvcs.adapters.local.path=\(store)", url, clone], in: f.root)
        #expect(r.succeeded, "\(r.stderr)")
        #expect(FileManager.default.contents(atPath: clone + "/model.bin").map(Array.init) == bytes)
    }
}
