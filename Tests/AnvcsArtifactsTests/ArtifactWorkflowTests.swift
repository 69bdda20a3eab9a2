import AnvcsArtifacts
import AnvcsTestSupport
import Foundation
import Testing

/// Artifacts end to end with real git, the installed hooks and the filter, against a local
/// store shared by every clone of a test (`anvcs.adapters.local.path`).
@Suite struct ArtifactWorkflowTests {
    /// A project with hooks, `*.bin` tracked, uploads on commit and a bare remote.
    final class Project {
        let t: TemporaryRepository
        let store: String
        let remote: String

        init(uploadOnCommit: Bool = true) throws {
            t = try TemporaryRepository()
            store = t.root + "/store"
            remote = t.root + "/remote.git"
            try t.git(["init", "-q", "--bare", "-b", "main", remote])
            #expect(try t.anvcs(["init", "-q"]).succeeded)
            #expect(try t.anvcs(["track", "*.bin"]).succeeded)
            try t.git(["config", "anvcs.adapters.local.path", store])
            try t.write("ai-vcs.config.yaml", "blobs:\n  upload_on_commit: \(uploadOnCommit)\n")
            try t.git(["remote", "add", "origin", remote])
        }

        var path: String { t.path }

        @discardableResult
        func bytes(_ name: String, count: Int, seed: UInt64, in dir: String? = nil) throws -> [UInt8] {
            var rng = SeededRandom(seed: seed)
            var out = [UInt8](repeating: 0, count: count)
            for i in 0..<count { out[i] = UInt8(truncatingIfNeeded: rng.next()) }
            let url = URL(fileURLWithPath: (dir ?? t.path) + "/" + name)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(out).write(to: url)
            return out
        }

        func commitAll(_ message: String, env: [String: String] = [:], in dir: String? = nil) throws {
            t.setDate()
            for args in [["add", "-A"], ["commit", "-q", "-m", message]] {
                let r = try t.run(["git"] + args, env: env, in: dir)
                guard r.succeeded else { throw TestFailure("git \(args) failed: \(r.stderr)") }
            }
        }

        /// `git clone` with the filter configured and the shared store, as a user would after `git anvcs init`.
        func clone(_ name: String, lazy: Bool = false, config: [String] = [], env: [String: String] = [:]) throws -> (dir: String, result: ProcessResult) {
            let dir = t.root + "/" + name
            var args = ["git", "clone", "-q", "-c", "filter.anvcs.process=git anvcs filter-process", "-c", "filter.anvcs.required=true",
                        "-c", "anvcs.adapters.local.path=\(store)",
                        "-c", "merge.anvcs-artifact.driver=git anvcs artifact-merge-driver %O %A %B %P"]
            if lazy { args += ["-c", "anvcs.artifacts.hydrate=lazy"] }
            for setting in config { args += ["-c", setting] }
            let r = try t.run(args + [remote, dir], env: env, in: t.root)
            return (dir, r)
        }

        func contents(_ path: String, in dir: String? = nil) -> [UInt8]? {
            FileManager.default.contents(atPath: (dir ?? t.path) + "/" + path).map(Array.init)
        }

        func status(in dir: String? = nil) throws -> [String: Any] {
            let r = try t.run([Built.gitAnvcs, "status", "--json"], in: dir)
            guard r.succeeded, let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any] else {
                throw TestFailure("status --json failed: \(r.stderr)")
            }
            return object
        }

        func queued(in dir: String? = nil) throws -> Int { ((try status(in: dir))["queued_uploads"] as? [Any])?.count ?? -1 }

