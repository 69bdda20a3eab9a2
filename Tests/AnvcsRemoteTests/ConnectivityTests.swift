import AnvcsTestSupport
import Foundation
import Testing

/// The `check-connectivity` capability: on a clone, the helper proves the one fetched pack is a
/// whole history (so git skips its `rev-list --objects` walk), and it never claims more.
@Suite struct ConnectivityTests {
    /// Speaks the protocol to git-remote-anvcs directly, as git does on a clone.
    private func fetchAsClone(_ f: RemoteFixture, store: String, tip: String, into target: String) throws -> ProcessResult {
        try f.work.run(["git-remote-anvcs", "origin", "file://\(store)"], env: ["GIT_DIR": target + "/.git"],
                       input: "option check-connectivity true\nfetch \(tip) refs/heads/main\n\n")
    }

    @Test func aOnePackStoreIsProvenConnectedAndLockedUntilGitTakesOver() throws {
        let f = try RemoteFixture()
        let tip = try f.commits(4)
        try f.work.git(["push", "-q", "anvcs::file://\(f.root)/store", "main"])
        let target = f.root + "/target"
        try f.must(["init", "-q", target], in: f.root)

        let r = try fetchAsClone(f, store: f.root + "/store", tip: tip, into: target)
        #expect(r.succeeded, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.first == "ok")
        let lock = try #require(lines.first { $0.hasPrefix("lock ") }).dropFirst(5)
        #expect(lock.hasSuffix(".keep") && FileManager.default.fileExists(atPath: String(lock)))
        #expect(lines.contains("connectivity-ok"))
        #expect(r.stdout.hasSuffix("connectivity-ok\n\n"))

        // Through git: the clone is complete and git removed the lock.
        let clone = try f.clone("anvcs::file://\(f.root)/store", into: "clone")
        #expect(try f.rev("HEAD", in: clone) == tip)
        #expect(try f.must(["fsck", "--strict", "--connectivity-only"], in: clone).isEmpty)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: clone + "/.git/objects/pack").filter { $0.hasSuffix(".keep") }
        #expect(leftovers.isEmpty)
    }

    @Test func severalPacksAreNeitherLockedNorClaimedConnected() throws {
        let f = try RemoteFixture()
        let url = "anvcs::file://\(f.root)/store"
        try f.commits(2)
        try f.work.git(["push", "-q", url, "main"])
        let tip = try f.commits(2, prefix: "more")
        try f.work.git(["push", "-q", url, "main"])
        let target = f.root + "/target"
        try f.must(["init", "-q", target], in: f.root)

        let r = try fetchAsClone(f, store: f.root + "/store", tip: tip, into: target)
        #expect(r.succeeded, "\(r.stderr)")
        // git honours one lock per fetch from a helper; a second would never be removed.
        #expect(r.stdout == "ok\n\n", "\(r.stdout)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: target + "/.git/objects/pack").filter { $0.hasSuffix(".keep") }.isEmpty)
        // git walks the history itself then, and the clone is whole.
        let clone = try f.clone(url, into: "clone")
        #expect(try f.rev("HEAD", in: clone) == tip)
        #expect(try FileManager.default.contentsOfDirectory(atPath: clone + "/.git/objects/pack").filter { $0.hasSuffix(".keep") }.isEmpty)
        // A later fetch of one new pack locks it, and git unlocks it.
        let more = try f.commits(1, prefix: "later")
        try f.work.git(["push", "-q", url, "main"])
        let fetched = try f.git(["fetch", url, "main"], in: clone)
        #expect(fetched.succeeded && !fetched.stderr.contains("also locked"), "\(fetched.stderr)")
        #expect(try f.rev("FETCH_HEAD", in: clone) == more)
        #expect(try FileManager.default.contentsOfDirectory(atPath: clone + "/.git/objects/pack").filter { $0.hasSuffix(".keep") }.isEmpty)
    }

    @Test func aLonePackThatIsNotAWholeHistoryFailsTheCloneClearly() throws {
        let f = try RemoteFixture()
        let url = "anvcs::file://\(f.root)/store"
        try f.commits(2)
        try f.work.git(["push", "-q", url, "main"])
        try f.commits(1, prefix: "more")
        try f.work.git(["push", "-q", url, "main"])
        // Damage the store: the manifest lists only the second pack, whose commit's parent
        // lives in the first.
        let manifestPath = f.root + "/store/refs.json"
        var manifest = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: manifestPath))) as? [String: Any])
        let packs = try #require(manifest["packs"] as? [[String: Any]])
        manifest["packs"] = [packs[1]]
        try JSONSerialization.data(withJSONObject: manifest).write(to: URL(fileURLWithPath: manifestPath))

        let r = try f.work.run(["git", "clone", url, f.root + "/clone"], in: f.root)
        #expect(!r.succeeded)
        #expect(r.stderr.contains("failed verification (the pack is not a whole history") && r.stderr.contains("nothing was fetched"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: f.root + "/clone"))
    }
}
