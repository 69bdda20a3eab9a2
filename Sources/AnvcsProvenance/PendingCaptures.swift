import AnvcsGit
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The hand-off between the post-commit hook and the notes ref.
///
/// The hook script, with shell built-ins only (git does not wait for a process start), writes
/// the variables capture reads to `<state>/pending/<commit>.env`, then creates the marker
/// `<commit>`. A capture made in Swift (sync mode) is saved as `<commit>.json` instead. Whoever
/// drains next (the background drainer, a reader such as `show` or `log`, a hook) turns every
/// pending capture into notes in one update, under an advisory lock.
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
    public func environmentPath(_ commit: String) -> String { directory + "/" + commit + ".env" }
    /// Holds the pid of the running background drainer.
    public var drainerPath: String { directory + "/.drainer" }

    /// Turns a commit's captured variables into its note.
    public typealias CaptureFromEnvironment = (_ commit: ObjectID, _ environment: [String: String]) throws -> ProvenanceNote

    /// Reads `<commit>.env`: records of `NAME BYTES\n<value>\n`. Nil when malformed.
    public static func parseEnvironment(_ bytes: [UInt8]) -> [String: String]? {
        var env: [String: String] = [:]
        var i = 0
        while i < bytes.count {
            guard let nl = bytes[i...].firstIndex(of: 0x0a) else { return nil }
            let header = String(decoding: bytes[i..<nl], as: UTF8.self).split(separator: " ")
            guard header.count == 2, let length = Int(header[1]), length >= 0 else { return nil }
            let start = nl + 1, end = start + length
            guard end < bytes.count, bytes[end] == 0x0a else { return nil }
            env[String(header[0])] = String(decoding: bytes[start..<end], as: UTF8.self)
            i = end + 1
        }
        return env
    }

    /// Saves a captured note for later draining (atomic: a reader sees all of it or nothing).
    public func save(_ note: ProvenanceNote, commit: String) throws {
        try AtomicFile.write(note.text, to: capturePath(commit))
    }

    /// Whether a marker or a saved capture waits (an `.env` still being written does not count).
    public var hasPending: Bool {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).contains {
            !$0.hasPrefix(".") && !$0.hasSuffix(".env")
        }
    }

    /// Moves every ready capture into the notes ref. Waits up to `wait` seconds for markers
    /// whose capture has not been written yet. Returns the number of notes written.
    @discardableResult
    public func drain(into store: ProvenanceStore, now: Int64, wait: TimeInterval = 3, mirror: Bool = true,
                      capture: CaptureFromEnvironment? = nil) throws -> Int {
        guard hasPending else { return 0 }
        return try withLock {
            let deadline = Date().addingTimeInterval(wait)
            var total = 0
            while true {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
                var notes: [ObjectID: ProvenanceNote] = [:]
                var done: [String] = []
                var waiting = false
                var failures: [String] = []
                for name in names where !name.hasPrefix(".") {
                    if name.hasSuffix(".env") {
                        let commit = String(name.dropLast(4))
                        // The marker is created after the .env is complete: without it, still being
                        // written, or left by a hook that died (removed once stale).
                        guard names.contains(commit), let capture, let id = ObjectID(hex: commit) else {
                            let path = directory + "/" + name
                            let age = (try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date)
                                .map { Date().timeIntervalSince($0) } ?? 0
                            if age > staleAfter { done.append(path) }
                            continue
                        }
                        let path = directory + "/" + name
                        if notes[id] == nil, let data = FileManager.default.contents(atPath: path),
                           let env = PendingCaptures.parseEnvironment(Array(data)) {
                            do { notes[id] = try capture(id, env) } catch { failures.append("\(commit.prefix(7)): \(error)") }
                        } else if notes[id] == nil {
                            failures.append("\(commit.prefix(7)): unreadable captured environment")
                        }
                        done.append(path)
                        done.append(directory + "/" + commit)
                    } else if name.hasSuffix(".json") {
                        let commit = String(name.dropLast(5))
                        let path = directory + "/" + name
                        if let id = ObjectID(hex: commit), let data = FileManager.default.contents(atPath: path),
                           let note = try? ProvenanceNote.parse(String(decoding: data, as: UTF8.self)) {
                            notes[id] = note
                        }
                        done.append(path)
                        done.append(directory + "/" + commit)
                    } else if !names.contains(name + ".json") && !names.contains(name + ".env") {
                        let path = directory + "/" + name
                        let age = (try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date)
                            .map { Date().timeIntervalSince($0) } ?? .infinity
                        if age > staleAfter || ObjectID(hex: name) == nil { done.append(path) } else { waiting = true }
                    }
                }
                if !notes.isEmpty { total += try store.record(notes, now: now, mirror: mirror) }
                for path in done { try? FileManager.default.removeItem(atPath: path) }
                if !failures.isEmpty { throw PendingError(failures: failures) }
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

/// Captures that could not become notes (their commits keep empty metadata).
public struct PendingError: Error, CustomStringConvertible {
    public let failures: [String]
    public var description: String { "could not record provenance for " + failures.joined(separator: "; ") }
}