        /// The pins recorded in the note of `revision`.
        func pins(_ revision: String = "HEAD") throws -> [[String: Any]] {
            let r = try t.run(["git", "notes", "--ref=anvcs", "show", revision])
            guard r.succeeded, let note = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any],
                  let meta = note["ai_meta"] as? [String: Any] else { return [] }
            return meta["artifacts"] as? [[String: Any]] ?? []
        }

        /// Waits (up to 20 s) for the background drain to empty the queue. Done means: no commit
        /// still marked pending (the post-commit hook marks it before it starts the drainer, and
        /// the drainer queues its artifacts only after it started, so an empty queue alone can be
        /// seen before the drainer ran), no drainer running, and nothing queued.
        func waitForUploads() throws {
            let deadline = Date().addingTimeInterval(20)
            let pending = t.path + "/.git/anvcs/pending"
            while Date() < deadline {
                let waiting = ((try? FileManager.default.contentsOfDirectory(atPath: pending)) ?? []).contains {
                    !$0.hasPrefix(".") && !$0.hasSuffix(".env")
                }
                if !waiting, !FileManager.default.fileExists(atPath: pending + "/.drainer"), try queued() == 0 { return }
                usleep(20_000)
            }
            throw TestFailure("uploads still queued after 20 s: \(try status())")
        }
    }

    /// What the post-commit hook leaves before its background drainer starts (the marker alone)
    /// shows in `status`, so an empty upload queue right after a commit is not read as "all sent".
    @Test func statusListsCommitsStillMarkedPending() throws {
        let p = try Project()
        try p.t.write("README.md", "hello\n")
        try p.commitAll("readme")
        try p.waitForUploads()
        #expect((try p.status())["pending_commits"] as? [String] == [])
        let head = try p.t.git(["rev-parse", "HEAD"]).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(FileManager.default.createFile(atPath: p.t.path + "/.git/anvcs/pending/" + head, contents: nil))
        #expect((try p.status())["pending_commits"] as? [String] == [head])
        let text = try p.t.run([Built.gitAnvcs, "status"])
        #expect(text.stdout.contains("capture pending): 1"), "\(text.stdout)")
    }

    /// Twice: with every artifact through git, and with the model written after each checkout
    /// (`artifacts.write_after_checkout` below its size), through clone, switch, rebase and merge.
    @Test(arguments: [0, 100_000])
    func commitPinsInTheNoteAndCloneRebaseMergeHydrate(writeAfterCheckout: Int) throws {
        let p = try Project()
        let model = try p.bytes("model.bin", count: 300_000, seed: 1)
        try p.bytes("data/part.bin", count: 20_000, seed: 2)
        try p.t.write("README.md", "hello\n")
        try p.commitAll("model")
        try p.waitForUploads()
        let pins = try p.pins()
        #expect(pins.count == 2, "\(pins)")
        let modelPin = pins.first { $0["path"] as? String == "model.bin" }
        #expect(modelPin?["storage"] as? String == "local")
        #expect(modelPin?["size"] as? Int == 300_000)
        #expect(modelPin?["key"] as? String == "model.bin")
        #expect((modelPin?["version_id"] as? String)?.count == 64)
        // The capture's own fields survive the pin update (merge, not clobber).
        #expect(try p.t.git(["notes", "--ref=anvcs", "show", "HEAD"]).contains("\"env\""))

        try p.t.git(["push", "-q", "origin", "main"])
        // A second version on a branch, pushed too.
        try p.t.git(["checkout", "-q", "-b", "v2"])
        let model2 = try p.bytes("model.bin", count: 250_000, seed: 3)
        try p.commitAll("model v2")
        try p.waitForUploads()
        try p.t.git(["push", "-q", "origin", "v2"])

        let (clone, r) = try p.clone("clone", config: ["anvcs.artifacts.write-after-checkout=\(writeAfterCheckout)"],
                                     env: ["GIT_TRACE_PACKET": "1"])
        #expect(r.succeeded, "\(r.stderr.suffix(2000))")
        #expect(p.contents("model.bin", in: clone) == model)
        // Checkout fetched through the filter's delay capability.
        #expect(r.stderr.contains("status=delayed"))
        // The model went to git as its pointer (written afterwards) exactly when it was meant to.
        #expect(r.stderr.contains("clone< anvcs-artifact 1") == (writeAfterCheckout > 0))
        let status = try p.t.run(["git", "status", "--porcelain"], in: clone)
        #expect(status.stdout.isEmpty, "\(status.stdout)")

        // Branch switches hydrate the exact pinned versions.
        try p.t.run(["git", "checkout", "-q", "v2"], in: clone)
        #expect(p.contents("model.bin", in: clone) == model2)
        try p.t.run(["git", "checkout", "-q", "main"], in: clone)
        #expect(p.contents("model.bin", in: clone) == model)

        // Rebase a new artifact commit onto v2; then merge back: the bytes follow.
        try p.t.run(["git", "checkout", "-q", "-b", "feature"], in: clone)
        let extra = try p.bytes("extra.bin", count: 5_000, seed: 4, in: clone)
        try p.commitAll("extra", in: clone)
        let rebase = try p.t.run(["git", "rebase", "-q", "v2"], in: clone)
        #expect(rebase.succeeded, "\(rebase.stderr)")
        #expect(p.contents("model.bin", in: clone) == model2)
        #expect(p.contents("extra.bin", in: clone) == extra)
        try p.t.run(["git", "checkout", "-q", "main"], in: clone)
        let merge = try p.t.run(["git", "merge", "-q", "--no-edit", "feature"], in: clone)
        #expect(merge.succeeded, "\(merge.stderr)")
        #expect(p.contents("model.bin", in: clone) == model2)
        #expect(p.contents("extra.bin", in: clone) == extra)
        #expect(try p.t.git(["-C", clone, "status", "--porcelain"]).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: clone + "/.git/anvcs/write-after-checkout"))
    }

    /// Artifacts from `artifacts.write_after_checkout` bytes on are not poured through git: git
    /// writes the pointer, ANVCS the bytes (the filter when git closes its pipe, or the
    /// post-checkout hook first), and the index gets their stat, so git sees them clean without
    /// reading them. Commands that do not write the work tree (`git archive`) still get the bytes.
    @Test func largeArtifactsAreWrittenAfterCheckoutAndTheIndexKnowsThem() throws {
        func digest(_ bytes: [UInt8]?) -> String? { bytes.map(ContentDigestHex.sha256) }
        let p = try Project()
        let model = try p.bytes("models/model.bin", count: 300_000, seed: 51)
        let small = try p.bytes("small.bin", count: 2_000, seed: 52)
        try p.commitAll("model")
        try p.t.git(["push", "-q", "origin", "main"])
        try p.t.git(["checkout", "-q", "-b", "v2"])
        let model2 = try p.bytes("models/model.bin", count: 200_000, seed: 53)
        try p.commitAll("model v2")
        try p.t.git(["push", "-q", "origin", "v2"])
        try p.t.git(["checkout", "-q", "main"])

        // A clone has no hooks: the filter writes the artifact before git returns.
        let (clone, r) = try p.clone("after", config: ["anvcs.artifacts.write-after-checkout=100000"], env: ["GIT_TRACE_PACKET": "1"])
        #expect(r.succeeded, "\(r.stderr.suffix(2000))")
        // The filter answered git with the pointer (git wrote it; the filter then the bytes).
        #expect(r.stderr.contains("clone< anvcs-artifact 1"))
        #expect(digest(p.contents("models/model.bin", in: clone)) == ContentDigestHex.sha256(model))
        #expect(digest(p.contents("small.bin", in: clone)) == ContentDigestHex.sha256(small))
        #expect(try p.t.git(["-C", clone, "ls-files", "--debug", "models/model.bin"]).contains("size: 300000"),
                "the index records the artifact's stat, not the pointer's")
        #expect(!FileManager.default.fileExists(atPath: clone + "/.git/anvcs/write-after-checkout"))
        #expect(try p.t.git(["-C", clone, "status", "--porcelain"]).isEmpty)
        let unpacked = p.t.root + "/unpacked"
        try FileManager.default.createDirectory(atPath: unpacked, withIntermediateDirectories: true)
        let archived = try p.t.run(["/bin/sh", "-c", "git archive HEAD models/model.bin | tar -xf - -C '\(unpacked)'"], in: clone)
        #expect(archived.succeeded, "\(archived.stderr)")
        #expect(digest(p.contents("models/model.bin", in: unpacked)) == ContentDigestHex.sha256(model), "git archive gets the bytes, not the pointer")

        // In a work tree with the hooks, the post-checkout hook writes it, before the hook that
        // was there before runs (it sees the bytes).
        try p.t.git(["config", "anvcs.artifacts.write-after-checkout", "100000"])
        let log = p.t.root + "/hook.log"
        try p.t.write(".git/hooks/post-checkout.pre-anvcs", "#!/bin/sh\nhead -c 14 models/model.bin > '\(log)'\n")
        #expect(chmod(p.t.path + "/.git/hooks/post-checkout.pre-anvcs", 0o755) == 0)
        let checkout = try p.t.run(["git", "checkout", "-q", "v2"])
        #expect(checkout.succeeded, "\(checkout.stderr)")
        #expect(digest(p.contents("models/model.bin")) == ContentDigestHex.sha256(model2))
        #expect(FileManager.default.contents(atPath: log).map(Array.init) == Array(model2.prefix(14)))
        #expect(try p.t.git(["ls-files", "--debug", "models/model.bin"]).contains("size: 200000"))
        #expect(try p.t.git(["status", "--porcelain"]).isEmpty)
        try p.t.git(["checkout", "-q", "main"])
        #expect(digest(p.contents("models/model.bin")) == ContentDigestHex.sha256(model))
    }

    @Test func lazyCloneLeavesPointersUntilHydrate() throws {
        let p = try Project()
        let a = try p.bytes("a.bin", count: 40_000, seed: 5)
        let b = try p.bytes("d/b.bin", count: 30_000, seed: 6)
        try p.commitAll("two")
        try p.t.git(["push", "-q", "origin", "main"])
        let (clone, r) = try p.clone("lazy", lazy: true)
        #expect(r.succeeded, "\(r.stderr)")
        #expect(String(decoding: p.contents("a.bin", in: clone) ?? [], as: UTF8.self).hasPrefix("anvcs-artifact 1\n"))
        let before = try p.status(in: clone)
        #expect((before["unhydrated"] as? [String])?.sorted() == ["a.bin", "d/b.bin"])

        let one = try p.t.run([Built.gitAnvcs, "hydrate", "d"], in: clone)
        #expect(one.succeeded, "\(one.stderr)")
        #expect(p.contents("d/b.bin", in: clone) == b)
        #expect(try p.t.git(["-C", clone, "status", "--porcelain"]).isEmpty)
        #expect(try p.t.run([Built.gitAnvcs, "hydrate", "--all"], in: clone).succeeded)
        #expect(p.contents("a.bin", in: clone) == a)
        #expect((try p.status(in: clone)["unhydrated"] as? [String]) == [])
        // `pull --artifacts` is accepted and validated.
        #expect(try p.t.run([Built.gitAnvcs, "pull", "--artifacts=sometimes"], in: clone).status == 2)
    }

    /// A file-size limit (`ulimit -f`, with SIGXFSZ ignored) stands in for a disk that fills: every
    /// write past it fails with EFBIG, as one fails with ENOSPC on a full disk, without needing root
    /// to mount a small file system.
    @Test func diskFullDuringHydrationKeepsThePointerSimulatedWithAFileSizeLimit() throws {
        let p = try Project()
        let model = try p.bytes("model.bin", count: 3 << 20, seed: 41)
        try p.commitAll("model")
        try p.t.git(["push", "-q", "origin", "main"])
        let (clone, r) = try p.clone("full", lazy: true)
        #expect(r.succeeded, "\(r.stderr)")
        let pointer = p.contents("model.bin", in: clone)
        #expect(String(decoding: pointer ?? [], as: UTF8.self).hasPrefix("anvcs-artifact 1\n"))

        let limited = try p.t.run(["/bin/sh", "-c", "trap '' XFSZ; ulimit -f 1024; exec \"$0\" hydrate --all", Built.gitAnvcs], in: clone)
        #expect(!limited.succeeded, "a hydration that could not write must say so: \(limited.stdout)")
        #expect(limited.stderr.contains("model.bin"), "\(limited.stderr)")
        #expect(p.contents("model.bin", in: clone) == pointer, "the pointer stays")
        let tracked = Set(try p.t.git(["-C", clone, "ls-files"]).split(separator: "\n").map(String.init))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: clone).filter { $0 != ".git" && !tracked.contains($0) }
        #expect(leftovers.isEmpty, "no partial file is left beside it: \(leftovers)")
        #expect(try p.t.git(["-C", clone, "status", "--porcelain"]).isEmpty)

        let again = try p.t.run([Built.gitAnvcs, "hydrate", "--all"], in: clone)
        #expect(again.succeeded, "\(again.stderr)")
        #expect(p.contents("model.bin", in: clone) == model)
    }

    /// The clean side of a full disk (the file-size limit again): `git add` fails with the
    /// filter's reason, nothing is staged and no partial cache file stays behind.
    @Test func diskFullDuringCleanFailsTheAddSimulatedWithAFileSizeLimit() throws {
        let p = try Project()
        try p.bytes("big.bin", count: 6 << 20, seed: 44)
        let add = try p.t.run(["/bin/sh", "-c", "trap '' XFSZ; ulimit -f 2048; exec git add big.bin"])
        #expect(!add.succeeded)
        #expect(add.stderr.contains("cannot write to the artifact cache"), "\(add.stderr)")
        #expect(try p.t.git(["ls-files", "big.bin"]).isEmpty, "nothing staged")
        let tmp = p.t.path + "/.git/anvcs/objects/tmp"
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: tmp)) ?? []).isEmpty, "no partial cache file")
        let again = try p.t.run(["git", "add", "big.bin"])
        #expect(again.succeeded, "\(again.stderr)")
        #expect(try p.t.git(["cat-file", "-p", ":big.bin"]).hasPrefix("anvcs-artifact 1\n"))
    }

    @Test func pullChoosesLazyOrEagerHydration() throws {
        let p = try Project()
        try p.bytes("a.bin", count: 9_000, seed: 25)
        try p.commitAll("a")
        try p.t.git(["push", "-q", "origin", "main"])
        let (clone, _) = try p.clone("pull")
        let b = try p.bytes("b.bin", count: 9_000, seed: 26)
        try p.commitAll("b")
        try p.t.git(["push", "-q", "origin", "main"])
        let lazy = try p.t.run([Built.gitAnvcs, "pull", "--artifacts=lazy", "origin", "main"], in: clone)
        #expect(lazy.succeeded, "\(lazy.stderr)")
        #expect(String(decoding: p.contents("b.bin", in: clone) ?? [], as: UTF8.self).hasPrefix("anvcs-artifact 1\n"))
        let c = try p.bytes("c.bin", count: 9_000, seed: 27)
        try p.commitAll("c")
        try p.t.git(["push", "-q", "origin", "main"])
        let eager = try p.t.run([Built.gitAnvcs, "pull", "--artifacts=eager", "origin", "main"], in: clone)
        #expect(eager.succeeded, "\(eager.stderr)")
        #expect(p.contents("c.bin", in: clone) == c)
        #expect(try p.t.run([Built.gitAnvcs, "hydrate", "b.bin"], in: clone).succeeded)
        #expect(p.contents("b.bin", in: clone) == b)
    }

    @Test func prefetchFillsTheCacheWithoutTouchingTheWorkTree() throws {
        let p = try Project()
        let a = try p.bytes("a.bin", count: 10_000, seed: 7)
        try p.commitAll("a")
        try p.t.git(["push", "-q", "origin", "main"])
        let (clone, _) = try p.clone("pre", lazy: true)
        let pointer = p.contents("a.bin", in: clone)
        let r = try p.t.run([Built.gitAnvcs, "hydrate", "--prefetch", "HEAD"], in: clone)
        #expect(r.succeeded, "\(r.stderr)")
        #expect(p.contents("a.bin", in: clone) == pointer)
        // Now offline: the store is gone, yet checkout has the bytes from the cache.
        try FileManager.default.removeItem(atPath: p.store)
        try FileManager.default.removeItem(atPath: clone + "/a.bin")
        try p.t.run(["git", "checkout", "--", "a.bin"], in: clone)
        #expect(p.contents("a.bin", in: clone) == a)
    }

    @Test func queueSurvivesAnUnreachableStoreAndDrainsWhenItReturns() throws {
        let p = try Project()
        // A store under a regular file cannot be created: every upload fails.
        try p.t.write("blocker", "not a directory\n")
        try p.t.git(["config", "anvcs.adapters.local.path", p.path + "/blocker/store"])
        try p.t.write(".gitignore", "blocker\n")
        try p.bytes("m.bin", count: 8_000, seed: 8)
        try p.commitAll("m", env: ["ANVCS_HOOK_SYNC": "1"])
        // Wait until the background upload has failed once.
        let deadline = Date().addingTimeInterval(20)
        var entry: [String: Any] = [:]
        while Date() < deadline {
            entry = (try p.status()["queued_uploads"] as? [[String: Any]])?.first ?? [:]
            if (entry["attempts"] as? Int ?? 0) > 0 { break }
            usleep(50_000)
        }
        #expect(entry["path"] as? String == "m.bin")
        #expect(entry["last_error"] is String, "\(entry)")
        #expect(try p.pins().isEmpty)
        let failing = try p.t.run([Built.gitAnvcs, "retry-uploads", "--attempts", "2", "--initial-delay", "0.05"])
        #expect(failing.status == 1)
        #expect(failing.stderr.contains("m.bin"))

        // The store comes back.
        try p.t.git(["config", "anvcs.adapters.local.path", p.store])
        let ok = try p.t.run([Built.gitAnvcs, "retry-uploads"])
        #expect(ok.succeeded, "\(ok.stderr)")
        #expect(try p.queued() == 0)
        #expect(try p.pins().map { $0["path"] as? String } == ["m.bin"])
    }

    @Test func noUploadQueuesAndPrePushUploads() throws {
        let p = try Project()
        try p.bytes("n.bin", count: 6_000, seed: 9)
        try p.t.git(["add", "-A"])
        let commit = try p.t.anvcs(["commit", "-q", "-m", "offline", "--no-upload"])
        #expect(commit.succeeded, "\(commit.stderr)")
        usleep(300_000)
        #expect(try p.queued() == 1)
        #expect(try p.pins().isEmpty)
        let push = try p.t.run(["git", "push", "origin", "main"])
        #expect(push.succeeded, "\(push.stderr)")
        #expect(push.stderr.contains("uploaded 1 artifact"))
        #expect(try p.queued() == 0)
        #expect(try p.pins().count == 1)
    }

    @Test func pushIsRefusedWhenAnArtifactIsNowhereAndNothingIsHalfPinned() throws {
        let p = try Project(uploadOnCommit: false)
        try p.bytes("good.bin", count: 7_000, seed: 10)
        let lost = try p.bytes("lost.bin", count: 9_000, seed: 11)
        try p.commitAll("two")
        // The cache loses one artifact's bytes (as if the push were interrupted on another machine).
        let sha = ContentDigestHex.sha256(lost)
        try FileManager.default.removeItem(atPath: p.path + "/.git/anvcs/objects/\(sha.prefix(2))/\(sha)")
        let push = try p.t.run(["git", "push", "origin", "main"])
        #expect(push.status != 0)
        #expect(push.stderr.contains("push refused"))
        #expect(push.stderr.contains("lost.bin"))
        #expect(!push.stderr.contains("  good.bin"))
        #expect(try p.t.run(["git", "rev-parse", "--verify", "-q", "refs/heads/main"], in: p.remote).stdout.isEmpty)
        // The artifact that did reach the store is pinned; the lost one is not.
        let pins = try p.pins()
        #expect(pins.map { $0["path"] as? String } == ["good.bin"])
        #expect((try p.status()["queued_uploads"] as? [[String: Any]])?.map { $0["path"] as? String } == ["lost.bin"])
    }

    @Test func storeReturningOtherBytesOrNothingKeepsThePointer() throws {
        let p = try Project()
        let a = try p.bytes("a.bin", count: 12_000, seed: 12)
        try p.bytes("b.bin", count: 13_000, seed: 13)
        try p.commitAll("ab")
        try p.waitForUploads()
        try p.t.git(["push", "-q", "origin", "main"])
        // Tamper with a.bin's stored version; remove b.bin's.
        let sha = ContentDigestHex.sha256(a)
        // Version files are `keys/<xx>/<sha256(key)>.<sha256 of content>`.
        func isVersion(_ path: String) -> Bool { path.hasPrefix("keys/") && !path.hasSuffix(".key") && path.split(separator: "/").count == 3 }
        let versions = try FileManager.default.subpathsOfDirectory(atPath: p.store).filter { isVersion($0) && $0.hasSuffix("." + sha) }
        #expect(versions.count == 1)
        try Data("evil bytes".utf8).write(to: URL(fileURLWithPath: p.store + "/" + versions[0]))
        for v in try FileManager.default.subpathsOfDirectory(atPath: p.store) where isVersion(v) && !v.hasSuffix(sha) {
            try FileManager.default.removeItem(atPath: p.store + "/" + v)
        }
        let (clone, r) = try p.clone("bad")
        #expect(r.succeeded, "\(r.stderr)")
        #expect(String(decoding: p.contents("a.bin", in: clone) ?? [], as: UTF8.self).hasPrefix("anvcs-artifact 1\n"))
        #expect(String(decoding: p.contents("b.bin", in: clone) ?? [], as: UTF8.self).hasPrefix("anvcs-artifact 1\n"))
        #expect(r.stderr.contains("a.bin") && r.stderr.contains("expected sha256"), "\(r.stderr)")
        #expect(r.stderr.contains("b.bin") && r.stderr.contains("in no store or cache"), "\(r.stderr)")
        let hydrate = try p.t.run([Built.gitAnvcs, "hydrate", "--all"], in: clone)
        #expect(hydrate.status == 1)
    }

    @Test func hydrateNeverWritesThroughASymlink() throws {
        let p = try Project()
        try p.bytes("d/x.bin", count: 4_000, seed: 14)
        try p.commitAll("x")
        try p.t.git(["push", "-q", "origin", "main"])
        let (clone, _) = try p.clone("sym", lazy: true)
        // d/ becomes a link to a directory outside the work tree that holds the same pointer.
        let outside = p.t.root + "/outside"
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        let pointer = p.contents("d/x.bin", in: clone)!
        try Data(pointer).write(to: URL(fileURLWithPath: outside + "/x.bin"))
        try FileManager.default.removeItem(atPath: clone + "/d")
        try FileManager.default.createSymbolicLink(atPath: clone + "/d", withDestinationPath: outside)
        let r = try p.t.run([Built.gitAnvcs, "hydrate", "d/x.bin"], in: clone)
        #expect(r.status != 0)
        #expect(Array(FileManager.default.contents(atPath: outside + "/x.bin")!) == pointer)
    }

    @Test func mergeDriverIsCleanForSameContentAndExplainsConflicts() throws {
        let p = try Project(uploadOnCommit: false)
        try p.bytes("m.bin", count: 3_000, seed: 15)
        try p.commitAll("base")
        try p.t.git(["checkout", "-q", "-b", "other"])
        let same = try p.bytes("m.bin", count: 3_000, seed: 16)
        try p.bytes("n.bin", count: 2_000, seed: 17)
        try p.commitAll("other")
        try p.t.git(["checkout", "-q", "main"])
        try p.bytes("m.bin", count: 3_000, seed: 16)
        try p.bytes("n.bin", count: 2_000, seed: 18)
        try p.commitAll("main")
        let merge = try p.t.run(["git", "merge", "--no-edit", "other"])
        #expect(merge.status == 1)
        #expect(p.contents("m.bin") == same)  // same bytes on both sides: merged cleanly
        let conflict = String(decoding: p.contents("n.bin") ?? [], as: UTF8.self)
        #expect(conflict.contains("merge conflict in artifact n.bin"), "\(conflict)")
        #expect(conflict.contains("ours: sha256 ") && conflict.contains("theirs: sha256 "))
        let unmerged = try p.t.git(["diff", "--name-only", "--diff-filter=U"])
        #expect(unmerged == "n.bin\n")
        // Resolved with new content: the merge commit introduces it, and pre-push pins it there.
        let resolved = try p.bytes("n.bin", count: 2_500, seed: 28)
        try p.commitAll("merge")
        let push = try p.t.run(["git", "push", "origin", "main"])
        #expect(push.succeeded, "\(push.stderr)")
        let mergePins = try p.pins("HEAD")
        #expect(mergePins.map { $0["path"] as? String } == ["n.bin"])
        #expect(mergePins.first?["sha256"] as? String == ContentDigestHex.sha256(resolved))
    }

    @Test func importLFSConvertsPointersAndObjects() throws {
        let t = try TemporaryRepository()
        guard try t.run(["git", "lfs", "version"]).succeeded else {
            Issue.record("git-lfs is not installed (apt-get install git-lfs)")
            return
        }
        try t.git(["lfs", "install", "--local"])
        try t.git(["lfs", "track", "*.psd"])
        var rng = SeededRandom(seed: 19)
        let bytes = (0..<50_000).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        try Data(bytes).write(to: URL(fileURLWithPath: t.path + "/art.psd"))
        try t.git(["add", "-A"])
        try t.git(["commit", "-q", "-m", "lfs"])
        #expect(try t.git(["cat-file", "-p", "HEAD:art.psd"]).hasPrefix("version https://git-lfs"))
        // Without LFS's smudge the work tree holds the LFS pointer, as after GIT_LFS_SKIP_SMUDGE.
        try t.git(["lfs", "uninstall", "--local"])
        try t.git(["cat-file", "-p", "HEAD:art.psd"]).write(toFile: t.path + "/art.psd", atomically: true, encoding: .utf8)
        #expect(try t.anvcs(["init", "-q"]).succeeded)
        let r = try t.anvcs(["import-lfs"])
        #expect(r.succeeded, "\(r.stderr)")
        #expect(Array(FileManager.default.contents(atPath: t.path + "/art.psd")!) == bytes)
        try t.git(["commit", "-q", "-m", "to anvcs"])
        let stored = try t.git(["cat-file", "-p", "HEAD:art.psd"])
        #expect(stored.hasPrefix("anvcs-artifact 1\nsha256 \(ContentDigestHex.sha256(bytes))\nsize 50000\n"), "\(stored)")
        #expect(try t.git(["cat-file", "-p", "HEAD:.gitattributes"]).contains("*.psd filter=anvcs"))
    }

    @Test func filesBelowTheThresholdStayInGit() throws {
        let p = try Project(uploadOnCommit: false)
        try p.t.write("ai-vcs.config.yaml", "blobs:\n  min_size: 1000\n")
        let small = try p.bytes("small.bin", count: 999, seed: 23)
        try p.bytes("large.bin", count: 1_000, seed: 24)
        try p.commitAll("threshold")
        let stored = try p.t.run(["git", "cat-file", "blob", "HEAD:small.bin"])
        #expect(Array(stored.stdout.utf8).count > 0)
        #expect(!stored.stdout.hasPrefix("anvcs-artifact 1"))
        #expect(try p.t.git(["cat-file", "-s", "HEAD:small.bin"]) == "999\n")
        #expect(try p.t.git(["cat-file", "-p", "HEAD:large.bin"]).hasPrefix("anvcs-artifact 1\n"))
        #expect(p.contents("small.bin") == small)
    }

    @Test func hostileKeysInPinsAreRefusedByTheFetcher() throws {
        #expect(throws: ArtifactError.self) { try ArtifactKey.validate("../outside") }
        #expect(throws: ArtifactError.self) { try ArtifactKey.validate("/etc/passwd") }
        // A pointer naming such a key is no pointer: it stays ordinary content.
        let text = "anvcs-artifact 1\nsha256 \(String(repeating: "a", count: 64))\nsize 1\nkey ../../x\n"
        #expect(ArtifactPointer.parse(Array(text.utf8)) == nil)
    }
}

/// sha256 hex for test expectations (CryptoKit-free: through `sha256sum`).
enum ContentDigestHex {
    static func sha256(_ bytes: [UInt8]) -> String {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("anvcs-sha-\(UUID().uuidString)")
        try? Data(bytes).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let r = try? ProcessRunner.run(["sha256sum", file.path], directory: "/", environment: ["PATH": "/usr/bin:/bin"])
        return String((r?.stdout ?? "").prefix(64))
    }
}
