import CLibgit2

/// One entry of a notes reference: the annotated object and the blob holding its note.
public struct NoteEntry: Sendable, Hashable {
    public let annotated: ObjectID
    public let blob: ObjectID
}

extension Repository {
    /// The note attached to `object` under `ref`, or nil when there is none.
    public func note(for object: ObjectID, ref: String) throws(GitError) -> String? {
        var raw = object.raw
        var note: OpaquePointer?
        let rc = git_note_read(&note, pointer, ref, &raw)
        if rc == GIT_ENOTFOUND.rawValue { return nil }
        try check("git_note_read(\(ref), \(object.short))", rc)
        defer { git_note_free(note) }
        return git_note_message(note).map { String(cString: $0) }
    }

    /// Every note under `ref` (annotated object and note blob), in libgit2's order.
    /// A missing notes reference is simply empty.
    public func noteEntries(ref: String) throws(GitError) -> [NoteEntry] {
        final class Box { var entries: [NoteEntry] = [] }
        let box = Box()
        let rc = withExtendedLifetime(box) {
            git_note_foreach(pointer, ref, { blob, annotated, payload in
                let box = Unmanaged<Box>.fromOpaque(payload!).takeUnretainedValue()
                box.entries.append(NoteEntry(annotated: ObjectID(annotated!), blob: ObjectID(blob!)))
                return 0
            }, Unmanaged.passUnretained(box).toOpaque())
        }
        if rc == GIT_ENOTFOUND.rawValue { return [] }
        try check("git_note_foreach(\(ref))", rc)
        return box.entries
    }

    /// Changes the notes of several objects in one compare-and-swap update of `ref`.
    ///
    /// `transform` receives each object and its current note (read from the tip this attempt
    /// builds on) and returns the new note, or nil to leave it as it is. When another writer
    /// moves `ref` first, the whole update is recomputed on the new tip, so concurrent writers
    /// never lose each other's notes. Returns the number of notes written.
    @discardableResult
    public func updateNotes(
        ref: String, objects: [ObjectID], signature: Signature, message: String = "Notes added by 'git anvcs'",
        maxAttempts: Int = 64, transform: (ObjectID, String?) -> String?
    ) throws(GitError) -> Int {
        var attempt = 0
        while true {
            attempt += 1
            let tip = try referenceTarget(ref)
            var parent: OpaquePointer?
            if var tipRaw = tip?.raw {
                try check("git_commit_lookup(\(ref))", git_commit_lookup(&parent, pointer, &tipRaw))
            }
            var written = 0
            var head: git_oid? = nil
            do {
                defer { git_commit_free(parent) }
                try signature.withGitSignature { (sig) throws(GitError) in
                    for object in objects {
                        var raw = object.raw
                        var current: String?
                        if let parent {
                            var note: OpaquePointer?
                            let rc = git_note_commit_read(&note, pointer, parent, &raw)
                            if rc != GIT_ENOTFOUND.rawValue {
                                try check("git_note_commit_read(\(object.short))", rc)
                                current = git_note_message(note).map { String(cString: $0) }
                                git_note_free(note)
                            }
                        }
                        guard let text = transform(object, current), text != current else { continue }
                        var newCommit = git_oid(), blob = git_oid()
                        try check("git_note_commit_create(\(object.short))",
                                  git_note_commit_create(&newCommit, &blob, pointer, parent, sig, sig, &raw, text, 1))
                        git_commit_free(parent)
                        parent = nil
                        try check("git_commit_lookup(notes)", git_commit_lookup(&parent, pointer, &newCommit))
                        head = newCommit
                        written += 1
                    }
                }
            }
            guard let head else { return 0 }
            do {
                try updateReference(ref, to: ObjectID(head), expected: tip, message: message)
                return written
            } catch where (error.code == .modified || error.code == .exists || error.code == .locked) && attempt < maxAttempts {
                // Another writer moved the notes ref: back off a little (with jitter) and rebuild.
                let micros = UInt32(min(200_000, 1_000 << min(attempt, 8))) / 2 + UInt32.random(in: 0...UInt32(min(100_000, 1_000 << min(attempt, 8))))
                usleepCompat(micros)
            }
        }
    }

    /// Builds notes commits on top of `base` (a notes commit, or nil for none) that set each
    /// object's note, without moving any reference. Returns the last commit, or nil when
    /// `changes` is empty.
    public func buildNotes(base: ObjectID?, changes: [(object: ObjectID, text: String)], signature: Signature) throws(GitError) -> ObjectID? {
        guard !changes.isEmpty else { return nil }
        var parent: OpaquePointer?
        if var raw = base?.raw {
            try check("git_commit_lookup(notes)", git_commit_lookup(&parent, pointer, &raw))
        }
        defer { git_commit_free(parent) }
        var head: ObjectID?
        try signature.withGitSignature { (sig) throws(GitError) in
            for change in changes {
                var raw = change.object.raw
                var newCommit = git_oid(), blob = git_oid()
                try check("git_note_commit_create(\(change.object.short))",
                          git_note_commit_create(&newCommit, &blob, pointer, parent, sig, sig, &raw, change.text, 1))
                git_commit_free(parent)
                parent = nil
                try check("git_commit_lookup(notes)", git_commit_lookup(&parent, pointer, &newCommit))
                head = ObjectID(newCommit)
            }
        }
        return head
    }

