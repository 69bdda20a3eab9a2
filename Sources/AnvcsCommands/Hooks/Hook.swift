import AnvcsConfig
import AnvcsGit
import AnvcsProvenance
import ArgumentParser
import Foundation

/// `git anvcs hook NAME [ARGS...]`: what the installed hook scripts call.
///
/// Git's contract for these hooks is that they never break the git command: every error is
/// written to `<state>/hook.log` (and to stderr when in the foreground) and the exit code is 0.
/// The one exception is pre-push, which exits 1 to refuse a push on purpose.
struct Hook: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hook",
        abstract: "Run ANVCS's part of a git hook (called by the scripts 'git anvcs init' installs).",
        shouldDisplay: false)

    @Argument(help: "The hook: prepare-commit-msg, post-commit, post-rewrite, post-checkout, post-merge or pre-push.")
    var name: String

    @Flag(help: "Running detached from git (post-commit): report problems only to the hook log.")
    var background = false

    @Option(help: "post-commit during a cherry-pick: the commit that was picked.")
    var pickedFrom: String?

    @Argument(parsing: .captureForPassthrough, help: "The hook's own arguments, as git gave them.")
    var arguments: [String] = []

    func run() throws {
        let context = Context()
        var hook = self
        // Be lenient about where --background stands: passthrough capture may have kept it.
        if let i = hook.arguments.firstIndex(of: "--background") {
            hook.arguments.remove(at: i)
            hook.background = true
        }
        try hook.runParsed(context)
    }

    func runParsed(_ context: Context) throws {
        do {
            try dispatch(context)
        } catch let refusal as PushRefusal {
            // The one deliberate failure: git must not push commits whose artifacts are nowhere.
            Terminal.write(refusal.description + "\n")
            log("pre-push refused: \(refusal.missing.count) artifact(s) not in the store", context: context)
            throw ExitCode(1)
        } catch {
            let message = "\(name) hook: \(Failure.describe(error))"
            log(message, context: context)
            if !background { Terminal.warning(message + " (the git command goes on)") }
        }
    }

    func dispatch(_ context: Context) throws {
        switch name {
        case "post-commit": try postCommit(context)
        case "drain": try drainInBackground(context)
        case "prepare-commit-msg": try prepareCommitMessage(context)
        case "post-rewrite": try postRewrite(context)
        case "post-merge": try postMerge(context)
        case "upload": try ArtifactHooks.uploadInBackground(context)
        case "pre-push":
            let input = prePushInput
            do { try drainOnly(context) } catch { report("provenance: \(Failure.describe(error))", context: context) }
            try ArtifactHooks.prePush(context, remote: arguments.first ?? "origin", input: input)
        case "post-checkout":
            try drainOnly(context)
            try ArtifactHooks.writeAfterCheckout(context)
        default: throw Failure("unknown hook '\(name)'")
        }
    }

    func postCommit(_ context: Context) throws {
        let repository = try context.repository()
        let store = ProvenanceStore(repository: repository)
        let pending = PendingCaptures(stateDirectory: store.stateDirectory)
        let commit = try arguments.first.flatMap { ObjectID(hex: $0) } ?? repository.headCommit()
        guard let commit else { return }
        let settings = context.settings(for: repository)
        for problem in settings.problems { report("\(problem.description)", context: context) }
        let output = try CaptureRunner.capture(commit: commit, repository: repository, settings: settings, context: context)
        for warning in output.warnings { report(warning, context: context) }
        let note = try CaptureRunner.carryCherryPick(output.note, commit: commit, pickedFrom: pickedFrom, store: store)
        try pending.save(note, commit: commit.hex)
        try pending.drain(into: store, now: context.now, wait: 0, mirror: settings.bool("provenance.mirror"),
                          capture: CaptureRunner.fromEnvironment(context))
        try ArtifactHooks.afterCommit(context, repository: repository, settings: settings, commits: [commit.hex],
                                      uploadNow: context.environment["ANVCS_NO_UPLOAD"] == nil, background: background)
        // Keep the query index warm while nobody waits for us.
        if background { try ProvenanceIndex(repository: repository, stateDirectory: store.stateDirectory).sync() }
    }

    func prepareCommitMessage(_ context: Context) throws {
        guard let file = arguments.first else { return }
        let source = arguments.count > 1 ? arguments[1] : ""
        if source == "merge" || source == "squash" { return }
        let repository = try context.repository()
        let settings = context.settings(for: repository)
        let capture = Capture.collect(environment: context.environment, session: SessionStore(stateDirectory: ProvenanceStore(repository: repository).stateDirectory).load(),
                                      settings: settings, repositoryRoot: repository.workingDirectory)
        var trailers: [String] = []
        if let agent = capture.provenance.agentID { trailers.append("AI-Agent: \(agent)") }
        if let model = capture.provenance.model { trailers.append("AI-Model: \(model)") }
        guard !trailers.isEmpty, let data = FileManager.default.contents(atPath: file) else { return }
        var text = String(decoding: data, as: UTF8.self)
        let missing = trailers.filter { !text.contains($0) }
        guard !missing.isEmpty else { return }
        // Trailers go after the message, before git's comment lines.
        var lines = text.components(separatedBy: "\n")
        let commentStart = lines.firstIndex(where: { $0.hasPrefix("#") }) ?? lines.count
        var body = Array(lines[..<commentStart])
        while let last = body.last, last.trimmingCharacters(in: .whitespaces).isEmpty { body.removeLast() }
        let lastIsTrailer = body.last.map { $0.range(of: #"^[A-Za-z-]+: "#, options: .regularExpression) != nil } ?? false
        if !body.isEmpty && !lastIsTrailer { body.append("") }
        body.append(contentsOf: missing)
        lines = body + [""] + lines[commentStart...]
        text = lines.joined(separator: "\n")
        try AtomicFile.write(text, to: file)
    }

    func postRewrite(_ context: Context) throws {
        let kind = arguments.first ?? "rebase"
        let input = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        let repository = try context.repository()
        let store = ProvenanceStore(repository: repository)
        try PendingCaptures(stateDirectory: store.stateDirectory).drain(into: store, now: context.now, capture: CaptureRunner.fromEnvironment(context))
        _ = try Rewrites.apply(Rewrites.parse(input), kind: kind, store: store, now: context.now)
    }

    /// The background drainer the post-commit script starts when none is running: it records
    /// every pending capture, and before exiting looks once more after giving up its pid file,
    /// so a capture marked while it was finishing is never left behind.
    func drainInBackground(_ context: Context) throws {
        let repository = try context.repository()
        let store = ProvenanceStore(repository: repository)
        let pending = PendingCaptures(stateDirectory: store.stateDirectory)
        let mine = "\(getpid())\n"
        try AtomicFile.write(mine, to: pending.drainerPath)
        defer {
            if let current = FileManager.default.contents(atPath: pending.drainerPath), String(decoding: current, as: UTF8.self) == mine {
                try? FileManager.default.removeItem(atPath: pending.drainerPath)
            }
        }
        var rounds = 0
        while rounds < 10_000 {
            rounds += 1
            let captured = ArtifactHooks.pendingCommits(pending)
            try pending.drain(into: store, now: context.now, wait: 0, capture: CaptureRunner.fromEnvironment(context))
            // Artifacts of these commits are queued (and uploaded) while the pid file still says
            // a drainer runs, so nobody sees an empty queue before they are in it.
            if !captured.isEmpty {
                do {
                    try ArtifactHooks.afterCommit(context, repository: repository, settings: nil, commits: captured.map(\.0),
                                                  uploadNow: captured.contains { $0.1 }, background: true)
                } catch {
                    log("artifacts: \(Failure.describe(error))", context: context)
                }
            }
            if pending.hasPending { continue }
            try? FileManager.default.removeItem(atPath: pending.drainerPath)
            guard pending.hasPending else { break }
            try AtomicFile.write(mine, to: pending.drainerPath)
        }
        try ProvenanceIndex(repository: repository, stateDirectory: store.stateDirectory).sync()
    }

    /// `git merge` runs post-merge, not post-commit: a merge commit it just made gets its note here.
    func postMerge(_ context: Context) throws {
        try drainOnly(context)
        let repository = try context.repository()
        guard let head = try repository.headCommit(), try repository.commit(head).isMerge else { return }
        let store = ProvenanceStore(repository: repository)
        guard case .none = try store.lookup(head) else { return }
        let settings = context.settings(for: repository)
        let output = try CaptureRunner.capture(commit: head, repository: repository, settings: settings, context: context)
        for warning in output.warnings { report(warning, context: context) }
        try store.record([head: output.note], now: context.now, mirror: settings.bool("provenance.mirror"))
        // Content the merge introduced itself (a resolution with new bytes) is queued like a commit's.
        try ArtifactHooks.afterCommit(context, repository: repository, settings: settings, commits: [head.hex],
                                      uploadNow: true, background: false)
    }

    /// Hooks with no provenance work of their own yet still settle pending captures, so that
    /// whatever runs next (a push, a checkout) sees every note.
    func drainOnly(_ context: Context) throws {
        let repository = try context.repository()
        let store = ProvenanceStore(repository: repository)
        try PendingCaptures(stateDirectory: store.stateDirectory).drain(into: store, now: context.now, capture: CaptureRunner.fromEnvironment(context))
    }

    /// git's lines on pre-push's stdin, read once.
    var prePushInput: String {
        String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
    }

    func report(_ message: String, context: Context) {
        log(message, context: context)
        Terminal.warning(message)
    }

    /// Appends to `<state>/hook.log`, keeping it small.
    func log(_ message: String, context: Context) {
        guard let repository = try? context.repository() else { return }
        let path = ProvenanceStore(repository: repository).stateDirectory + "/hook.log"
        let line = "\(Timestamp.rfc3339(context.now)) \(message)\n"
        if let attributes = try? FileManager.default.attributesOfItem(atPath: path), (attributes[.size] as? Int ?? 0) > 1 << 20 {
            try? FileManager.default.removeItem(atPath: path)
        }
        if let handle = FileHandle(forWritingAtPath: path) {
            handle.seekToEndOfFile()
            handle.write(Data(line.utf8))
            try? handle.close()
        } else {
            try? AtomicFile.write(line, to: path)
        }
    }
}

/// Builds the note for a commit from every capture source.
enum CaptureRunner {
    struct Output {
        var note: ProvenanceNote
        var warnings: [String]
    }

    /// Capture from the variables the post-commit script wrote (not this process's own
    /// environment, which belongs to whichever commit started the drainer). PATH and HOME come
    /// from the process, for running git.
    static func fromEnvironment(_ context: Context) -> PendingCaptures.CaptureFromEnvironment {
        { commit, captured in
            var env = captured
            for key in ["PATH", "HOME"] { env[key] = context.environment[key] }
            let child = Context(environment: env, workingDirectory: context.workingDirectory)
            let repository = try child.repository()
            let output = try capture(commit: commit, repository: repository, settings: child.settings(for: repository), context: child)
            if !output.warnings.isEmpty { Terminal.warning("\(commit.short): " + output.warnings.joined(separator: "; ")) }
            return try carryCherryPick(output.note, commit: commit, pickedFrom: captured["ANVCS_PICKED_FROM"], store: ProvenanceStore(repository: repository))
        }
    }

    /// A cherry-pick carries the original's provenance and points at it.
    static func carryCherryPick(_ note: ProvenanceNote, commit: ObjectID, pickedFrom: String?, store: ProvenanceStore) throws -> ProvenanceNote {
        guard let picked = pickedFrom.flatMap({ ObjectID(hex: $0) }), picked != commit else { return note }
        var result = note
        if case .note(let original) = try store.lookup(picked) {
            result = ProvenanceNote(json: NoteMerge.merge(original.json, note.json).merged)
            result.json["commit_id"] = .string(commit.hex)
        }
        result.json["rewritten_from"] = .array([.string(picked.hex)])
        result.json["rewrite"] = .string("cherry-pick")
        return result
    }

    static func capture(commit: ObjectID, repository: Repository, settings: Settings, context: Context) throws -> Output {
        let details = try repository.commit(commit)
        let store = ProvenanceStore(repository: repository)
        let output = Capture.collect(
            environment: context.environment, session: SessionStore(stateDirectory: store.stateDirectory).load(),
            settings: settings, repositoryRoot: repository.workingDirectory, authorName: details.author.name,
            gitVersion: gitVersion(context.environment))
        let note = ProvenanceNote(commit: commit.hex, provenance: output.provenance, createdAt: Timestamp.rfc3339(context.now))
        return Output(note: note, warnings: output.warnings)
    }

    /// `git --version` without the words, asked once per process (a drainer captures many commits).
    static func gitVersion(_ environment: [String: String]) -> String? { GitVersionCache.shared.value(environment) }
}

/// One `git --version` per process.
final class GitVersionCache: @unchecked Sendable {
    static let shared = GitVersionCache()
    private let lock = NSLock()
    private var cached: String??

    func value(_ environment: [String: String]) -> String? {
        lock.lock()
        defer { lock.unlock() }
        if let cached { return cached }
        var version: String?
        if let result = try? Subprocess.run(["git", "--version"], environment: environment), result.status == 0 {
            version = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "git version ", with: "")
        }
        cached = .some(version)
        return version
    }
}
