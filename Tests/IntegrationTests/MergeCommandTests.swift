import AnvcsTestSupport
import Foundation
import Testing

/// `git anvcs merge` end to end with real git: the syntax-aware driver in a temporary worktree,
/// tests as the gate, dst moved only on success, and the merge commit's provenance note.
@Suite(.serialized) struct MergeCommandTests {
    /// main and feature each add a function at the end of m.py: a conflict for git's line merge.
    func prepare() throws -> TemporaryRepository {
        let t = try TemporaryRepository()
        for name in ["git-anvcs", "anvcs-merge-engine"] where !FileManager.default.isExecutableFile(atPath: Built.binDirectory + "/" + name) {
            throw TestFailure("\(name) is not built in \(Built.binDirectory); run `swift build` first")
        }
        _ = try t.commitFile("m.py", "def a():\n    return 1\n", message: "base")
        _ = try t.git(["checkout", "-q", "-b", "feature"])
        _ = try t.commitFile("m.py", "def a():\n    return 1\n\n\ndef c():\n    return 3\n", message: "feature")
        _ = try t.git(["checkout", "-q", "main"])
        _ = try t.commitFile("m.py", "def a():\n    return 1\n\n\ndef b():\n    return 2\n", message: "main")
        return t
    }

    static let passing = "python3 -c 'import m; assert m.b() + m.c() == 5'"

    @Test func passingTestsMoveTheBranchAndRecordTheMerge() throws {
        let t = try prepare()
        let before = try t.head()
        let result = try t.anvcs(["merge", "feature", "into", "main", "--auto", "--test-cmd", Self.passing])
        #expect(result.status == 0, "stdout: \(result.stdout)\nstderr: \(result.stderr)")
        let after = try t.head()
        #expect(after != before)
        #expect(try t.git(["rev-list", "--parents", "-n", "1", "HEAD"]).split(separator: " ").count == 3, "a merge commit")
        #expect(t.read("m.py") == "def a():\n    return 1\n\n\ndef b():\n    return 2\n\n\ndef c():\n    return 3\n")
        #expect(try t.git(["status", "--porcelain", "--untracked-files=no"]).isEmpty, "work tree follows the moved branch")
        let note = try t.git(["notes", "--ref=anvcs", "show", "HEAD"])
        #expect(note.contains("\"strategy\": \"structure\"") && note.contains("\"path\": \"m.py\""), "\(note)")
        #expect(note.contains("\"tests_passed\": true") && note.contains("\"conflicts_resolved\": 1"), "\(note)")
        #expect(!(try t.git(["worktree", "list"]).contains("anvcs-merge-")), "temporary worktree removed")
    }

    @Test func failingTestsLeaveTheBranchUntouched() throws {
        let t = try prepare()
        let before = try t.head()
        let result = try t.anvcs(["merge", "feature", "--auto", "--test-cmd", "python3 -c 'import m; assert m.b() == 3'"])
        #expect(result.status == 1)
        #expect(result.stdout.contains("tests: FAILED"), "\(result.stdout)")
        #expect(result.stderr.contains("main is untouched"), "\(result.stderr)")
        #expect(try t.head() == before)
        #expect(t.read("m.py") == "def a():\n    return 1\n\n\ndef b():\n    return 2\n")
    }

    @Test func withoutAutoNothingMoves() throws {
        let t = try prepare()
        let before = try t.head()
        let result = try t.anvcs(["merge", "feature", "--test-cmd", Self.passing])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("main: not moved"), "\(result.stdout)")
        #expect(try t.head() == before)
    }

    @Test func realConflictsExitOneAndLeaveTheBranch() throws {
        let t = try TemporaryRepository()
        _ = try t.commitFile("m.py", "def a():\n    return 1\n", message: "base")
        _ = try t.git(["checkout", "-q", "-b", "feature"])
        _ = try t.commitFile("m.py", "def a():\n    return 3\n", message: "feature")
        _ = try t.git(["checkout", "-q", "main"])
        _ = try t.commitFile("m.py", "def a():\n    return 2\n", message: "main")
        let before = try t.head()
        let result = try t.anvcs(["merge", "feature", "--auto"])
        #expect(result.status == 1)
        #expect(result.stdout.contains("m.py: conflicts remain"), "\(result.stdout)")
        #expect(try t.head() == before)
        #expect(t.read("m.py") == "def a():\n    return 2\n")
    }

    @Test func testCheckWithoutACommandIsAUsageError() throws {
        let t = try prepare()
        let result = try t.anvcs(["merge", "feature", "--test-check"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("merge.test_command"), "\(result.stderr)")
    }

    /// merge.llm.command proposes a resolution for a real conflict; it is applied because it parses
    /// and the tests pass, and its rationale goes into the note.
    @Test func assistantResolvesWhatTheDriverLeft() throws {
        let t = try TemporaryRepository()
        _ = try t.commitFile("m.py", "def a():\n    return 1\n", message: "base")
        _ = try t.git(["checkout", "-q", "-b", "feature"])
        _ = try t.commitFile("m.py", "def a():\n    return 3\n", message: "feature")
        _ = try t.git(["checkout", "-q", "main"])
        _ = try t.commitFile("m.py", "def a():\n    return 2\n", message: "main")
        let script = t.root + "/assistant.py"
        try """
        import json, sys
        request = json.load(sys.stdin)
        answer = [{"path": c["path"], "content": "def a():\\n    return 5\\n", "rationale": "both increments kept"}
                  for c in request["conflicts"] if "<<<<<<<" in c["text"] and c["base"] and c["ours"] and c["theirs"]]
        json.dump({"resolutions": answer}, sys.stdout)
        """.write(toFile: script, atomically: true, encoding: .utf8)
        let result = try t.anvcs(["merge", "feature", "--auto", "--llm-cmd", "python3 \(script)",
                                  "--test-cmd", "python3 -c 'import m; assert m.a() == 5'"])
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(t.read("m.py") == "def a():\n    return 5\n")
        let note = try t.git(["notes", "--ref=anvcs", "show", "HEAD"])
        #expect(note.contains("both increments kept"), "\(note)")
    }

    /// A proposal that still has conflict markers is never applied.
    @Test func assistantProposalWithMarkersIsRefused() throws {
        let t = try TemporaryRepository()
        _ = try t.commitFile("m.py", "def a():\n    return 1\n", message: "base")
        _ = try t.git(["checkout", "-q", "-b", "feature"])
        _ = try t.commitFile("m.py", "def a():\n    return 3\n", message: "feature")
        _ = try t.git(["checkout", "-q", "main"])
        _ = try t.commitFile("m.py", "def a():\n    return 2\n", message: "main")
        let before = try t.head()
        let script = t.root + "/assistant.py"
        try """
        import json, sys
        request = json.load(sys.stdin)
        json.dump({"resolutions": [{"path": c["path"], "content": c["text"]} for c in request["conflicts"]]}, sys.stdout)
        """.write(toFile: script, atomically: true, encoding: .utf8)
        let result = try t.anvcs(["merge", "feature", "--auto", "--llm-cmd", "python3 \(script)"])
        #expect(result.status == 1)
        #expect(result.stdout.contains("not applied") && result.stdout.contains("conflict markers"), "\(result.stdout)")
        #expect(try t.head() == before)
    }
}
