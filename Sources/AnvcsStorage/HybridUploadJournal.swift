import Foundation

/// The durable side of `storage.mode: hybrid`: one JSON file per upload that reached only the
/// fallback, so the debt to the primary outlives the process that incurred it. Entries are
/// written to a temporary name, fsynced and renamed (a crash leaves the old state or the new,
/// never half an entry), and removed only once the primary holds the bytes.
struct HybridUploadJournal: Sendable {
    let directory: String

    struct Entry: Codable, Sendable, Equatable {
        var key: String
        /// Where the bytes were when they were uploaded; a drain reads them from the fallback
        /// when this file is gone or changed.
        var localPath: String
        var fallbackPin: ArtifactPin
        var primaryFailure: String
        /// Unix seconds.
        var queued: Int64
    }

    /// One entry per (key, fallback version): re-queuing the same upload replaces its entry.
    func path(for entry: Entry) -> String {
        directory + "/" + ContentDigest.sha256Hex(of: Array("\(entry.key)\u{0}\(entry.fallbackPin.versionId)".utf8)) + ".json"
    }

    func record(_ entry: Entry) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let bytes = Array(try encoder.encode(entry))
        let final = path(for: entry)
        let temporary = final + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StorageError.fileSystem(operation: "create", path: temporary, errno: errno) }
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                let code = errno
                close(fd); unlink(temporary)
                throw StorageError.fileSystem(operation: "write", path: temporary, errno: code)
            }
            written += n
        }
        if fsync(fd) != 0 {
            let code = errno
            close(fd); unlink(temporary)
            throw StorageError.fileSystem(operation: "fsync", path: temporary, errno: code)
        }
        close(fd)
        guard rename(temporary, final) == 0 else {
            let code = errno
            unlink(temporary)
            throw StorageError.fileSystem(operation: "rename", path: final, errno: code)
        }
        let directoryFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryFD >= 0 { fsync(directoryFD); close(directoryFD) }
    }

    /// Every readable entry, oldest first. A file that does not decode (not one of ours, or
    /// damaged by hand) is skipped rather than trusted or deleted.
    func entries() -> [Entry] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        let decoder = JSONDecoder()
        return names.filter { $0.hasSuffix(".json") }.compactMap { name -> Entry? in
            guard let data = FileManager.default.contents(atPath: directory + "/" + name) else { return nil }
            return try? decoder.decode(Entry.self, from: data)
        }.sorted { ($0.queued, $0.key) < ($1.queued, $1.key) }
    }

    func remove(_ entry: Entry) {
        unlink(path(for: entry))
    }

    /// Runs `body` holding the journal's drain lock, or returns nil at once when another process
    /// is draining (two drains would upload the same bytes twice).
    func whileDraining<T>(_ body: () -> T) -> T? {
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let fd = open(directory + "/.drain.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return body() }
        defer { close(fd) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { return nil }
        defer { flock(fd, LOCK_UN) }
        return body()
    }
}
