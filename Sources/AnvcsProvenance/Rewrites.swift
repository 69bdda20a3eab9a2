import AnvcsGit

/// Keeps provenance across history rewrites reported by git's post-rewrite hook.
///
/// Git copies notes itself for amend and rebase (`notes.rewriteRef`), but when several commits
/// become one (squash, fixup) it can only concatenate them, and it records nothing about where
/// a commit came from. This folds the old notes into one JSON note per new commit, with
/// `rewritten_from` listing the commits it replaces.
public enum Rewrites {
    /// One line of post-rewrite's input: `<old> <new> [<extra>]`.
    public static func parse(_ input: String) -> [(old: ObjectID, new: ObjectID)] {
        input.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ")
            guard parts.count >= 2, let old = ObjectID(hex: parts[0]), let new = ObjectID(hex: parts[1]) else { return nil }
            return (old, new)
        }
    }

    /// Builds the aggregated note of every rewritten commit. `kind` is post-rewrite's argument
    /// (`amend` or `rebase`); a new commit made from several old ones is recorded as a squash.
    public static func apply(_ pairs: [(old: ObjectID, new: ObjectID)], kind: String, store: ProvenanceStore, now: Int64) throws(GitError) -> Int {
        var sources: [ObjectID: [ObjectID]] = [:]
        var order: [ObjectID] = []
        for (old, new) in pairs {
            if sources[new] == nil { order.append(new) }
            sources[new, default: []].append(old)
        }
        var notes: [ObjectID: ProvenanceNote] = [:]
        for new in order {
            let olds = sources[new] ?? []
            var merged: JSONObject?
            for old in olds {
                if case .note(let n) = try store.lookup(old) {
                    merged = merged.map { NoteMerge.merge($0, n.json).merged } ?? n.json
                }
            }
            if case .note(let current) = try store.lookup(new) {
                merged = merged.map { NoteMerge.merge($0, current.json).merged } ?? current.json
            }
            guard var json = merged else { continue }  // nothing to carry over
            json["commit_id"] = .string(new.hex)
            var from = json["rewritten_from"]?.arrayValue ?? []
            for old in olds where !from.contains(.string(old.hex)) { from.append(.string(old.hex)) }
            json["rewritten_from"] = .array(from)
            json["rewrite"] = .string(olds.count > 1 ? "squash" : kind)
            notes[new] = ProvenanceNote(json: json)
        }
        try store.replace(notes, now: now)
        return notes.count
    }
}
