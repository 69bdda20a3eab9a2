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
        func run(_ args: [String], env extra: [String: String] = [:], show: Bool = true, in directory: String? = nil) throws {
            var e = env
            for (k, v) in extra { e[k] = v }
            if show { print("$ " + args.map { $0 == exe ? "git anvcs" : ($0.contains(" ") ? "'\($0)'" : $0) }.joined(separator: " ")) }
            let result = try Subprocess.run(args, environment: e, directory: directory ?? repo)
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
        try artifactSteps(root: root, repo: repo, exe: exe, step: step, run: run)
        if keep { print("\nScratch repository kept at \(repo)") } else { print("\nDone; the scratch repository was removed (use --keep to keep it).") }
    }

    /// An artifact pinned in the embedded local store and hydrated in a lazy clone (no network).
    func artifactSteps(root: String, repo: String, exe: String, step: (String) -> Void,
                       run: ([String], [String: String], Bool, String?) throws -> Void) throws {
        let store = root + "/store"
        step("Artifacts: track *.bin, commit a model (queued with --no-upload), then upload and pin it")
        try run([exe, "track", "*.bin"], [:], true, nil)
        try run(["git", "config", "anvcs.adapters.local.path", store], [:], false, nil)
        var rng = SystemRandomNumberGenerator()
        let bytes = (0..<(256 * 1024)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        guard FileManager.default.createFile(atPath: repo + "/model.bin", contents: Data(bytes)) else {
            throw Failure("demo: cannot write \(repo)/model.bin")
        }
        try run(["git", "add", ".gitattributes", "model.bin"], [:], false, nil)
        // blobs.upload_on_commit, from the environment for this demo (ANVCS_<KEY> beats the file).
        let uploads = ["ANVCS_BLOBS_UPLOAD_ON_COMMIT": "true"]
        try run([exe, "commit", "-q", "-m", "Add model.bin", "--no-upload", "--model", "demo-model"], uploads, true, nil)
        try run(["git", "cat-file", "-p", "HEAD:model.bin"], [:], true, nil)
        try run([exe, "status"], uploads, true, nil)
        try run([exe, "retry-uploads"], uploads, true, nil)
        step("The pin is in the commit's provenance note (ai_meta.artifacts)")
        try run(["git", "notes", "--ref=anvcs", "show", "HEAD"], [:], true, nil)
        step("A lazy clone leaves the pointer; git anvcs hydrate fetches the exact bytes from the store")
        let clone = root + "/clone"
        try run(["git", "clone", "-q", "-c", "filter.anvcs.process=git anvcs filter-process", "-c", "filter.anvcs.required=true",
                 "-c", "anvcs.artifacts.hydrate=lazy", "-c", "anvcs.adapters.local.path=\(store)", repo, clone], [:], true, root)
        try run([exe, "status"], [:], true, clone)
        try run([exe, "hydrate", "--all"], [:], true, clone)
        let same = FileManager.default.contents(atPath: clone + "/model.bin") == Data(bytes)
        print(same ? "clone/model.bin: \(bytes.count) bytes, identical to the committed file (sha256 verified)"
                   : "clone/model.bin differs from the committed file")
        guard same else { throw Failure("demo: the hydrated artifact differs") }
    }
}
