import AnvcsConfig
import AnvcsGit
import AnvcsProvenance
import Foundation

/// What every command needs from the process: environment, working directory, the repository
/// and the merged settings. The only place that reads the process environment.
struct Context {
    let environment: [String: String]
    let workingDirectory: String

    init() {
        environment = ProcessInfo.processInfo.environment
        workingDirectory = FileManager.default.currentDirectoryPath
    }

    init(environment: [String: String], workingDirectory: String) {
        self.environment = environment
        self.workingDirectory = workingDirectory
    }

    /// The repository around the working directory, or a clear failure.
    func repository() throws -> Repository {
        do {
            return try Repository.discover(from: workingDirectory)
        } catch {
            throw Failure("not a git repository (or any parent up to /): \(workingDirectory)",
                          hint: "run this inside a git work tree, or create one with 'git init'")
        }
    }

    func settings(for repository: Repository, flags: [String: ConfigValue] = [:]) -> Settings {
        let git = (try? repository.config().entries(withPrefix: "anvcs.")) ?? []
        return SettingsLoader.load(repositoryRoot: repository.workingDirectory, gitConfig: git, environment: environment, flags: flags)
    }

    /// Seconds since the epoch for timestamps ANVCS writes.
    var now: Int64 { Int64(Date().timeIntervalSince1970) }

    /// The absolute path of this executable (hooks and the demo start it again).
    static var executablePath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    /// The hook scripts: `$ANVCS_HOOKS_DIR`, then `<prefix>/share/anvcs/hooks` beside an installed
    /// binary, then the `hooks/` folder of the source checkout the binary was built in.
    func hookTemplatesDirectory() throws -> String {
        let fm = FileManager.default
        if let dir = environment["ANVCS_HOOKS_DIR"], fm.fileExists(atPath: dir + "/post-commit") { return dir }
        var dir = (Context.executablePath as NSString).deletingLastPathComponent
        let installed = ((dir as NSString).appendingPathComponent("../share/anvcs/hooks") as NSString).standardizingPath
        if fm.fileExists(atPath: installed + "/post-commit") { return installed }
        while dir != "/" && !dir.isEmpty {
            if fm.fileExists(atPath: dir + "/hooks/post-commit"), fm.fileExists(atPath: dir + "/Package.swift") { return dir + "/hooks" }
            dir = (dir as NSString).deletingLastPathComponent
        }
        throw Failure("cannot find ANVCS's hook scripts (looked in \(installed) and above \(Context.executablePath))",
                      hint: "reinstall with ./install.sh, or set ANVCS_HOOKS_DIR to the hooks/ folder of ANVCS")
    }

    /// Moves captures that hooks left pending into the notes ref before reading notes.
    /// A failure here is a warning: the notes already written are still worth showing.
    func settlePending(_ store: ProvenanceStore) {
        do {
            try PendingCaptures(stateDirectory: store.stateDirectory).drain(into: store, now: now, capture: CaptureRunner.fromEnvironment(self))
        } catch {
            Terminal.warning("could not record pending provenance: \(Failure.describe(error))")
        }
        // Notes a plain `git fetch` brought into refs/notes/anvcs-remotes/* join the local ones.
        do {
            for ref in try NotesSync.remoteNotesRefs(store.repository) {
                _ = try NotesSync.merge(from: ref, into: store, now: now)
            }
        } catch {
            Terminal.warning("could not merge fetched notes: \(Failure.describe(error))")
        }
    }

    /// Warns about settings that could not be used, once per command.
    func reportProblems(_ settings: Settings) {
        for p in settings.problems { Terminal.warning(p.description) }
        for w in settings.warnings { Terminal.warning(w) }
    }
}
