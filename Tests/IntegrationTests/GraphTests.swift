import AnvcsTestSupport
import Foundation
import Testing

/// The provenance graph: index, filters, ranges, notes that travel, rewrites that keep them.
@Suite struct GraphTests {
    func initialized(_ name: String = "repo") throws -> TemporaryRepository {
        let t = try TemporaryRepository(name: name)
        try t.commitFile("README", "r\n", message: "root")
        guard try t.anvcs(["init", "-q"]).succeeded else { throw TestFailure("init failed") }
        return t
    }

    func nodes(_ r: ProcessResult) throws -> [[String: Any]] {
        guard r.succeeded else { throw TestFailure("failed: \(r.stderr)") }
        let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        return json?["nodes"] as? [[String: Any]] ?? []
    }

    @Test func filtersRangesAndOutputs() throws {
        let t = try initialized()
        let sync = ["ANVCS_HOOK_SYNC": "1"]
        try t.commitFile("src/a.py", "a", message: "a", env: sync.merging(["ANVCS_AGENT_ID": "alice", "ANVCS_MODEL": "gpt-4o", "ANVCS_TESTS_PASSED": "true"]) { $1 })
        try t.git(["checkout", "-q", "-b", "feature"])
        try t.commitFile("docs/b.md", "b", message: "b", env: sync.merging(["ANVCS_AGENT_ID": "bob", "ANVCS_MODEL": "gpt-4o-mini", "ANVCS_TESTS_PASSED": "false"]) { $1 })
        try t.commitFile("src/c.py", "c", message: "c", env: sync.merging(["ANVCS_AGENT_ID": "carol", "ANVCS_MODEL": "claude-sonnet-4-5"]) { $1 })
        func ids(_ args: [String]) throws -> [String] { try nodes(t.anvcs(["log", "--json"] + args)).compactMap { $0["summary"] as? String } }
        #expect(try ids(["--all"]) == ["c", "b", "a", "root"])
        #expect(try ids(["--filter", "agent:alice,bob"]) == ["b", "a"])
        #expect(try ids(["--filter", "model:gpt-4o*"]) == ["b", "a"])
        #expect(try ids(["--filter", "model:gpt-4o*", "--filter", "tests:fail"]) == ["b"])
        #expect(try ids(["--filter", "path:src/**"]) == ["c", "a"])
        #expect(try ids(["--filter", "author:author@example.com"]).count == 4)
        #expect(try ids(["main..feature"]) == ["c", "b"])
        #expect(try ids(["-n", "1"]) == ["c"])
        #expect(try ids(["--since", "2025-01-01", "--until", "2026-01-01T00:02"]) == ["a", "root"])
        let bad = try t.anvcs(["log", "--filter", "agent:x modle:y"])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("'modle:y'"))
        let graph = try t.anvcs(["graph", "--all"])
        #expect(graph.stdout.contains("carol") && graph.stdout.hasPrefix("* "))
        let dot = try t.anvcs(["graph", "--dot"])
        #expect(dot.stdout.hasPrefix("digraph anvcs {"))
        let json = try JSONSerialization.jsonObject(with: Data(try t.anvcs(["graph", "--json"]).stdout.utf8)) as? [String: Any]
        #expect((json?["edges"] as? [Any])?.count == 3)
    }

    @Test func indexIsIncrementalAndSelfHealing() throws {
        let t = try initialized()
        try t.commitFile("a", "a", message: "a", env: ["ANVCS_AGENT_ID": "x", "ANVCS_HOOK_SYNC": "1"])
        #expect(try nodes(t.anvcs(["log", "--json", "--filter", "agent:x"])).count == 1)
        // Corrupt the index: the next query rebuilds it.
        try String(repeating: "garbage", count: 1000).write(toFile: t.path + "/.git/anvcs/index.sqlite", atomically: false, encoding: .utf8)
        for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: t.path + "/.git/anvcs/index.sqlite" + suffix) }
        #expect(try nodes(t.anvcs(["log", "--json", "--filter", "agent:x"])).count == 1)
        // Deleted: rebuilt too.
        try FileManager.default.removeItem(atPath: t.path + "/.git/anvcs/index.sqlite")
        #expect(try nodes(t.anvcs(["log", "--json", "--filter", "agent:x"])).count == 1)
        // A note edited by plain git is seen (the notes ref moved).
        try t.git(["notes", "--ref=anvcs", "add", "-f", "-m", #"{"schema":"anvcs/provenance/1","ai_meta":{"agent_id":"y"}}"#, "HEAD"])
        #expect(try nodes(t.anvcs(["log", "--json", "--filter", "agent:y"])).count == 1)
        let r = try t.anvcs(["reindex"])
        #expect(r.succeeded && r.stderr.contains("indexed 2 commits"))
        // A note removed by plain git leaves the index too (the notes diff reports deletions).
        try t.git(["notes", "--ref=anvcs", "remove", "HEAD"])
        #expect(try nodes(t.anvcs(["log", "--json", "--filter", "agent:y"])).isEmpty)
        // Commits added one sync at a time (a side branch and its merge included) give the same
        // graph as a rebuild from scratch, and strings that need escaping stay valid JSON.
        try t.git(["checkout", "-q", "-b", "side"])
        try t.commitFile("s", "s", message: "side \"quoted\"\ttab \u{1F600}", env: ["ANVCS_AGENT_ID": "z", "ANVCS_HOOK_SYNC": "1"])
        try t.git(["checkout", "-q", "main"])
        try t.commitFile("m", "m", message: "main", env: ["ANVCS_HOOK_SYNC": "1"])
        _ = try t.anvcs(["log", "--json"])
        try t.git(["merge", "-q", "--no-ff", "-m", "merge side", "side"])
        let incremental = try t.anvcs(["log", "--json", "--all"])
        #expect(try nodes(incremental).compactMap { $0["summary"] as? String }.contains("side \"quoted\"\ttab \u{1F600}"))
        // A note that arrives before its commit is reachable (notes fetched ahead of the branch):
        // the agent filter finds the commit once a ref points at it.
        let tree = try t.git(["rev-parse", "HEAD^{tree}"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let early = try t.git(["commit-tree", tree, "-p", "HEAD", "-m", "early"]).trimmingCharacters(in: .whitespacesAndNewlines)
        try t.git(["notes", "--ref=anvcs", "add", "-m", #"{"schema":"anvcs/provenance/1","ai_meta":{"agent_id":"z"}}"#, early])
        #expect(try nodes(t.anvcs(["log", "--json", "--all", "--filter", "agent:z"])).compactMap { $0["summary"] as? String } == ["side \"quoted\"\ttab \u{1F600}"])
        try t.git(["branch", "early", early])
        let byAgent = try t.anvcs(["log", "--json", "--all", "--filter", "agent:z"])
        #expect(try nodes(byAgent).compactMap { $0["summary"] as? String } == ["early", "side \"quoted\"\ttab \u{1F600}"])
        let all = try t.anvcs(["log", "--json", "--all"])
        #expect(try t.anvcs(["reindex"]).succeeded)
        #expect(try t.anvcs(["log", "--json", "--all"]).stdout == all.stdout)
        #expect(try t.anvcs(["log", "--json", "--all", "--filter", "agent:z"]).stdout == byAgent.stdout)
        #expect(try nodes(incremental).count + 1 == nodes(all).count)
    }

    @Test func notesTravelBetweenClonesAndMergeFieldByField() throws {
        let remote = try TemporaryRepository(name: "remote.git", bare: true)
        let a = try initialized("a")
        try a.git(["remote", "add", "origin", remote.path])
        try a.commitFile("shared", "s", message: "shared", env: ["ANVCS_AGENT_ID": "agent-a", "ANVCS_HOOK_SYNC": "1"])
        #expect(try a.anvcs(["push", "-q", "origin", "main"]).succeeded)
        let shared = try a.head()

        let b = try TemporaryRepository(name: "b", initialize: false)
        try b.run(["git", "clone", "-q", remote.path, b.path])
        #expect(try b.anvcs(["init", "-q"]).succeeded)
        #expect(try b.anvcs(["fetch", "-q"]).succeeded)
        #expect(try b.anvcs(["show", shared, "--json"]).stdout.contains("agent-a"))
        // Both sides add to the same commit's note, and each adds its own commits.
        try b.git(["notes", "--ref=anvcs", "add", "-f", "-m",
                   #"{"schema":"anvcs/provenance/1","commit_id":"\#(shared)","created_at":"2030-01-01T00:00:00Z","ai_meta":{"agent_id":"agent-a","artifacts":[{"key":"from-b"}],"coverage":50}}"#, shared])
        try b.commitFile("b1", "b", message: "b1", env: ["ANVCS_AGENT_ID": "agent-b", "ANVCS_HOOK_SYNC": "1"])
        try a.git(["notes", "--ref=anvcs", "add", "-f", "-m",
                   #"{"schema":"anvcs/provenance/1","commit_id":"\#(shared)","created_at":"2029-01-01T00:00:00Z","ai_meta":{"agent_id":"agent-a","artifacts":[{"key":"from-a"}],"model":"m-a"}}"#, shared])
        try a.commitFile("a1", "a", message: "a1", env: ["ANVCS_AGENT_ID": "agent-a2", "ANVCS_HOOK_SYNC": "1"])
        #expect(try a.anvcs(["push", "-q", "origin", "main"]).succeeded)
        #expect(try b.anvcs(["push", "-q", "--notes-only", "origin"]).succeeded)
        #expect(try a.anvcs(["fetch", "-q", "--notes-only", "origin"]).succeeded)
        let merged = try a.anvcs(["show", shared, "--json"]).stdout
        #expect(merged.contains("from-a") && merged.contains("from-b"))
        #expect(merged.contains("\"model\": \"m-a\"") && merged.contains("\"coverage\": 50"))
        let remoteNotes = try remote.git(["notes", "--ref=anvcs", "list"])
        #expect(remoteNotes.split(separator: "\n").count >= 3)
        // A plain `git fetch` brings notes into anvcs-remotes/origin; the next read merges them.
        try b.commitFile("b2", "b", message: "b2", env: ["ANVCS_AGENT_ID": "agent-b2", "ANVCS_HOOK_SYNC": "1"])
        #expect(try b.anvcs(["push", "-q", "origin", "HEAD:refs/heads/b"]).succeeded)
        let b2 = try b.head()
        try a.git(["fetch", "-q", "origin"])
        #expect(try a.anvcs(["show", b2, "--json"]).stdout.contains("agent-b2"))
    }

    @Test func concurrentNotePushesLoseNothing() async throws {
        let remote = try TemporaryRepository(name: "remote.git", bare: true)
        let seed = try initialized("seed")
        try seed.git(["remote", "add", "origin", remote.path])
        try seed.git(["push", "-q", "origin", "main"])
        let agents = 4
        var clones: [TemporaryRepository] = []
        for i in 0..<agents {
            let c = try TemporaryRepository(name: "agent\(i)", initialize: false)
            try c.run(["git", "clone", "-q", remote.path, c.path])
            #expect(try c.anvcs(["init", "-q"]).succeeded)
            try c.commitFile("f\(i)", "\(i)", message: "agent \(i)", env: ["ANVCS_AGENT_ID": "agent-\(i)", "ANVCS_HOOK_SYNC": "1"])
            clones.append(c)
        }
        try await withThrowingTaskGroup(of: ProcessResult.self) { group in
            for c in clones { group.addTask { try c.anvcs(["push", "--notes-only", "origin"]) } }
            for try await r in group { #expect(r.succeeded, "\(r.stderr)") }
        }
        let listed = try remote.git(["notes", "--ref=anvcs", "list"]).split(separator: "\n")
        #expect(listed.count == agents)
    }

    @Test func cherryPickAndForgeSquashMergeKeepProvenance() throws {
        let remote = try TemporaryRepository(name: "remote.git", bare: true)
        let t = try initialized()
        try t.git(["remote", "add", "origin", remote.path])
        try t.git(["push", "-q", "-u", "origin", "main"])
        try t.git(["checkout", "-q", "-b", "feature"])
        let f1 = try t.commitFile("f1", "1", message: "f1", env: ["ANVCS_AGENT_ID": "fa", "ANVCS_PROMPT": "first", "ANVCS_HOOK_SYNC": "1"])
        try t.commitFile("f2", "2", message: "f2", env: ["ANVCS_AGENT_ID": "fa", "ANVCS_MODEL": "fm", "ANVCS_HOOK_SYNC": "1"])
        // Cherry-pick f1 onto main.
        try t.git(["checkout", "-q", "main"])
        t.setDate()
        try t.git(["cherry-pick", f1], env: ["ANVCS_HOOK_SYNC": "1"])
        let picked = try t.anvcs(["show", "--json"]).stdout
        #expect(picked.contains("\"rewrite\": \"cherry-pick\"") && picked.contains(f1) && picked.contains("\"prompt\": \"first\""))
        try t.git(["reset", "-q", "--hard", "HEAD~1"])
        // A forge squash-merges feature into main on the remote (simulated with merge --squash in another clone).
        let forge = try TemporaryRepository(name: "forge", initialize: false)
        try forge.run(["git", "clone", "-q", remote.path, forge.path])
        try t.git(["push", "-q", "origin", "feature"])
        try forge.git(["fetch", "-q", "origin"])
        try forge.git(["merge", "-q", "--squash", "origin/feature"])
        forge.setDate()
        try forge.git(["commit", "-q", "-m", "Feature (#1)"])
        try forge.git(["push", "-q", "origin", "main"])
        let squash = try forge.head()
        let fetched = try t.anvcs(["fetch", "origin"])
        #expect(fetched.succeeded, "\(fetched.stderr)")
        #expect(fetched.stderr.contains("squash-merged"))
        let adopted = try t.anvcs(["show", squash, "--json"]).stdout
        #expect(adopted.contains("\"rewrite\": \"squash-merge\"") && adopted.contains("\"model\": \"fm\"") && adopted.contains("\"prompt\": \"first\""))
        // And by hand.
        try t.git(["notes", "--ref=anvcs", "remove", squash])
        let manual = try t.anvcs(["adopt", squash, "--from", "main..feature"])
        #expect(manual.succeeded && manual.stdout.contains("adopted the provenance of 2 commits"))
    }

    @Test func showCoversMergeCommits() throws {
        let t = try initialized()
        try t.git(["checkout", "-q", "-b", "side"])
        try t.commitFile("s", "s", message: "side")
        try t.git(["checkout", "-q", "main"])
        try t.commitFile("m", "m", message: "main")
        t.setDate()
        try t.git(["merge", "-q", "--no-ff", "-m", "merge side", "side"], env: ["ANVCS_AGENT_ID": "merger", "ANVCS_HOOK_SYNC": "1"])
        let show = try t.anvcs(["show"])
        #expect(show.stdout.contains("Merge:"))
        #expect(show.stdout.contains("merger"))
    }
}
