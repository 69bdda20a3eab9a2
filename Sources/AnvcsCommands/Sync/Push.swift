import AnvcsProvenance
import ArgumentParser
import Foundation

/// `git anvcs push`: `git push` and then the provenance notes.
struct Push: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "push", abstract: "Push branches and provenance notes (notes merge with the remote's, never overwrite).")

    @Argument(help: "The remote (default: the branch's remote, or origin).")
    var remote: String?
    @Argument(help: "Refspecs for git push.")
    var refspecs: [String] = []
    @Flag(help: "Push only the notes.")
    var notesOnly = false
    @Flag(name: .shortAndLong, help: "Report retries.")
    var verbose = false
    @Flag(name: .shortAndLong, help: "Pass -q to git push.")
    var quiet = false

    func run() throws {
        let context = Context()
        let repository = try context.repository()
        let remote = self.remote ?? NotesTransport.defaultRemote(repository)
        if !notesOnly {
            let r = try Subprocess.run(["git", "push"] + (quiet ? ["-q"] : []) + [remote] + refspecs, environment: context.environment, inheritOutput: true)
            guard r.status == 0 else { throw ExitCode(r.status) }
        }
        let store = ProvenanceStore(repository: repository)
        context.settlePending(store)
        let attempts = try NotesTransport(context: context, remote: remote, verbose: verbose).pushNotes()
        if verbose || attempts > 1 { Terminal.note("notes pushed to \(remote)" + (attempts > 1 ? " after \(attempts) attempts" : "")) }
    }
}

/// `git anvcs fetch`: `git fetch` and the remote's provenance notes, merged into ours.
struct Fetch: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "fetch", abstract: "Fetch branches and provenance notes, and merge the notes into refs/notes/anvcs.")

    @Argument(help: "The remote (default: the branch's remote, or origin).")
    var remote: String?
    @Flag(help: "Fetch only the notes.")
    var notesOnly = false
    @Flag(name: .shortAndLong, help: "Pass -q to git fetch.")
    var quiet = false

    func run() throws {
        let context = Context()
        let repository = try context.repository()
        let remote = self.remote ?? NotesTransport.defaultRemote(repository)
        let before = Set(try repository.referenceTips(globs: ["refs/remotes/\(remote)/*"]).map(\.commit))
        if !notesOnly {
            let r = try Subprocess.run(["git", "fetch"] + (quiet ? ["-q"] : []) + [remote], environment: context.environment, inheritOutput: true)
            guard r.status == 0 else { throw ExitCode(r.status) }
        }
        let transport = NotesTransport(context: context, remote: remote)
        if try transport.fetchNotes() {
            let outcome = try transport.mergeFetched()
            if case .merged(let added, let merged) = outcome { Terminal.note("notes: \(added) added, \(merged) merged from \(remote)") }
        }
        try SquashDetection.run(context: context, remote: remote, previousTips: before)
        try ProvenanceIndex(repository: repository, stateDirectory: ProvenanceStore(repository: repository).stateDirectory).sync()
    }
}

/// `git anvcs pull`: notes first, then `git pull`.
struct Pull: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pull", abstract: "Fetch and merge provenance notes, then git pull.")

    @Option(help: "Artifact hydration for this pull: lazy (leave pointer files) or eager (fetch during checkout).")
    var artifacts: String?
    @Argument(help: "The remote (default: the branch's remote, or origin).")
    var remote: String?
    @Argument(parsing: .captureForPassthrough, help: "More arguments for git pull.")
    var arguments: [String] = []

    func validate() throws {
        if let artifacts, artifacts != "lazy" && artifacts != "eager" { throw ValidationError("--artifacts takes lazy or eager, not '\(artifacts)'") }
    }

    func run() throws {
        let context = Context()
        let repository = try context.repository()
        let remote = self.remote ?? NotesTransport.defaultRemote(repository)
        let before = Set(try repository.referenceTips(globs: ["refs/remotes/\(remote)/*"]).map(\.commit))
        let transport = NotesTransport(context: context, remote: remote)
        if try transport.fetchNotes() { try transport.mergeFetched() }
        var environment = context.environment
        // The filter git starts for the checkout reads this (environment beats config files).
        if let artifacts { environment["ANVCS_ARTIFACTS_HYDRATE"] = artifacts }
        let r = try Subprocess.run(["git", "pull", remote] + arguments, environment: environment, inheritOutput: true)
        guard r.status == 0 else { throw ExitCode(r.status) }
        try SquashDetection.run(context: context, remote: remote, previousTips: before)
    }
}
