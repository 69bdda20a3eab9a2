import AnvcsTestSupport
import Foundation
import Testing

/// Provenance captured by the hooks on plain `git commit`, from every source.
@Suite struct CaptureTests {
    func initialized() throws -> TemporaryRepository {
        let t = try TemporaryRepository()
        try t.commitFile("README", "r\n", message: "root")
        let r = try t.anvcs(["init", "-q"])
        guard r.succeeded else { throw TestFailure(r.stderr) }
        return t
    }

    func note(_ t: TemporaryRepository, _ rev: String = "HEAD") throws -> String {
        let r = try t.anvcs(["show", rev, "--json"])
        guard r.succeeded else { throw TestFailure("show failed: \(r.stderr)") }
        return r.stdout
    }

    @Test func backgroundHookRecordsWithoutMakingGitWait() throws {
        let t = try initialized()
        // The default path: the hook returns at once, the capture finishes in the background,
        // and a reader waits for it.
        let c = try t.commitFile("a", "a", message: "async", env: ["ANVCS_PROMPT": "do the thing", "ANVCS_MODEL": "gpt-4o"])
        let json = try note(t, c)
        #expect(json.contains("\"prompt\": \"do the thing\""))
        #expect(json.contains("\"model\": \"gpt-4o\""))
        #expect(t.read(".ai/meta/\(c).json")?.contains("gpt-4o") == true)
        #expect(!(try t.git(["status", "--porcelain", "--untracked-files=all"])).contains(".ai/"), "the mirror must be ignored by git")
        // Many quick commits: every one gets its own note.
        var commits: [String] = []
        for i in 0..<10 { commits.append(try t.commitFile("n\(i)", "\(i)", message: "quick \(i)", env: ["ANVCS_AGENT_ID": "agent-\(i)"])) }
        for (i, c) in commits.enumerated() { #expect(try note(t, c).contains("\"agent_id\": \"agent-\(i)\"")) }
    }

    @Test func flagsOfAnvcsCommit() throws {
        let t = try initialized()
        try t.write("junit.xml", #"<testsuite tests="2"><testcase name="a"/><testcase name="b"><failure/></testcase></testsuite>"#)
        try t.write("lcov.info", "SF:x\nLF:4\nLH:3\nend_of_record\n")
        try t.write("code.py", "x = 1\n")
        try t.git(["add", "code.py"])
        let r = try t.anvcs(["commit", "-q", "-m", "flags", "--prompt", "p1", "--model", "m1", "--agent", "a1",
                             "--test-report", "junit.xml", "--coverage", "lcov.info"], env: ["ANVCS_MODEL": "from-env"])
        #expect(r.succeeded, "\(r.stderr)")
        let json = try note(t)
        #expect(json.contains("\"model\": \"m1\""))
        #expect(json.contains("\"agent_id\": \"a1\""))
        #expect(json.contains("\"tests_passed\": false"))
        #expect(json.contains("\"coverage\": 75"))
        #expect(json.contains("\"test_report_ref\": \"junit.xml\""))
        #expect(json.contains("\"model\": \"flag\""))
    }

    @Test func sessionDetectionAndConfigDefaults() throws {
        let t = try initialized()
        #expect(try t.anvcs(["session", "start", "--agent", "sess", "--model", "sm", "--prompt", "session task"]).succeeded)
        let s = try t.commitFile("s", "s", message: "session", env: ["ANVCS_HOOK_SYNC": "1"])
        #expect(try t.anvcs(["session", "end"]).succeeded)
        let d = try t.commitFile("d", "d", message: "detected", env: ["CLAUDECODE": "1", "ANTHROPIC_MODEL": "claude-sonnet-4-5"])
        try t.write("ai-vcs.config.yaml", "agent:\n  id: team-default\n")
        let c = try t.commitFile("c", "c", message: "config")
        #expect(try note(t, s).contains("\"agent_id\": \"session\""))
        #expect(try note(t, s).contains("\"prompt\": \"session task\""))
        #expect(try note(t, d).contains("\"agent_id\": \"claude-code\""))
        #expect(try note(t, d).contains("\"model\": \"claude-sonnet-4-5\""))
        #expect(try note(t, c).contains("\"agent_id\": \"team-default\""))
    }

    @Test func amendAndRebaseKeepNotesAndSquashAggregates() throws {
        let t = try initialized()
        let base = try t.head()
        try t.commitFile("one", "1", message: "one", env: ["ANVCS_AGENT_ID": "first", "ANVCS_HOOK_SYNC": "1"])
        t.setDate()
        try t.git(["commit", "-q", "--amend", "-m", "one (amended)"], env: ["ANVCS_HOOK_SYNC": "1"])
        let amended = try t.head()
        let amendedNote = try note(t, amended)
        #expect(amendedNote.contains("\"agent_id\": \"first\""))
        #expect(amendedNote.contains("\"rewrite\": \"amend\""))
        try t.commitFile("two", "2", message: "two", env: ["ANVCS_MODEL": "second-model", "ANVCS_HOOK_SYNC": "1"])
        // Rebase onto a new base commit: both notes follow their commits.
        try t.git(["checkout", "-q", "-b", "other", base])
        try t.commitFile("other", "o", message: "other", env: ["ANVCS_HOOK_SYNC": "1"])
        try t.git(["checkout", "-q", "main"])
        try t.git(["rebase", "-q", "other"])
        let rebasedTwo = try note(t, "HEAD")
        #expect(rebasedTwo.contains("\"model\": \"second-model\""))
        #expect(rebasedTwo.contains("\"rewrite\": \"rebase\""))
        #expect(try note(t, "HEAD~1").contains("\"agent_id\": \"first\""))
        // Squash the two into one: the new note carries both.
        let script = "#!/bin/sh\nsed -i '2s/^pick/squash/' \"$1\"\n"
        try t.write("../editor.sh", script)
        chmod(t.root + "/editor.sh", 0o755)
        try t.git(["rebase", "-q", "-i", "HEAD~2"], env: ["GIT_SEQUENCE_EDITOR": t.root + "/editor.sh", "GIT_EDITOR": "true"])
        let squashed = try note(t, "HEAD")
        #expect(squashed.contains("\"agent_id\": \"first\""))
        #expect(squashed.contains("\"model\": \"second-model\""))
        #expect(squashed.contains("\"rewrite\": \"squash\""))
    }

    @Test func parallelCommitsInWorktreesEachGetTheirNote() async throws {
        let t = try initialized()
        for i in 0..<4 { try t.git(["worktree", "add", "-q", "-b", "w\(i)", t.root + "/wt\(i)"]) }
        let root = t.root, env = t.environment
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<4 {
                group.addTask {
                    let dir = root + "/wt\(i)"
                    for j in 0..<5 {
                        try "\(i).\(j)".write(toFile: dir + "/f", atomically: true, encoding: .utf8)
                        var e = env
                        e["ANVCS_AGENT_ID"] = "wt-\(i)-\(j)"
                        _ = try ProcessRunner.run(["git", "add", "f"], directory: dir, environment: e)
                        let r = try ProcessRunner.run(["git", "commit", "-q", "-m", "wt \(i) \(j)"], directory: dir, environment: e)
                        #expect(r.succeeded, "\(r.stderr)")
                    }
                }
            }
            try await group.waitForAll()
        }
        let log = try t.anvcs(["log", "--all", "--json"])
        for i in 0..<4 { for j in 0..<5 { #expect(log.stdout.contains("\"agent_id\":\"wt-\(i)-\(j)\""), "wt-\(i)-\(j)") } }
    }

    @Test func trailersOnlyWhenConfigured() throws {
        let t = try initialized()
        try t.commitFile("a", "a", message: "plain", env: ["ANVCS_AGENT_ID": "bot", "ANVCS_HOOK_SYNC": "1"])
        #expect(!(try t.git(["log", "-1", "--format=%B"])).contains("AI-Agent"))
        #expect(try t.anvcs(["init", "--trailers", "-q"]).succeeded)
        try t.commitFile("b", "b", message: "trailed", env: ["ANVCS_AGENT_ID": "bot", "ANVCS_MODEL": "m", "ANVCS_HOOK_SYNC": "1"])
        let body = try t.git(["log", "-1", "--format=%B"])
        #expect(body.contains("AI-Agent: bot"))
        #expect(body.contains("AI-Model: m"))
    }
}

/// Bad input: clear messages, nothing lost, git never blocked.
@Suite struct CaptureBadInputTests {
    @Test func malformedConfigWarnsAndTheCommitSucceeds() throws {
        let t = try TemporaryRepository()
        try t.commitFile("r", "r", message: "root")
        #expect(try t.anvcs(["init", "-q"]).succeeded)
        try t.write("ai-vcs.config.yaml", "provenance:\n  prompt: [oops\nagent:\n  id: x\n")
        try t.write("f", "f")
        try t.git(["add", "f"])
        let r = try t.run(["git", "commit", "-q", "-m", "bad config"], env: ["ANVCS_HOOK_SYNC": "1", "ANVCS_MODEL": "m"])
        #expect(r.succeeded)
        let warning = r.stderr.split(separator: "\n").first { $0.contains("ai-vcs.config.yaml:") }
        #expect(warning != nil, "\(r.stderr)")
        #expect(try t.anvcs(["show", "--json"]).stdout.contains("\"model\": \"m\""))
    }

    @Test func unreadableReportHugePromptDetachedHeadAndOddPaths() throws {
        let t = try TemporaryRepository()
        try t.commitFile("r", "r", message: "root")
        #expect(try t.anvcs(["init", "-q"]).succeeded)
        let huge = String(repeating: "x", count: 5 << 20)
        try t.write("prompt.txt", huge)
        try t.write("caf\u{e9} \u{1F600}.txt", "odd")
        try t.git(["add", "caf\u{e9} \u{1F600}.txt"])
        let r = try t.anvcs(["commit", "-q", "-m", "big", "--prompt-file", "prompt.txt", "--test-report", "missing.xml"])
        #expect(r.succeeded, "\(r.stderr)")
        #expect(r.stderr.contains("missing.xml"))
        let show = try t.anvcs(["show", "--json"])
        #expect(show.stdout.utf8.count > 5 << 20)
        // Detached HEAD.
        try t.git(["checkout", "-q", "--detach"])
        let c = try t.commitFile("d", "d", message: "detached", env: ["ANVCS_AGENT_ID": "det"])
        #expect(try t.anvcs(["show", c, "--json"]).stdout.contains("\"agent_id\": \"det\""))
        // Non-UTF-8 file name (Latin-1 e-acute).
        let bytes = Array("latin1-".utf8) + [0xE9]
        let created = bytes.withUnsafeBufferPointer { buf -> Bool in
            var cPath = Array((t.path + "/").utf8CString.dropLast())
            cPath.append(contentsOf: buf.map { CChar(bitPattern: $0) })
            cPath.append(0)
            let fd = open(cPath, O_CREAT | O_WRONLY, 0o644)
            guard fd >= 0 else { return false }
            close(fd)
            return true
        }
        #expect(created)
        try t.git(["add", "-A"])
        try t.git(["commit", "-q", "-m", "latin-1 name"], env: ["ANVCS_HOOK_SYNC": "1", "ANVCS_MODEL": "latin"])
        #expect(try t.anvcs(["show", "--json"]).stdout.contains("\"model\": \"latin\""))
    }

    @Test func invalidNoteWarnsAndShowGoesOn() throws {
        let t = try TemporaryRepository()
        let c = try t.commitFile("r", "r", message: "root")
        try t.git(["notes", "--ref=anvcs", "add", "-m", "{not json", c])
        let r = try t.anvcs(["show", c])
        #expect(r.succeeded)
        #expect(r.stderr.contains("not valid JSON"))
        #expect(r.stdout.contains("{not json"))
        #expect(try t.anvcs(["log", "--json"]).succeeded)
    }

    @Test func emptyRepository() throws {
        let t = try TemporaryRepository()
        let r = try t.anvcs(["show"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("no commits yet"))
        #expect(try t.anvcs(["init", "-q"]).succeeded)
        let c = try t.commitFile("first", "1", message: "first", env: ["ANVCS_AGENT_ID": "a0"])
        #expect(try t.anvcs(["show", c, "--json"]).stdout.contains("\"agent_id\": \"a0\""))
    }

    @Test func usageErrorsExitTwo() throws {
        let t = try TemporaryRepository()
        let r = try t.anvcs(["show", "--no-such-flag"])
        #expect(r.status == 2)
        #expect(try t.anvcs(["session", "start"]).status == 2)
    }
}

/// The demo runs end to end on embedded defaults.
@Suite struct DemoTests {
    @Test func demoRuns() throws {
        let t = try TemporaryRepository(initialize: false)
        let r = try t.anvcs(["demo"])
        #expect(r.succeeded, "\(r.stderr)")
        #expect(r.stdout.contains("[REDACTED:github-token]"))
        #expect(r.stdout.contains("claude-code"))
        #expect(r.stdout.contains("planner-bot"))
        #expect(r.stdout.contains("no provenance recorded"))
        #expect(r.stdout.contains("identical to the committed file (sha256 verified)"))
    }
}
