import AnvcsGit
import AnvcsProvenance
import Foundation

/// Moving `refs/notes/anvcs` to and from a remote with git's own transport.
///
/// Fetch puts the remote's notes in `refs/notes/anvcs-remotes/<remote>` (never over local
/// notes) and merges them in. Push merges first, then pushes as a fast-forward; a rejection
/// (another agent pushed notes meanwhile) is answered by fetching, merging and pushing again,
/// with exponential backoff and full jitter, until it lands.
struct NotesTransport {
    let context: Context
    let remote: String
    var verbose = false

    var trackingRef: String { "refs/notes/anvcs-remotes/\(remote)" }

    /// Fetches the remote's notes; false when the remote has none.
    func fetchNotes() throws -> Bool {
        if let repository = try? context.repository(), let setup = try? RepositorySetup(repository: repository) {
            try? setup.ensureNotesFetch(remote: remote)
        }
        let r = try Subprocess.run(["git", "fetch", "--quiet", "--no-tags", remote, "+\(ProvenanceNote.notesRef):\(trackingRef)"],
                                   environment: context.environment)
        if r.status == 0 { return true }
        if r.stderr.contains("couldn't find remote ref") { return false }
        throw Failure("cannot fetch notes from \(remote): \(r.stderr.trimmingCharacters(in: .whitespacesAndNewlines))",
                      hint: "check that '\(remote)' is reachable with 'git fetch \(remote)'")
    }

    /// Merges fetched notes into the local notes ref.
    @discardableResult
    func mergeFetched() throws -> NotesSync.Outcome {
        let repository = try context.repository()
        let store = ProvenanceStore(repository: repository)
        return try NotesSync.merge(from: trackingRef, into: store, now: context.now)
    }

    /// Pushes local notes, merging remote ones first and retrying on rejection.
    func pushNotes(maxAttempts: Int = 60) throws -> Int {
        let repository = try context.repository()
        guard try repository.referenceTarget(ProvenanceNote.notesRef) != nil else { return 0 }
        var delay = 0.02
        for attempt in 1...maxAttempts {
            if try fetchNotes() { try mergeFetched() }
            let r = try Subprocess.run(["git", "push", "--quiet", "--porcelain", remote, "\(ProvenanceNote.notesRef):\(ProvenanceNote.notesRef)"],
                                       environment: context.environment)
            if r.status == 0 { return attempt }
            let text = r.stdout + r.stderr
            let retryable = ["rejected", "fetch first", "non-fast-forward", "failed to lock", "cannot lock ref", "failed to update ref",
                             "stale info", "reference already exists", "incorrect old value"].contains { text.contains($0) }
            guard retryable else {
                throw Failure("cannot push notes to \(remote): \(r.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
            }
            if verbose { Terminal.note("notes push rejected (attempt \(attempt)); merging and retrying") }
            usleep(UInt32(Double.random(in: 0...delay) * 1_000_000))
            delay = min(delay * 2, 2.0)
        }
        throw Failure("notes were not pushed to \(remote) after \(maxAttempts) attempts: other pushers kept winning",
                      hint: "run 'git anvcs push --notes-only \(remote)' again")
    }

    /// The remote a command should use: the one named, else the current branch's, else `origin`.
    static func defaultRemote(_ repository: Repository) -> String {
        if let branch = repository.currentBranch(), let remote = try? repository.config().string("branch.\(branch).remote") { return remote }
        return "origin"
    }
}
