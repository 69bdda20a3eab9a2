import AnvcsGit
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The hand-off between the post-commit hook and the notes ref.
///
/// The hook script marks `<state>/pending/<commit>` with a shell built-in (no process start,
/// so `git commit` does not wait), then starts `git anvcs hook post-commit` in the background,
/// which writes the captured note to `<commit>.json` and drains every ready capture into the
/// notes ref in one update. Readers (`show`, `log`) drain first, waiting briefly for captures
/// whose marker exists but whose note is still being written, so they never miss a fresh commit.
public struct PendingCaptures: Sendable {
    public let directory: String
    let lockPath: String
    /// A marker older than this with no capture behind it belongs to a capture that died.
    public var staleAfter: TimeInterval = 10

    public init(stateDirectory: String) {
        directory = stateDirectory + "/pending"
        lockPath = stateDirectory + "/notes.lock"
    }

    public func markerPath(_ commit: String) -> String { directory + "/" + commit }
    public func capturePath(_ commit: String) -> String { directory + "/" + commit + ".json" }

    /// Saves a captured note for later draining (atomic: a reader sees all of it or nothing).
    public func save(_ note: ProvenanceNote, commit: String) throws {
        try AtomicFile.write(note.text, to: capturePath(commit))
    }

    public var hasPending: Bool {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).contains { !$0.hasPrefix(".") }
    }

    /// Moves every ready capture into the notes ref. Waits up to `wait` seconds for markers
    /// whose capture has not been written yet. Returns the number of notes written.
    @discardableResult
    public func drain(into store: ProvenanceStore, now: Int64, wait: TimeInterval = 3, mirror: Bool = true) throws -> Int {
        guard hasPending else { return 0 }
        return try withLock {
            let deadline = Date().addingTimeInterval(wait)
            var total = 0
            while true {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
                var notes: [ObjectID: ProvenanceNote] = [:]
                var done: [String] = []
                var waiting = false
                for name in names where !name.hasPrefix(".") {
                    if name.hasSuffix(".json") {
                        let commit = String(name.dropLast(5))
                        let path = directory + "/" + name
                        if let id = ObjectID(hex: commit), let data = FileManager.default.contents(atPath: path),
                           let note = try? ProvenanceNote.parse(String(decoding: data, as: UTF8.self)) {
                            notes[id] = note
                        }
                        done.append(path)
                        done.append(directory + "/" + commit)
                    } else if !names.contains(name + ".json") {
                        let path = directory + "/" + name
                        let age = (try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date)
                            .map { Date().timeIntervalSince($0) } ?? .infinity
                        if age > staleAfter || ObjectID(hex: name) == nil { done.append(path) } else { waiting = true }
                    }
                }
                if !notes.isEmpty { total += try store.record(notes, now: now, mirror: mirror) }
                for path in done { try? FileManager.default.removeItem(atPath: path) }
                if !waiting || Date() >= deadline { return total }
                usleep(10_000)
            }
        }
    }

    /// Serialises drains across processes with an advisory lock on `notes.lock`.
    func withLock<T>(_ body: () throws -> T) throws -> T {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let fd = open(lockPath, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return try body() }
        defer { close(fd) }
        flock(fd, LOCK_EX)
        defer { flock(fd, LOCK_UN) }
        return try body()
    }
}
