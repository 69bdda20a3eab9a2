import AnvcsGit
import AnvcsProvenance

/// `anvcs::<git url>`: objects and refs through git's own transport to the inner URL (git
/// fetch / git push run as children, so every transport, credential helper and server-side
/// hook keeps working), plus `refs/notes/anvcs` merged and pushed, and the artifact hooks.
public final class GitRemoteBackend: RemoteBackend {
    let context: HelperContext
    let innerURL: String
    /// The remote's refs as `list` saw them (notes included, which `list` does not report).
    private var advertised: [String: ObjectID] = [:]

    static let notesRef = ProvenanceNote.notesRef

    public init(context: HelperContext, innerURL: String) {
        self.context = context
        self.innerURL = innerURL
    }

    public func list(forPush: Bool, options: HelperOptions) throws -> ListedRefs {
        let result = try ChildProcess.run(["git", "ls-remote", "--symref", innerURL], context: context)
        guard result.status == 0 else {
            throw RemoteError.process(command: "git ls-remote \(innerURL)", status: result.status, stderr: result.stderr)
        }
        var listed = ListedRefs()
        for line in result.stdout.split(separator: "\n") {
            let fields = line.split(separator: "\t", maxSplits: 1).map(String.init)
            guard fields.count == 2 else { continue }
            if fields[0].hasPrefix("ref: ") {
                if fields[1] == "HEAD" { listed.head = String(fields[0].dropFirst(5)) }
                continue
            }
            guard let id = ObjectID(hex: fields[0]), fields[1] != "HEAD", !fields[1].hasSuffix("^{}") else { continue }
            advertised[fields[1]] = id
            if fields[1] == Self.notesRef { continue }  // notes travel on their own (merged, never overwritten)
            listed.refs.append((fields[1], id))
        }
        return listed
    }

    /// git's own fetch already checked what it received, so nothing is claimed here.
    public func fetch(_ wants: [(id: ObjectID, name: String)], options: HelperOptions) throws -> FetchReport {
        let repository = try context.repository()
        var specs = wants.map(\.id.hex)
        // Remote notes ride along in the same fetch when they changed since we last saw them.
        let remoteNotes = advertised[Self.notesRef]
        let trackedNotes = try? repository.referenceTarget(context.notesTrackingRef)
        if let remoteNotes, remoteNotes != trackedNotes {
            specs.append("+\(Self.notesRef):\(context.notesTrackingRef)")
        }
        var arguments = ["git", "fetch", "--no-tags", "--no-write-fetch-head", "--no-auto-gc"]
        arguments.append(options.verbosity == 0 ? "--quiet" : (options.progress ? "--progress" : "--no-progress"))
        let result = try ChildProcess.run(arguments + [innerURL] + specs, context: context, passStderr: options.verbosity > 0)
        guard result.status == 0 else {
            throw RemoteError.process(command: "git fetch \(innerURL)", status: result.status, stderr: result.stderr)
        }
        try repository.refreshObjects()
        if remoteNotes != nil { try mergeNotes(repository) }
        try ArtifactHooks(context: context).afterFetch(wants.map(\.id), repository: repository)
        return FetchReport()
    }

    public func push(_ commands: [PushCommand], options: HelperOptions) throws -> [PushOutcome] {
        let repository = try context.repository()
        var updates: [ArtifactHooks.Update] = []
        for command in commands {
            let local = try command.source.map { source throws(RemoteError) in try resolve(source, in: repository) }
            updates.append(.init(localRef: command.source ?? "(delete)", localID: local, remoteRef: command.destination,
                                 remoteID: advertised[command.destination]))
        }
        if !options.dryRun {
            do {
                try ArtifactHooks(context: context).beforePush(updates.filter { $0.localID != nil }, repository: repository)
            } catch {
                context.log("error: \(error)")
                return commands.map { .rejected(ref: $0.destination, reason: "artifact upload failed") }
            }
        }
        var arguments = ["git", "push", "--porcelain", "--no-verify"]
        if options.dryRun { arguments.append("--dry-run") }
        if options.atomic { arguments.append("--atomic") }
        if options.force { arguments.append("--force") }
        // Never --quiet: it silences the porcelain report we read.
        arguments.append(options.progress && options.verbosity > 0 ? "--progress" : "--no-progress")
        let specs = commands.map { ($0.force ? "+" : "") + ($0.source ?? "") + ":" + $0.destination }
        let result = try ChildProcess.run(arguments + [innerURL] + specs, context: context)
        var outcomes = Self.parsePorcelain(result.stdout, commands: commands)
        if outcomes.isEmpty {
            let why = result.stderr.split(separator: "\n").last.map(String.init) ?? "git push failed"
            context.log(result.stderr.trimmingCharacters(in: .newlines))
            outcomes = commands.map { .rejected(ref: $0.destination, reason: why.replacingOccurrences(of: "\n", with: " ")) }
        }
        if !options.dryRun, outcomes.contains(where: { if case .ok = $0 { return true } else { return false } }) {
            do { try pushNotes(repository, verbosity: options.verbosity) } catch {
                context.log("warning: provenance notes were not pushed: \(error) (retry with 'git anvcs push --notes-only')")
            }
        }
        return outcomes
    }

