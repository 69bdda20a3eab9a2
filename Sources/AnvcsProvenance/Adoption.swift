import AnvcsGit

/// Re-attaches provenance to a commit made elsewhere from commits that had it: a forge's
/// "squash and merge" button, or a cherry-pick. The new note aggregates the old ones and says
/// where it came from (`rewritten_from`, `rewrite`).
public enum Adoption {
    /// Returns false when none of `sources` has a note (nothing to adopt).
    @discardableResult
    public static func adopt(_ target: ObjectID, from sources: [ObjectID], kind: String, store: ProvenanceStore, now: Int64) throws(GitError) -> Bool {
        var aggregated: JSONObject?
        for source in sources {
            if case .note(let n) = try store.lookup(source) {
                aggregated = aggregated.map { NoteMerge.merge($0, n.json).merged } ?? n.json
            }
        }
        guard var json = aggregated else { return false }
        if case .note(let existing) = try store.lookup(target) {
            json = NoteMerge.merge(json, existing.json).merged
        }
        json["commit_id"] = .string(target.hex)
        var from = json["rewritten_from"]?.arrayValue ?? []
        for s in sources where !from.contains(.string(s.hex)) { from.append(.string(s.hex)) }
        json["rewritten_from"] = .array(from)
        json["rewrite"] = .string(kind)
        try store.replace([target: ProvenanceNote(json: json)], now: now)
        return true
    }
}
