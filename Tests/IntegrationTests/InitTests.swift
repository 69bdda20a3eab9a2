import AnvcsTestSupport
import Foundation
import Testing

/// `git anvcs init` and `--uninstall` against real repositories and real git.
@Suite struct InitTests {
    func snapshot(_ t: TemporaryRepository, hooks: String = ".git/hooks") throws -> (config: String, hooks: [String: String], exclude: String) {
        let dir = t.path + "/" + hooks
        var files: [String: String] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where !name.hasSuffix(".sample") {
            files[name] = t.read(hooks + "/" + name)
        }
        // Settings as git lists them: git may keep an emptied section header, which sets nothing.
        let config = try t.git(["config", "--local", "--list"]).split(separator: "\n").sorted().joined(separator: "\n")
        return (config, files, t.read(".git/info/exclude") ?? "")
    }

    @Test func initOnExistingRepositoryChainsUserHooksAndUninstallRestoresEverything() throws {
        let t = try TemporaryRepository()
        let legacy = try t.commitFile("a.txt", "a\n", message: "before anvcs")
        // The user's own hooks: a pre-commit ANVCS does not touch, and a post-commit it must chain.
        try t.write(".git/hooks/pre-commit", "#!/bin/sh\necho ran >> \"$(git rev-parse --git-dir)/user-pre-commit.log\"\n")
        try t.write(".git/hooks/post-commit", "#!/bin/sh\necho ran >> \"$(git rev-parse --git-dir)/user-post-commit.log\"\n")
        try t.git(["config", "notes.rewrite.amend", "false"])
        for hook in ["pre-commit", "post-commit"] { chmod(t.path + "/.git/hooks/" + hook, 0o755) }
        let before = try snapshot(t)

        let r = try t.anvcs(["init"])
        #expect(r.succeeded, "\(r.stderr)")
        #expect(r.stdout.contains("kept your post-commit hook"))
        #expect(try t.git(["config", "--get-all", "notes.rewriteRef"]) == "refs/notes/anvcs\n")
        #expect(try t.git(["config", "notes.rewrite.amend"]) == "true\n")
        #expect(try t.git(["config", "notes.displayRef"]) == "refs/notes/anvcs\n")
        #expect(t.read("ai-vcs.config.yaml")?.contains("provenance:") == true)
        #expect(t.read(".git/info/exclude")?.contains(".ai/meta/") == true)

        // Running it again changes nothing.
        let afterFirst = try snapshot(t)
        let again = try t.anvcs(["init"])
        #expect(again.stdout.contains("nothing changed"))
        let afterSecond = try snapshot(t)
        #expect(afterFirst.config == afterSecond.config && afterFirst.hooks == afterSecond.hooks && afterFirst.exclude == afterSecond.exclude)

        let c = try t.commitFile("b.txt", "b\n", message: "with anvcs", env: ["ANVCS_AGENT_ID": "agent-a", "ANVCS_HOOK_SYNC": "1"])
        #expect(t.read(".git/user-pre-commit.log") == "ran\n")
        #expect(t.read(".git/user-post-commit.log") == "ran\n")
        let show = try t.anvcs(["show", c, "--json"])
        #expect(show.stdout.contains("\"agent_id\": \"agent-a\""))
        let legacyShow = try t.anvcs(["show", legacy])
        #expect(legacyShow.succeeded && legacyShow.stdout.contains("no provenance recorded"))

        let u = try t.anvcs(["init", "--uninstall"])
        #expect(u.succeeded, "\(u.stderr)")
        let after = try snapshot(t)
        #expect(after.hooks == before.hooks)
        #expect(after.config == before.config)
        #expect(after.exclude == before.exclude)
        #expect(t.read("ai-vcs.config.yaml") == nil)
        // Notes are data, not setup: they stay.
        #expect(try t.git(["notes", "--ref=anvcs", "list"]).contains(c))
    }

    @Test func respectsCoreHooksPathLikeHusky() throws {
        let t = try TemporaryRepository()
        try t.git(["config", "core.hooksPath", ".husky/_"])
        try t.write(".husky/_/post-commit", "#!/bin/sh\necho husky >> \"$(git rev-parse --git-dir)/husky.log\"\n")
        chmod(t.path + "/.husky/_/post-commit", 0o755)
        #expect(try t.anvcs(["init"]).succeeded)
        #expect(FileManager.default.fileExists(atPath: t.path + "/.husky/_/post-commit.pre-anvcs"))
        #expect(!FileManager.default.fileExists(atPath: t.path + "/.git/hooks/post-commit"))
        let c = try t.commitFile("x", "x", message: "x", env: ["ANVCS_MODEL": "m-husky", "ANVCS_HOOK_SYNC": "1"])
        #expect(t.read(".git/husky.log") == "husky\n")
        #expect(try t.anvcs(["show", c]).stdout.contains("m-husky"))
        #expect(try t.anvcs(["init", "--uninstall"]).succeeded)
        #expect(t.read(".husky/_/post-commit")?.contains("husky") == true)
    }

    @Test func bareRepositoryIsRefused() throws {
        let t = try TemporaryRepository(bare: true)
        let r = try t.anvcs(["init"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("bare repository"))
        #expect(r.stderr.split(separator: "\n").count <= 2)
    }

    @Test func outsideARepositoryIsAClearError() throws {
        let t = try TemporaryRepository(initialize: false)
        let r = try t.anvcs(["show"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("not a git repository"))
    }

    @Test func hookWithoutTheBinaryTellsHowToRemoveItselfAndNeverBlocks() throws {
        let t = try TemporaryRepository()
        #expect(try t.anvcs(["init"]).succeeded)
        try t.write("f", "f")
        try t.git(["add", "f"])
        let r = try t.run(["git", "commit", "-q", "-m", "no binary"], env: ["PATH": "/usr/bin:/bin"])
        #expect(r.succeeded)
        #expect(r.stderr.contains("git anvcs init --uninstall"))
    }
}