    /// Removes the note of `object` under `ref` (compare-and-swap, like `updateNotes`).
    public func removeNote(for object: ObjectID, ref: String, signature: Signature) throws(GitError) {
        while true {
            guard let tip = try referenceTarget(ref) else { return }
            var tipRaw = tip.raw, raw = object.raw
            var parent: OpaquePointer?
            try check("git_commit_lookup(\(ref))", git_commit_lookup(&parent, pointer, &tipRaw))
            defer { git_commit_free(parent) }
            var newCommit = git_oid()
            let rc = try signature.withGitSignature { (sig) throws(GitError) in
                git_note_commit_remove(&newCommit, pointer, parent, sig, sig, &raw)
            }
            if rc == GIT_ENOTFOUND.rawValue { return }
            try check("git_note_commit_remove(\(object.short))", rc)
            do {
                try updateReference(ref, to: ObjectID(newCommit), expected: tip, message: "Notes removed by 'git anvcs'")
                return
            } catch where error.code == .modified || error.code == .locked {
                continue
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
func usleepCompat(_ micros: UInt32) { _ = usleep(micros) }

/// A note that differs between two versions of a notes reference: `blob` is the new note's
/// blob, or nil when the note was removed.
public struct NoteChange: Sendable, Hashable {
    public let annotated: ObjectID
    public let blob: ObjectID?

    public init(annotated: ObjectID, blob: ObjectID?) {
        self.annotated = annotated
        self.blob = blob
    }
}

extension Repository {
    /// The notes that differ between two commits of a notes reference (`old` nil: every note of
    /// `new`). The two trees are compared entry by entry and identical subtrees (same id) are
    /// skipped, so one new note costs the same with 20 or 20,000 notes. A note whose fan-out path
    /// moved (git reorganises fan-out as notes grow) is reported once, as present with its blob.
    public func noteChanges(from old: ObjectID?, to new: ObjectID) throws(GitError) -> [NoteChange] {
        func rootTree(of commit: ObjectID) throws(GitError) -> OpaquePointer? {
            var raw = commit.raw
            var handle: OpaquePointer?
            try check("git_commit_lookup(\(commit.short))", git_commit_lookup(&handle, pointer, &raw))
            defer { git_commit_free(handle) }
            var tree: OpaquePointer?
            try check("git_commit_tree(\(commit.short))", git_commit_tree(&tree, handle))
            return tree
        }
        func subtree(_ entry: OpaquePointer) throws(GitError) -> OpaquePointer? {
            var tree: OpaquePointer?
            try check("git_tree_lookup", git_tree_lookup(&tree, pointer, git_tree_entry_id(entry)))
            return tree
        }
        var removed = Set<ObjectID>()
        var present: [ObjectID: ObjectID] = [:]
        // Every note below `tree` (a side that has no counterpart): added or removed wholesale.
        func all(_ tree: OpaquePointer?, prefix: String, added: Bool) throws(GitError) {
            guard let tree else { return }
            for i in 0..<git_tree_entrycount(tree) {
                guard let entry = git_tree_entry_byindex(tree, i) else { continue }
                try note(entry, prefix: prefix, added: added)
            }
        }
        func note(_ entry: OpaquePointer, prefix: String, added: Bool) throws(GitError) {
            let path = prefix + String(cString: git_tree_entry_name(entry))
            if git_tree_entry_type(entry) == GIT_OBJECT_TREE {
                let tree = try subtree(entry)
                defer { git_tree_free(tree) }
                try all(tree, prefix: path, added: added)
            } else if let annotated = ObjectID(hex: path) {
                if added { present[annotated] = ObjectID(git_tree_entry_id(entry).pointee) } else { removed.insert(annotated) }
            }
        }
        // Both trees are sorted by name: a merge join, descending only where ids differ.
        func compare(_ a: OpaquePointer?, _ b: OpaquePointer?, prefix: String) throws(GitError) {
            let countA = a.map { git_tree_entrycount($0) } ?? 0, countB = b.map { git_tree_entrycount($0) } ?? 0
            var i = 0, j = 0
            while i < countA || j < countB {
                let ea = i < countA ? git_tree_entry_byindex(a, i) : nil
                let eb = j < countB ? git_tree_entry_byindex(b, j) : nil
                let order: Int32
                if let ea, let eb { order = strcmp(git_tree_entry_name(ea), git_tree_entry_name(eb)) } else { order = ea == nil ? 1 : -1 }
                if order < 0, let ea { try note(ea, prefix: prefix, added: false); i += 1; continue }
                if order > 0, let eb { try note(eb, prefix: prefix, added: true); j += 1; continue }
                i += 1; j += 1
                guard let ea, let eb, git_oid_equal(git_tree_entry_id(ea), git_tree_entry_id(eb)) == 0 else { continue }
                let name = prefix + String(cString: git_tree_entry_name(eb))
                let treeA = git_tree_entry_type(ea) == GIT_OBJECT_TREE, treeB = git_tree_entry_type(eb) == GIT_OBJECT_TREE
                if treeA && treeB {
                    let sa = try subtree(ea), sb = try subtree(eb)
                    defer { git_tree_free(sa); git_tree_free(sb) }
                    try compare(sa, sb, prefix: name)
                } else {
                    try note(ea, prefix: prefix, added: false)
                    try note(eb, prefix: prefix, added: true)
                }
            }
        }
        let newTree = try rootTree(of: new)
        defer { git_tree_free(newTree) }
        var oldTree: OpaquePointer?
        if let old { oldTree = try rootTree(of: old) }
        defer { git_tree_free(oldTree) }
        try compare(oldTree, newTree, prefix: "")
        var out = present.map { NoteChange(annotated: $0.key, blob: $0.value) }
        for id in removed where present[id] == nil { out.append(NoteChange(annotated: id, blob: nil)) }
        return out
    }
}
