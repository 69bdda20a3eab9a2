import AnvcsGit
import AnvcsTestSupport
import Foundation
import Testing

@Suite struct RepositoryTests {
    @Test func readsCommitsWalksAndResolvesRevisions() throws {
        let t = try TemporaryRepository()
        let first = try t.commitFile("a.txt", "one\n", message: "first")
        let second = try t.commitFile("b.txt", "two\n", message: "second\n\nbody")
        let repo = try Repository.discover(from: t.path + "/")
        #expect(try repo.headCommit()?.hex == second)
        #expect(try repo.resolveCommit("HEAD~1").hex == first)
        let c = try repo.commit(ObjectID(hex: second)!)
        #expect(c.summary == "second")
        #expect(c.parents.map(\.hex) == [first])
        #expect(c.author.name == "Test Author")
        #expect(try repo.changedPaths(of: c) == ["b.txt"])
        var walked: [String] = []
        try repo.walk(include: [c.id]) { walked.append($0.hex); return true }
        #expect(walked == [second, first])
        #expect(try repo.isAncestor(ObjectID(hex: first)!, of: c.id))
    }

    @Test func errorsCarryTheCallAndLibgit2Message() throws {
        let t = try TemporaryRepository()
        try t.commitFile("a", "a", message: "a")
        let repo = try Repository.open(t.path)
        do {
            _ = try repo.resolveCommit("no-such-branch")
            Issue.record("resolving a missing branch must throw")
        } catch {
            #expect(error.call.contains("git_revparse_single(no-such-branch)"))
            #expect(error.code == .notFound)
            #expect(!error.message.isEmpty)
        }
    }

    @Test func notesUpdateIsCompareAndSwapAndGitReadsThem() throws {
        let t = try TemporaryRepository()
        let c = try t.commitFile("a", "a", message: "a")
        let repo = try Repository.open(t.path)
        let id = ObjectID(hex: c)!
        let sig = Signature(name: "n", email: "e@x", time: 1_700_000_000)
        try repo.updateNotes(ref: "refs/notes/test", objects: [id], signature: sig) { _, old in
            #expect(old == nil)
            return "{\"v\":1}\n"
        }
        #expect(try repo.note(for: id, ref: "refs/notes/test") == "{\"v\":1}\n")
        #expect(try t.git(["notes", "--ref=test", "show", c]) == "{\"v\":1}\n")
        // A writer that lost the race sees the new tip and recomputes from the current note.
        try repo.updateNotes(ref: "refs/notes/test", objects: [id], signature: sig) { _, old in
            (old ?? "") + "more\n"
        }
        #expect(try repo.note(for: id, ref: "refs/notes/test") == "{\"v\":1}\nmore\n")
        #expect(try repo.noteEntries(ref: "refs/notes/test").map(\.annotated) == [id])
        #expect(try repo.noteEntries(ref: "refs/notes/none").isEmpty)
        let tip = try repo.referenceTarget("refs/notes/test")!
        do {
            try repo.updateReference("refs/notes/test", to: id, expected: ObjectID(hex: String(repeating: "1", count: 40)), message: "x")
            Issue.record("a stale expected value must be refused")
        } catch {
            #expect(error.code == .modified)
        }
        #expect(try repo.referenceTarget("refs/notes/test") == tip)
    }

    @Test func concurrentNoteWritersLoseNothing() async throws {
        let t = try TemporaryRepository()
        var commits: [String] = []
        for i in 0..<8 { commits.append(try t.commitFile("f\(i)", "\(i)", message: "c\(i)")) }
        let path = t.path
        try await withThrowingTaskGroup(of: Void.self) { group in
            for c in commits {
                group.addTask {
                    let repo = try Repository.open(path)
                    try repo.updateNotes(ref: "refs/notes/anvcs", objects: [ObjectID(hex: c)!],
                                         signature: Signature(name: "n", email: "e", time: 1)) { _, _ in "note \(c)\n" }
                }
            }
            try await group.waitForAll()
        }
        let repo = try Repository.open(path)
        for c in commits { #expect(try repo.note(for: ObjectID(hex: c)!, ref: "refs/notes/anvcs") == "note \(c)\n") }
    }

    @Test func configReadsLevelsAndWritesLocal() throws {
        let t = try TemporaryRepository()
        let repo = try Repository.open(t.path)
        let local = try repo.config(level: .local)
        try local.add("notes.rewriteRef", "refs/notes/a")
        try local.add("notes.rewriteRef", "refs/notes/b")
        try local.set("anvcs.provenance.prompt", "hash")
        #expect(try repo.config().strings("notes.rewriteRef") == ["refs/notes/a", "refs/notes/b"])
        try local.unset("notes.rewriteRef", value: "refs/notes/a")
        #expect(try repo.config().strings("notes.rewriteRef") == ["refs/notes/b"])
        #expect(try repo.config().string("anvcs.provenance.prompt") == "hash")
        #expect(try t.git(["config", "anvcs.provenance.prompt"]) == "hash\n")
    }

    @Test func emptyAndBareRepositories() throws {
        let t = try TemporaryRepository()
        let repo = try Repository.open(t.path)
        #expect(repo.isEmpty)
        #expect(try repo.headCommit() == nil)
        let b = try TemporaryRepository(bare: true)
        #expect(try Repository.open(b.path).isBare)
    }
}
