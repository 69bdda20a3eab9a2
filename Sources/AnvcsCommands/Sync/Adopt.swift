import AnvcsGit
import AnvcsProvenance
import ArgumentParser
import Foundation

/// `git anvcs adopt <commit> --from <range>`: give a forge's squash commit the provenance of
/// the commits it squashed.
struct Adopt: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "adopt", abstract: "Attach the provenance of a range of commits to a commit made from them (a forge's squash merge).")

    @Argument(help: "The commit that replaced the range (for example the squash commit on main).")
    var commit: String
    @Option(help: "The commits it was made from, as a range (base..feature) or a list of revisions.")
    var from: [String]

    func run() throws {
        let context = Context()
        let repository = try context.repository()
        let store = ProvenanceStore(repository: repository)
        context.settlePending(store)
        let target: ObjectID
        do { target = try repository.resolveCommit(commit) } catch { throw Failure("bad revision '\(commit)'") }
        var include: [ObjectID] = [], exclude: [ObjectID] = []
        for spec in from {
            if let r = spec.range(of: "..") {
                do {
                    exclude.append(try repository.resolveCommit(String(spec[..<r.lowerBound])))
                    include.append(try repository.resolveCommit(String(spec[r.upperBound...])))
                } catch { throw Failure("bad range '\(spec)'", hint: "give base..tip, like main..feature") }
            } else {
                do { include.append(try repository.resolveCommit(spec)) } catch { throw Failure("bad revision '\(spec)'") }
            }
        }
        var sources: [ObjectID] = []
        if exclude.isEmpty { sources = include } else {
            try repository.walk(include: include, exclude: exclude, order: .topological) { sources.append($0); return true }
        }
        guard !sources.isEmpty else { throw Failure("the range \(from.joined(separator: " ")) holds no commits") }
        if try Adoption.adopt(target, from: sources.reversed(), kind: "squash-merge", store: store, now: context.now) {
            print("\(target.short) adopted the provenance of \(sources.count) commit\(sources.count == 1 ? "" : "s")")
        } else {
            throw Failure("none of the \(sources.count) commits in \(from.joined(separator: " ")) has provenance; nothing to adopt")
        }
    }
}

/// After a fetch: a new commit on the remote whose patch equals a local branch's combined
/// patch is that branch squash-merged by a forge, and adopts the branch's provenance.
enum SquashDetection {
    static let maxCandidates = 200

    static func run(context: Context, remote: String, previousTips: Set<ObjectID>) throws {
        let repository = try context.repository()
        let store = ProvenanceStore(repository: repository)
        let remoteTips = try repository.referenceTips(globs: ["refs/remotes/\(remote)/*"]).map(\.commit)
        var candidates: [AnvcsGit.Commit] = []
        try repository.walk(include: remoteTips, exclude: Array(previousTips), order: .time) { id in
            let c = try repository.commit(id)
            if c.parents.count == 1, case .none = try store.lookup(id) { candidates.append(c) }
            return candidates.count < maxCandidates
        }
        guard !candidates.isEmpty else { return }
        var candidatePatch: [String: ObjectID] = [:]
        for c in candidates {
            if let id = try patchID(from: c.parents[0].hex, to: c.id.hex, context: context) { candidatePatch[id] = c.id }
        }
        for (name, tip) in try repository.referenceTips(globs: ["refs/heads/*"]) {
            for c in candidates {
                // A branch whose tip the candidate contains was merged, not squashed.
                if try repository.isAncestor(tip, of: c.id) { continue }
                guard let base = try repository.mergeBase(tip, c.parents[0]), base != tip else { continue }
                guard let patch = try patchID(from: base.hex, to: tip.hex, context: context), let squash = candidatePatch[patch], squash == c.id else { continue }
                var sources: [ObjectID] = []
                try repository.walk(include: [tip], exclude: [base], order: .topological) { sources.append($0); return true }
                if try Adoption.adopt(c.id, from: sources.reversed(), kind: "squash-merge", store: store, now: context.now) {
                    Terminal.note("\(c.id.short) on \(remote) is \(name.replacingOccurrences(of: "refs/heads/", with: "")) squash-merged: it adopted the provenance of \(sources.count) commit\(sources.count == 1 ? "" : "s")")
                }
                break
            }
        }
    }

    /// git's stable patch id of the diff between two commits (line numbers and whitespace ignored).
    static func patchID(from a: String, to b: String, context: Context) throws -> String? {
        let r = try Subprocess.run(["sh", "-c", "git diff --no-ext-diff --no-color \"$0\" \"$1\" | git patch-id --stable", a, b], environment: context.environment)
        guard r.status == 0 else { return nil }
        return r.stdout.split(separator: " ").first.map(String.init)
    }
}
