import AnvcsGit

/// Merges a notes ref fetched from elsewhere (`refs/notes/anvcs-remotes/<remote>`) into the
/// local `refs/notes/anvcs`, never dropping a note: notes only one side has are taken as they
/// are, notes both sides changed are merged field by field (`NoteMerge`). The result is a merge
/// commit with both tips as parents, so the local ref can be pushed as a fast-forward.
public enum NotesSync {
    public enum Outcome: Sendable, Equatable {
        case upToDate
        case fastForward
        /// A merge commit: `added` notes only the other side had, `merged` notes both changed.
        case merged(added: Int, merged: Int)
    }

    public static func merge(from sourceRef: String, into store: ProvenanceStore, now: Int64) throws(GitError) -> Outcome {
        let repository = store.repository
        var attempt = 0
        while true {
            attempt += 1
            guard let theirs = try repository.referenceTarget(sourceRef) else { return .upToDate }
            let ours = try repository.referenceTarget(store.notesRef)
            do throws(GitError) {
                guard let ours else {
                    try repository.updateReference(store.notesRef, to: theirs, expected: nil, message: "notes: take \(sourceRef)")
                    return .fastForward
                }
                if ours == theirs { return .upToDate }
                if try repository.isAncestor(theirs, of: ours) { return .upToDate }
                if try repository.isAncestor(ours, of: theirs) {
                    try repository.updateReference(store.notesRef, to: theirs, expected: ours, message: "notes: fast-forward to \(sourceRef)")
                    return .fastForward
                }
                var local: [ObjectID: ObjectID] = [:]
                for e in try repository.noteEntries(ref: store.notesRef) { local[e.annotated] = e.blob }
                var changes: [(object: ObjectID, text: String)] = []
                var added = 0, merged = 0
                for e in try repository.noteEntries(ref: sourceRef).sorted(by: { $0.annotated < $1.annotated }) {
                    let remoteText = String(decoding: try repository.blob(e.blob), as: UTF8.self)
                    guard let localBlob = local[e.annotated] else {
                        changes.append((e.annotated, remoteText))
                        added += 1
                        continue
                    }
                    if localBlob == e.blob { continue }
                    let localText = String(decoding: try repository.blob(localBlob), as: UTF8.self)
                    let text = mergeTexts(local: localText, remote: remoteText)
                    if text != localText {
                        changes.append((e.annotated, text))
                        merged += 1
                    }
                }
                let signature = repository.defaultSignature(now: now)
                let tree = try repository.commit(try repository.buildNotes(base: ours, changes: changes, signature: signature) ?? ours).tree
                let commit = try repository.createCommit(tree: tree, parents: [ours, theirs],
                                                         message: "Notes merged by 'git anvcs' from \(sourceRef)\n", signature: signature)
                try repository.updateReference(store.notesRef, to: commit, expected: ours, message: "notes: merge \(sourceRef)")
                return .merged(added: added, merged: merged)
            } catch where (error.code == .modified || error.code == .exists) && attempt < 32 {
                continue  // a local writer moved the notes ref meanwhile: merge again on its tip
            }
        }
    }

    /// Two versions of one commit's note. Valid JSON merges field by field; a side that is not
    /// JSON is kept verbatim inside the result (`unparsed_notes`) rather than lost.
    public static func mergeTexts(local: String, remote: String) -> String {
        let l = try? ProvenanceNote.parse(local)
        let r = try? ProvenanceNote.parse(remote)
        switch (l, r) {
        case let (l?, r?):
            return ProvenanceNote(json: NoteMerge.merge(l.json, r.json).merged).text
        case (let l?, nil):
            var n = l
            n.json["unparsed_notes"] = .array((n.json["unparsed_notes"]?.arrayValue ?? []) + [.string(remote)])
            return n.text
        case (nil, let r?):
            var n = r
            n.json["unparsed_notes"] = .array((n.json["unparsed_notes"]?.arrayValue ?? []) + [.string(local)])
            return n.text
        case (nil, nil):
            return local.hasSuffix("\n") ? local + remote : local + "\n" + remote
        }
    }

    /// Remote notes refs that `git fetch` filled (`refs/notes/anvcs-remotes/*`).
    public static func remoteNotesRefs(_ repository: Repository) throws(GitError) -> [String] {
        try repository.referenceNames(matching: "refs/notes/anvcs-remotes/*")
    }
}
