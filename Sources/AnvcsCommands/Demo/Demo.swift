import ArgumentParser
import Foundation

/// `git anvcs demo`: a guided run on embedded defaults, in a scratch repository.
///
/// It drives the real binaries the way users and agents do (plain `git commit` with hooks,
/// `git anvcs commit` with flags, a session), so what it prints is what ANVCS really recorded.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "demo", abstract: "Show ANVCS at work in a scratch repository (no network needed).")

    @Flag(help: "Keep the scratch repository and print its path.")
    var keep = false

    func run() throws {
        let fm = FileManager.default
        let root = NSTemporaryDirectory() + "anvcs-demo-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let repo = root + "/project"
        try fm.createDirectory(atPath: repo, withIntermediateDirectories: true)
        defer { if !keep { try? fm.removeItem(atPath: root) } }

        // A hermetic environment: the user's own git config and agent variables stay out.
        let exe = Context.executablePath
        let binDir = (exe as NSString).deletingLastPathComponent
        var env = ProcessInfo.processInfo.environment.filter { key, _ in
            !key.hasPrefix("ANVCS_") && !key.hasPrefix("GIT_") && !["CLAUDECODE", "CLAUDE_CODE_ENTRYPOINT", "AI_AGENT", "GEMINI_CLI", "CURSOR_AGENT", "CURSOR_TRACE_ID"].contains(key)
                && !key.hasPrefix("CODEX_") && !key.hasPrefix("AIDER_")
        }
        env["PATH"] = binDir + ":" + (env["PATH"] ?? "/usr/bin:/bin")
        env["HOME"] = root
        env["GIT_CONFIG_NOSYSTEM"] = "1"
        env["GIT_AUTHOR_NAME"] = "Demo Human"
        env["GIT_AUTHOR_EMAIL"] = "human@example.com"
        env["GIT_COMMITTER_NAME"] = "Demo Human"
        env["GIT_COMMITTER_EMAIL"] = "human@example.com"
        if let hooks = try? Context(environment: ProcessInfo.processInfo.environment, workingDirectory: repo).hookTemplatesDirectory() {
            env["ANVCS_HOOKS_DIR"] = hooks
        }

        func step(_ title: String) { print("\n== \(title)") }
        func run(_ args: [String], env extra: [String: String] = [:], show: Bool = true) throws {
            var e = env
            for (k, v) in extra { e[k] = v }
            if show { print("$ " + args.map { $0 == exe ? "git anvcs" : ($0.contains(" ") ? "'\($0)'" : $0) }.joined(separator: " ")) }
            let result = try Subprocess.run(args, environment: e, directory: repo)
            if show { print(result.stdout, terminator: "") }
            guard result.status == 0 else {
                throw Failure("demo step '\(args.joined(separator: " "))' failed: \(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
            }
        }
        func write(_ path: String, _ text: String) throws {
            try text.write(toFile: repo + "/" + path, atomically: true, encoding: .utf8)
        }

        step("A repository with history from before ANVCS")
        try run(["git", "init", "-q", "-b", "main"])
        try write("README.md", "# Demo\n")
        try run(["git", "add", "README.md"], show: false)
        try run(["git", "commit", "-q", "-m", "Initial commit (before ANVCS)"])

        step("git anvcs init: hooks, notes config, ai-vcs.config.yaml")
        try run([exe, "init"])

        step("Agent 1 (a session) commits with plain git")
        try run([exe, "session", "start", "--agent", "planner-bot", "--model", "gpt-4o", "--prompt", "Add a greeting module"])
        try write("greet.py", "def greet(name):\n    return f\"Hello, {name}!\"\n")
        try run(["git", "add", "greet.py"], show: false)
        try run(["git", "commit", "-q", "-m", "Add greet()"], env: ["ANVCS_HOOK_SYNC": "1"])
        try run([exe, "session", "end"])

        step("Agent 2 (Claude Code, detected from its environment) commits with test results")
        try write("test_greet.py", "from greet import greet\n\ndef test_greet():\n    assert greet('x') == 'Hello, x!'\n")
        try write("report.xml", """
            <testsuite name="pytest" tests="3" failures="0" errors="0" skipped="0">
              <testcase classname="test_greet" name="test_greet"/>
              <testcase classname="test_greet" name="test_unicode"/>
              <testcase classname="test_greet" name="test_empty"/>
            </testsuite>
            """)
        try run(["git", "add", "test_greet.py"], show: false)
        try run([exe, "commit", "-q", "-m", "Test greet()", "--prompt", "Write tests for greet; my token is ghp_abcdefghijklmnopqrstuvwxyz0123456789 (redacted)",
                 "--test-report", "report.xml", "--coverage", "92.5"],
                env: ["CLAUDECODE": "1", "ANTHROPIC_MODEL": "claude-sonnet-4-5"])

        step("git anvcs show (the prompt's secret was redacted before storing)")
        try run([exe, "show"])
        step("git anvcs show HEAD~2 (a commit from before ANVCS: empty metadata)")
        try run([exe, "show", "HEAD~2"])
        step("git anvcs graph")
        try run([exe, "graph"])
        step("The note is plain git data: git notes --ref=anvcs show HEAD~1")
        try run(["git", "notes", "--ref=anvcs", "show", "HEAD~1"])
        if keep { print("\nScratch repository kept at \(repo)") } else { print("\nDone; the scratch repository was removed (use --keep to keep it).") }
    }
}
