import AnvcsGit
import AnvcsMerge
import AnvcsProvenance
import ArgumentParser
import Foundation

/// `git anvcs merge <src> [into <dst>] [--auto] [--test-check] [--test-cmd "..."]`: merges in a
/// temporary worktree with the syntax-aware driver, runs the project's tests there, and moves
/// <dst> only when the merge is clean and the tests pass (a compare-and-swap on the ref). The
/// merge commit's provenance note records each file's strategy, the conflicts resolved and the
/// test result. On failure <dst> is untouched, a report is printed and the exit code is 1.
struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge a branch in a temporary worktree with the syntax-aware driver, gated by tests.",
        discussion: """
        Without --auto the merge and the tests run and the report is printed, but <dst> does not move.
        The test command comes from --test-cmd, else merge.test_command (ai-vcs.config.yaml or git config anvcs.*).
        """)

    @Argument(help: "The branch or commit to merge.")
    var source: String
    @Argument(help: "`into <dst>`: the branch to move (default: the current branch).")
    var into: [String] = []
    @Flag(help: "Move <dst> to the merge when it is clean and the tests pass.")
    var auto = false
    @Flag(name: .customLong("test-check"), help: "Require a test command and passing tests.")
    var testCheck = false
    @Option(name: .customLong("test-cmd"), help: "The test command, run with sh -c in the merged tree (implies --test-check).")
    var testCommand: String?
    @Option(name: .customLong("llm-cmd"), help: "A program proposing resolutions for remaining conflicts (default: merge.llm.command).")
    var llmCommand: String?
    @Flag(help: "Print the report as JSON on stdout.")
    var json = false

    func validate() throws {
        guard into.isEmpty || (into.count == 2 && into[0] == "into") else {
            throw ValidationError("expected `git anvcs merge <src> [into <dst>]`, got: \(([source] + into).joined(separator: " "))")
        }
    }

    func run() throws {
        let context = Context()
        let repository = try context.repository()
        guard var root = repository.workingDirectory else { throw Failure("git anvcs merge needs a work tree, not a bare repository") }
        if root.hasSuffix("/") && root.count > 1 { root.removeLast() }
        let settings = context.settings(for: repository)
        let git = WorktreeGit(directory: root, environment: context.environment)

        let destination = into.count == 2 ? into[1] : try git.output(["symbolic-ref", "--short", "-q", "HEAD"],
            failure: "HEAD is detached: name the branch to move with `into <dst>`")
        let destinationRef = "refs/heads/" + destination
        let old = try git.output(["rev-parse", "--verify", "-q", destinationRef + "^{commit}"], failure: "no branch '\(destination)'")
        let incoming = try git.output(["rev-parse", "--verify", "-q", source + "^{commit}"], failure: "'\(source)' is not a commit")
        let command = testCommand ?? settings.string("merge.test_command")
        if (testCheck || testCommand != nil) && (command ?? "").isEmpty {
            throw Failure("--test-check needs a test command", hint: "set merge.test_command in ai-vcs.config.yaml or pass --test-cmd \"...\"", exitCode: 2)
        }
        if try git.succeeds(["merge-base", "--is-ancestor", incoming, old]) {
            Terminal.note("\(destination) already contains \(source): nothing to merge")
            return
        }
        // Where dst is checked out decides how it may move: here (clean tree, updated with it) or nowhere else.
        let checkedOutHere = (try? git.output(["symbolic-ref", "-q", "HEAD"], failure: "")) == destinationRef
        if auto {
            if checkedOutHere, !(try git.output(["status", "--porcelain", "--untracked-files=no"], failure: "cannot read status")).isEmpty {
                throw Failure("\(destination) is checked out here with uncommitted changes", hint: "commit or stash them, then run git anvcs merge again")
            }
            let worktrees = try git.output(["worktree", "list", "--porcelain"], failure: "cannot list worktrees")
            let elsewhere = worktrees.components(separatedBy: "\n\n").contains {
                $0.contains("branch \(destinationRef)\n") || $0.hasSuffix("branch \(destinationRef)")
            }
            if elsewhere && !checkedOutHere {
                throw Failure("\(destination) is checked out in another worktree", hint: "run git anvcs merge there, or merge into a branch no worktree has checked out")
            }
        }

        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("anvcs-merge-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        let tree = scratch + "/tree", reportPath = scratch + "/report.jsonl", attributes = scratch + "/attributes"
        defer {
            _ = try? git.run(["worktree", "remove", "--force", tree])
            _ = try? git.run(["worktree", "prune"])
            try? FileManager.default.removeItem(atPath: scratch)
        }
        try git.check(["worktree", "add", "--detach", "--quiet", tree, old], failure: "cannot create a temporary worktree at \(tree)")
        try MergeCommand.driverAttributes.write(toFile: attributes, atomically: true, encoding: .utf8)

        var mergeEnvironment = context.environment
        mergeEnvironment["ANVCS_MERGE_REPORT"] = reportPath
        let inTree = WorktreeGit(directory: tree, environment: mergeEnvironment)
        let driver = "'\(Context.executablePath.replacingOccurrences(of: "'", with: "'\\''"))' merge-driver %O %A %B %L %P %S %X %Y"
        let merge = try inTree.run(["-c", "merge.anvcs.name=ANVCS syntax-aware merge", "-c", "merge.anvcs.driver=\(driver)",
                                    "-c", "core.attributesFile=\(attributes)",
                                    "merge", "--no-ff", "--no-edit", "-m", "Merge \(source) into \(destination)", incoming])
        var report = MergeRunReport(source: source, destination: destination, files: MergeCommand.readReports(reportPath))
        var mergeStatus = merge.status
        if merge.status != 0 {
            let conflicted = (try? inTree.output(["diff", "--name-only", "--diff-filter=U"], failure: "")) ?? ""
            report.conflictedPaths = conflicted.split(separator: "\n").map(String.init)
            if let assistant = (llmCommand ?? settings.string("merge.llm.command")).map({ MergeAssistant(command: $0, environment: context.environment) }),
               !report.conflictedPaths.isEmpty {
                do {
                    let proposals = try assistant.propose(for: report.conflictedPaths, in: inTree)
                    for proposal in proposals {
                        try proposal.content.write(toFile: tree + "/" + proposal.path, atomically: true, encoding: .utf8)
                    }
                    try inTree.check(["add", "--"] + proposals.map(\.path), failure: "cannot stage the proposed resolutions")
                    try inTree.check(["commit", "--no-edit", "--quiet"], failure: "cannot commit the merge with the proposed resolutions")
                    report.assisted = MergeAssistance(command: assistant.command, proposals: proposals.map { ($0.path, $0.rationale ?? "") })
                    report.conflictedPaths = []
                    mergeStatus = 0
                } catch {
                    report.assistantFailure = "\(error)"
                }
            }
        }
        if mergeStatus != 0 {
            if report.conflictedPaths.isEmpty { report.failure = merge.stderr.trimmingCharacters(in: .whitespacesAndNewlines) }
            _ = try? inTree.run(["merge", "--abort"])
            render(report)
            throw Failure(report.conflictedPaths.isEmpty ? "git merge failed: \(report.failure ?? "")"
                              : "the merge leaves conflicts in \(report.conflictedPaths.count) file(s); \(destination) is untouched",
                          hint: "resolve them with a regular git merge, or review the branches")
        }
        let merged = try inTree.output(["rev-parse", "HEAD"], failure: "cannot read the merge commit")
        report.commit = merged

        if let command, !command.isEmpty {
            let tests = try Subprocess.run(["sh", "-c", command], environment: context.environment, directory: tree)
            report.tests = MergeTestRun(command: command, exitCode: tests.status,
                                   outputTail: (tests.stdout + tests.stderr).split(separator: "\n", omittingEmptySubsequences: false)
                                       .suffix(20).joined(separator: "\n"))
        }
        if let tests = report.tests, !tests.passed {
            render(report)
            throw Failure("the tests failed on the merge (\(tests.command): exit \(tests.exitCode)); \(destination) is untouched",
                          hint: "the merge needs review: fix the branches or merge by hand")
        }
        guard auto else {
            report.moved = false
            render(report)
            Terminal.note("merge \(merged) is clean\(report.tests == nil ? "" : " and its tests pass"); pass --auto to move \(destination)")
            return
        }
        let store = ProvenanceStore(repository: repository)
        guard let mergedID = ObjectID(hex: merged) else { throw Failure("unexpected commit id from git: \(merged)") }
        try store.record([mergedID: report.note(commit: merged)], now: context.now, mirror: settings.bool("provenance.mirror"))
        try git.check(["update-ref", "-m", "anvcs merge \(source)", destinationRef, merged, old],
                      failure: "\(destination) moved while merging; it was left as it is now")
        if checkedOutHere {
            try git.check(["read-tree", "-m", "-u", old, merged], failure: "moved \(destination) but could not update the work tree; run git reset --keep HEAD")
        }
        report.moved = true
        render(report)
    }

    /// Every language the engine merges by structure goes through the driver in the temporary worktree.
    static let driverAttributes = ["py", "pyi", "js", "jsx", "mjs", "cjs", "ts", "tsx", "mts", "cts", "json", "yaml", "yml", "swift"]
        .map { "*.\($0) merge=anvcs\n" }.joined()

    static func readReports(_ path: String) -> [MergeFileReport] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONDecoder().decode(MergeFileReport.self, from: Data($0.utf8)) }
    }

    private func render(_ report: MergeRunReport) {
        if json {
            FileHandle.standardOutput.write(Data((report.note(commit: report.commit ?? "").text + "\n").utf8))
            return
        }
        var lines = ["merge \(report.source) into \(report.destination)" + (report.commit.map { ": \($0)" } ?? "")]
        for file in report.files {
            lines.append("  \(file.path): \(file.clean ? "clean" : "\(file.conflicts) conflict(s)") by \(file.strategy)"
                         + (file.conflictsResolved > 0 ? ", \(file.conflictsResolved) conflict(s) resolved" : ""))
        }
        for path in report.conflictedPaths { lines.append("  \(path): conflicts remain") }
        if let assisted = report.assisted {
            for proposal in assisted.proposals { lines.append("  \(proposal.path): resolved by merge.llm.command — \(proposal.rationale)") }
        }
        if let failure = report.assistantFailure { lines.append("  merge.llm.command: not applied: \(failure)") }
        if let failure = report.failure { lines.append("  git merge: \(failure)") }
        if let tests = report.tests {
            lines.append("  tests: \(tests.passed ? "passed" : "FAILED (exit \(tests.exitCode))") — \(tests.command)")
            if !tests.passed && !tests.outputTail.isEmpty { lines += tests.outputTail.split(separator: "\n").map { "    | " + $0 } }
        } else {
            lines.append("  tests: none configured")
        }
        if let moved = report.moved { lines.append("  \(report.destination): \(moved ? "moved to the merge" : "not moved")") }
        FileHandle.standardOutput.write(Data((lines.joined(separator: "\n") + "\n").utf8))
    }
}

