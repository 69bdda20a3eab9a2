import AnvcsGit
import AnvcsProvenance
import ArgumentParser
import Foundation

/// `git anvcs commit`: `git commit` with provenance given as flags.
///
/// It runs the real `git commit` (so the user's own hooks, signing and editor all apply) with
/// the provenance passed down as `ANVCS_*` variables, and makes the post-commit hook record it
/// before returning. Without installed hooks it records the note itself.
struct Commit: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "commit", abstract: "Commit with provenance (prompt, model, agent, tests, coverage).")

    @Option(name: .shortAndLong, help: "The commit message.")
    var message: String?
    @Option(help: "The prompt that produced this change.")
    var prompt: String?
    @Option(help: "Read the prompt from a file (any size).")
    var promptFile: String?
    @Option(help: "The model that made the change.")
    var model: String?
    @Option(help: "The agent's identity.")
    var agent: String?
    @Option(help: "A JUnit XML test report.")
    var testReport: String?
    @Option(help: "Line coverage: a percentage, or a Cobertura XML or lcov file.")
    var coverage: String?
    @Flag(name: .shortAndLong, help: "Pass -q to git commit.")
    var quiet = false
    @Flag(name: [.customShort("a"), .long], help: "Pass --all to git commit (stage modified and deleted files).")
    var all = false
    @Flag(help: "Pass --no-verify to git commit (skips pre-commit and commit-msg hooks).")
    var noVerify = false
    @Flag(help: "Do not upload artifacts now; queue them.")
    var noUpload = false
    @Argument(parsing: .postTerminator, help: "More arguments for git commit, after --.")
    var gitArguments: [String] = []

    func run() throws {
        let context = Context()
        let repository = try context.repository()
        var env = context.environment
        var flags: [String] = []
        var promptTemp: String?
        if let promptFile {
            guard FileManager.default.isReadableFile(atPath: promptFile) else {
                throw Failure("cannot read prompt file \(promptFile)", hint: "give a readable file to --prompt-file")
            }
            env["ANVCS_PROMPT_FILE"] = (promptFile as NSString).standardizingPath.hasPrefix("/") ? promptFile
                : context.workingDirectory + "/" + promptFile
            flags.append("prompt")
        } else if let prompt {
            // Prompts can be megabytes; the environment holds at most 128 KiB per variable.
            let path = NSTemporaryDirectory() + "anvcs-prompt-\(getpid()).txt"
            try prompt.write(toFile: path, atomically: true, encoding: .utf8)
            promptTemp = path
            env["ANVCS_PROMPT_FILE"] = path
            env["ANVCS_PROMPT"] = nil
            flags.append("prompt")
        }
        defer { if let promptTemp { try? FileManager.default.removeItem(atPath: promptTemp) } }
        if let model { env["ANVCS_MODEL"] = model; flags.append("model") }
        if let agent { env["ANVCS_AGENT_ID"] = agent; flags.append("agent_id") }
        if let testReport { env["ANVCS_TEST_REPORT"] = absolute(testReport, context); flags.append("tests") }
        if let coverage {
            env["ANVCS_COVERAGE"] = Double(coverage.replacingOccurrences(of: "%", with: "")) != nil ? coverage : absolute(coverage, context)
            flags.append("coverage")
        }
        if noUpload { env["ANVCS_NO_UPLOAD"] = "1" }
        env["ANVCS_FLAGS"] = flags.joined(separator: ",")
        env["ANVCS_HOOK_SYNC"] = "1"

        var args = ["git", "commit"]
        if let message { args += ["-m", message] }
        if noVerify { args.append("--no-verify") }
        if quiet { args.append("-q") }
        if all { args.append("--all") }
        args += gitArguments
        let before = try repository.headCommit()
        let result = try Subprocess.run(args, environment: env, inheritOutput: true)
        guard result.status == 0 else { throw ExitCode(result.status) }

        // If the hooks are not installed, record the note here.
        let fresh = try Repository.discover(from: context.workingDirectory)
        guard let head = try fresh.headCommit(), head != before else { return }
        let store = ProvenanceStore(repository: fresh)
        if case .none = try store.lookup(head) {
            let childContext = Context(environment: env, workingDirectory: context.workingDirectory)
            let settings = childContext.settings(for: fresh)
            let output = try CaptureRunner.capture(commit: head, repository: fresh, settings: settings, context: childContext)
            for w in output.warnings { Terminal.warning(w) }
            try store.record([head: output.note], now: context.now, mirror: settings.bool("provenance.mirror"))
        }
    }

    func absolute(_ path: String, _ context: Context) -> String {
        path.hasPrefix("/") ? path : context.workingDirectory + "/" + path
    }
}