    /// `git push --porcelain` prints `<flag>\t<from>:<to>\t<summary>` per ref; `!` is a rejection
    /// whose reason is in parentheses ("fetch first", "non-fast-forward", "stale info", ...).
    static func parsePorcelain(_ text: String, commands: [PushCommand]) -> [PushOutcome] {
        var byRef: [String: PushOutcome] = [:]
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard fields.count >= 3, fields[0].count == 1, let colon = fields[1].lastIndex(of: ":") else { continue }
            let ref = String(fields[1][fields[1].index(after: colon)...])
            if fields[0] == "!" {
                var reason = fields[2]
                if let open = reason.firstIndex(of: "("), let close = reason.lastIndex(of: ")"), open < close {
                    reason = String(reason[reason.index(after: open)..<close])
                }
                byRef[ref] = .rejected(ref: ref, reason: reason)
            } else {
                byRef[ref] = .ok(ref: ref, forced: fields[0] == "+")
            }
        }
        guard !byRef.isEmpty else { return [] }
        return commands.map { byRef[$0.destination] ?? .rejected(ref: $0.destination, reason: "not reported by git push") }
    }

    private func resolve(_ source: String, in repository: Repository) throws(RemoteError) -> ObjectID {
        if let id = ObjectID(hex: source) { return id }
        do {
            if let id = try repository.referenceTarget(source) { return id }
            return try repository.resolveCommit(source)
        } catch { throw .git(error) }
    }

    private func mergeNotes(_ repository: Repository) throws {
        let store = ProvenanceStore(repository: repository)
        let outcome = try NotesSync.merge(from: context.notesTrackingRef, into: store, now: Int64(Date.now.timeIntervalSince1970))
        if case .merged(let added, let merged) = outcome {
            context.debug("notes: \(added) added, \(merged) merged from \(context.remoteName)")
        }
    }

    /// Pushes the local notes as a fast-forward; when another pusher got there first, fetches
    /// theirs, merges field by field and tries again (backoff with full jitter).
    private func pushNotes(_ repository: Repository, verbosity: Int, maxAttempts: Int = 40) throws {
        guard let local = try repository.referenceTarget(Self.notesRef) else { return }
        if let remote = advertised[Self.notesRef], remote == local { return }
        var delay = 0.02
        for attempt in 1...maxAttempts {
            let result = try ChildProcess.run(["git", "push", "--porcelain", "--no-progress", "--no-verify", innerURL,
                                               "\(Self.notesRef):\(Self.notesRef)"], context: context)
            if result.status == 0 { return }
            let text = result.stdout + result.stderr
            let retryable = ["rejected", "fetch first", "non-fast-forward", "cannot lock ref", "failed to update ref",
                             "stale info", "incorrect old value"].contains { text.contains($0) }
            guard retryable else {
                throw RemoteError.process(command: "git push \(innerURL) notes", status: result.status, stderr: result.stderr)
            }
            context.debug("notes push rejected (attempt \(attempt)); merging and retrying")
            let fetched = try ChildProcess.run(["git", "fetch", "--quiet", "--no-tags", "--no-write-fetch-head", innerURL,
                                                "+\(Self.notesRef):\(context.notesTrackingRef)"], context: context)
            guard fetched.status == 0 else {
                throw RemoteError.process(command: "git fetch \(innerURL) notes", status: fetched.status, stderr: fetched.stderr)
            }
            try repository.refreshObjects()
            try mergeNotes(repository)
            usleep(UInt32(Double.random(in: 0...delay) * 1_000_000))
            delay = min(delay * 2, 1.0)
        }
        throw RemoteError.contention(location: innerURL, attempts: maxAttempts)
    }
}

import Foundation