/// What `git anvcs merge` did, for the terminal and for the merge commit's note.
struct MergeRunReport {
    var source: String
    var destination: String
    var files: [MergeFileReport]
    var conflictedPaths: [String] = []
    var failure: String?
    var commit: String?
    var tests: MergeTestRun?
    var moved: Bool?
    var assisted: MergeAssistance?
    var assistantFailure: String?

    /// Additive fields in the note: `ai_meta.merge` and, when tests ran, `ai_meta.tests_passed`.
    func note(commit: String) -> ProvenanceNote {
        var merge = JSONObject()
        merge["source"] = .string(source)
        merge["destination"] = .string(destination)
        merge["conflicts_resolved"] = .number(Double(files.reduce(0) { $0 + $1.conflictsResolved }))
        merge["files"] = .array(files.map { file in
            .object(JSONObject([
                ("path", .string(file.path)), ("strategy", .string(file.strategy)), ("clean", .bool(file.clean)),
                ("conflicts_resolved", .number(Double(file.conflictsResolved))),
                ("resolutions", .array(file.resolutions.map { .string("\($0.layer.rawValue): \($0.detail)") })),
            ]))
        })
        if !conflictedPaths.isEmpty { merge["conflicted"] = .array(conflictedPaths.map(JSONValue.string)) }
        if let tests {
            merge["tests"] = .object(JSONObject([("command", .string(tests.command)), ("passed", .bool(tests.passed)),
                                                 ("exit_code", .number(Double(tests.exitCode)))]))
        }
        if let assisted {
            merge["llm"] = .object(JSONObject([
                ("command", .string(assisted.command)),
                ("files", .array(assisted.proposals.map { .object(JSONObject([("path", .string($0.path)), ("rationale", .string($0.rationale))])) })),
            ]))
        }
        var meta = JSONObject()
        meta["merge"] = .object(merge)
        if let tests { meta["tests_passed"] = .bool(tests.passed) }
        return ProvenanceNote(json: JSONObject([
            ("schema", .string(ProvenanceNote.schema)), ("commit_id", .string(commit)), ("ai_meta", .object(meta)),
        ]))
    }
}

struct MergeAssistance {
    var command: String
    var proposals: [(path: String, rationale: String)]
}

struct MergeTestRun {
    var command: String
    var exitCode: Int32
    var outputTail: String
    var passed: Bool { exitCode == 0 }
}

/// git in one directory, through the real executable (merges must run the user's hooks and drivers).
struct WorktreeGit {
    let directory: String
    let environment: [String: String]

    func run(_ arguments: [String]) throws -> Subprocess.Result {
        try Subprocess.run(["git"] + arguments, environment: environment, directory: directory)
    }

    func succeeds(_ arguments: [String]) throws -> Bool { try run(arguments).status == 0 }

    func check(_ arguments: [String], failure: String) throws {
        let result = try run(arguments)
        guard result.status == 0 else {
            throw Failure(failure + ": " + result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }

    func output(_ arguments: [String], failure: String) throws -> String {
        let result = try run(arguments)
        guard result.status == 0 else { throw Failure(failure) }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
