import AnvcsGit
import Foundation

/// What reading a commit's note found.
public enum NoteLookup: Sendable {
    /// No note: a commit made before ANVCS, or by someone without it. Empty metadata.
    case none
    case note(ProvenanceNote)
    /// A note that is not valid JSON (edited by hand): shown as a warning, never fatal.
    case invalid(text: String, reason: String)
}

/// Reads and writes provenance notes of one repository, and keeps their local mirrors.
public final class ProvenanceStore {
    public let repository: Repository
    public let notesRef: String
    /// `<common git dir>/anvcs`: ANVCS's own state, shared by all work trees.
    public let stateDirectory: String

    public init(repository: Repository, notesRef: String = ProvenanceNote.notesRef) {
        self.repository = repository
        self.notesRef = notesRef
        var common = repository.commonDirectory
        if common.hasSuffix("/") { common.removeLast() }
        stateDirectory = common + "/anvcs"
    }

    public func lookup(_ commit: ObjectID) throws(GitError) -> NoteLookup {
        guard let text = try repository.note(for: commit, ref: notesRef) else { return .none }
        do {
            return .note(try ProvenanceNote.parse(text))
        } catch {
            return .invalid(text: text, reason: error.description)
        }
    }

    /// Writes `notes`, merging each with the note already there (which may have been copied by
    /// an amend or rebase, or written by another machine): nothing already recorded is dropped.
    /// Concurrent writers are safe: the update is a compare-and-swap retried on the new tip.
    @discardableResult
    public func record(_ notes: [ObjectID: ProvenanceNote], now: Int64, mirror: Bool = true) throws(GitError) -> Int {
        guard !notes.isEmpty else { return 0 }
        var final: [ObjectID: ProvenanceNote] = [:]
        let written = try repository.updateNotes(
            ref: notesRef, objects: notes.keys.sorted(), signature: repository.defaultSignature(now: now)
        ) { id, current in
            guard let new = notes[id] else { return nil }
            var result = new
            if let current, let old = try? ProvenanceNote.parse(current) {
                result = ProvenanceNote(json: NoteMerge.merge(old.json, new.json).merged)
                result.json["commit_id"] = .string(id.hex)
            }
            final[id] = result
            return result.text
        }
        if mirror, let root = repository.workingDirectory {
            for (id, note) in final { writeMirror(note, commit: id, root: root) }
        }
        return written
    }

    /// Replaces a note as given, without merging (used after an explicit rewrite aggregation).
    public func replace(_ notes: [ObjectID: ProvenanceNote], now: Int64) throws(GitError) {
        try repository.updateNotes(ref: notesRef, objects: notes.keys.sorted(), signature: repository.defaultSignature(now: now)) { id, _ in
            notes[id]?.text
        }
        if let root = repository.workingDirectory {
            for (id, note) in notes { writeMirror(note, commit: id, root: root) }
        }
    }

    /// `.ai/meta/<commit>.json`: a generated, git-ignored mirror, never the source of truth.
    func writeMirror(_ note: ProvenanceNote, commit: ObjectID, root: String) {
        let path = root + ".ai/meta/\(commit.hex).json"
        try? AtomicFile.write(note.text, to: path)
    }
}
