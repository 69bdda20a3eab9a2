import AnvcsSQLite
import AnvcsStorage
import Foundation

/// One artifact waiting to reach the blob store: the content of `path` as committed in `commit`.
public struct QueuedUpload: Sendable, Equatable {
    public var sha256: String
    public var key: String
    public var path: String
    public var commit: String
    public var size: UInt64
    public var attempts: Int
    /// Seconds since the epoch before which the background drain leaves it alone (backoff).
    public var nextAttempt: Int64
    public var lastError: String?
}

/// The durable upload queue and the local index of known pins, in `<state>/artifacts.sqlite`.
///
/// Nothing here needs the network: a commit only ever adds rows, and whoever drains (the
/// background drainer, `retry-uploads`, pre-push) removes a row once its pin is recorded.
/// A row survives crashes, reboots and a store that is down for days.
public final class UploadQueue {
    let database: Database
    public let path: String

    public init(stateDirectory: String) throws(ArtifactError) {
        path = stateDirectory + "/artifacts.sqlite"
        do {
            try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true)
        } catch {
            throw .io("cannot create \(stateDirectory): \(error.localizedDescription)")
        }
        do {
            database = try Database(path: path)
            try database.execute("""
                PRAGMA journal_mode=WAL;
                CREATE TABLE IF NOT EXISTS uploads(
                  sha256 TEXT NOT NULL, key TEXT NOT NULL, path TEXT NOT NULL, commit_id TEXT NOT NULL,
                  size INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_attempt INTEGER NOT NULL DEFAULT 0,
                  last_error TEXT, queued_at INTEGER NOT NULL,
                  PRIMARY KEY(sha256, key, commit_id));
                CREATE TABLE IF NOT EXISTS pins(
                  sha256 TEXT NOT NULL, key TEXT NOT NULL, storage TEXT NOT NULL, version_id TEXT NOT NULL,
                  bucket TEXT, region TEXT, type TEXT NOT NULL, size INTEGER NOT NULL, path TEXT,
                  PRIMARY KEY(sha256, key, storage, version_id));
                CREATE TABLE IF NOT EXISTS scanned(commit_id TEXT PRIMARY KEY);
                CREATE TABLE IF NOT EXISTS note_blobs(blob TEXT PRIMARY KEY);
                CREATE TABLE IF NOT EXISTS meta(name TEXT PRIMARY KEY, value TEXT NOT NULL);
                """)
        } catch {
            throw .io("cannot open the upload queue \(path): \(error)")
        }
    }

    func sql<T>(_ what: String, _ body: () throws -> T) throws(ArtifactError) -> T {
        do { return try body() } catch { throw .io("upload queue (\(path)): cannot \(what): \(error)") }
    }

    // MARK: uploads

    /// Adds uploads (an upload already queued for the same content, key and commit stays as is).
    public func enqueue(_ items: [(commit: String, path: String, pointer: ArtifactPointer)], now: Int64) throws(ArtifactError) {
        guard !items.isEmpty else { return }
        try sql("queue uploads") {
            try database.transaction {
                let insert = try database.prepare("""
                    INSERT OR IGNORE INTO uploads(sha256, key, path, commit_id, size, queued_at) VALUES(?, ?, ?, ?, ?, ?)
                    """)
                for item in items {
                    try insert.run([.text(item.pointer.sha256), .text(item.pointer.key), .text(item.path), .text(item.commit),
                                    .integer(Int64(item.pointer.size)), .integer(now)])
                }
            }
        }
    }

    /// Queued uploads, oldest first; with `dueAt`, only those whose backoff has passed.
    public func pending(dueAt: Int64? = nil) throws(ArtifactError) -> [QueuedUpload] {
        try sql("read queued uploads") {
            let statement = try database.prepare("""
                SELECT sha256, key, path, commit_id, size, attempts, next_attempt, last_error FROM uploads
                WHERE next_attempt <= ? ORDER BY queued_at, path
                """)
            return try statement.rows([.integer(dueAt ?? Int64.max)]) { row in
                QueuedUpload(sha256: row.text(0) ?? "", key: row.text(1) ?? "", path: row.text(2) ?? "", commit: row.text(3) ?? "",
                             size: UInt64(row.int(4)), attempts: Int(row.int(5)), nextAttempt: row.int(6), lastError: row.text(7))
            }
        }
    }

    /// Removes uploads, in one transaction.
    public func remove(_ items: [QueuedUpload]) throws(ArtifactError) {
        guard !items.isEmpty else { return }
        try sql("remove uploads") {
            try database.transaction {
                let delete = try database.prepare("DELETE FROM uploads WHERE sha256 = ? AND key = ? AND commit_id = ?")
                for item in items { try delete.run([.text(item.sha256), .text(item.key), .text(item.commit)]) }
            }
        }
    }

    /// Records failed attempts, in one transaction; the next of each waits `backoff(attempts)` seconds.
    public func recordFailures(_ failures: [(upload: QueuedUpload, reason: String)], now: Int64) throws(ArtifactError) {
        guard !failures.isEmpty else { return }
        try sql("record failed uploads") {
            try database.transaction {
                let update = try database.prepare(
                    "UPDATE uploads SET attempts = ?, next_attempt = ?, last_error = ? WHERE sha256 = ? AND key = ? AND commit_id = ?")
                for (item, reason) in failures {
                    let attempts = item.attempts + 1
                    try update.run([.integer(Int64(attempts)), .integer(now + UploadQueue.backoff(attempts: attempts)), .text(reason),
                                    .text(item.sha256), .text(item.key), .text(item.commit)])
                }
            }
        }
    }

    /// Seconds to wait after `attempts` failures: 2, 4, 8 ... up to an hour.
    public static func backoff(attempts: Int) -> Int64 { Int64(min(3600, 1 << min(attempts, 12))) }

    // MARK: scanned commits

    /// Commits of `candidates` not scanned for artifacts yet.
    public func unscanned(_ candidates: [String]) throws(ArtifactError) -> [String] {
        try sql("read scanned commits") {
            let query = try database.prepare("SELECT 1 FROM scanned WHERE commit_id = ?")
            return try candidates.filter { try query.rows([.text($0)]) { _ in true }.isEmpty }
        }
    }

    /// Queues what scanning `commits` found and marks them scanned, in one transaction (a scan
    /// that failed leaves them unscanned, to be tried again).
    public func recordScan(of commits: [String], found items: [(commit: String, path: String, pointer: ArtifactPointer)], now: Int64) throws(ArtifactError) {
        try sql("record scanned commits") {
            try database.transaction {
                let mark = try database.prepare("INSERT OR IGNORE INTO scanned(commit_id) VALUES(?)")
                for commit in commits { try mark.run([.text(commit)]) }
                let insert = try database.prepare("""
                    INSERT OR IGNORE INTO uploads(sha256, key, path, commit_id, size, queued_at) VALUES(?, ?, ?, ?, ?, ?)
                    """)
                for item in items {
                    try insert.run([.text(item.pointer.sha256), .text(item.pointer.key), .text(item.path), .text(item.commit),
                                    .integer(Int64(item.pointer.size)), .integer(now)])
                }
            }
        }
    }

    // MARK: pins

    /// Remembers pins (from uploads or from notes) so hydration finds them without scanning notes.
    public func remember(_ pins: [ArtifactPin]) throws(ArtifactError) {
        guard !pins.isEmpty else { return }
        try sql("remember pins") {
            try database.transaction {
                let insert = try database.prepare("""
                    INSERT OR IGNORE INTO pins(sha256, key, storage, version_id, bucket, region, type, size, path)
                    VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
                for p in pins {
                    try insert.run([.text(p.sha256), .text(p.key), .text(p.storage), .text(p.versionId),
                                    p.bucket.map(SQLiteValue.text) ?? .null, p.region.map(SQLiteValue.text) ?? .null,
                                    .text(p.type), .integer(Int64(p.size)), p.path.map(SQLiteValue.text) ?? .null])
                }
            }
        }
    }

    /// Every known pin of the content, newest first.
    public func pins(sha256: String) throws(ArtifactError) -> [ArtifactPin] {
        try sql("read pins") {
            try database.prepare("SELECT key, storage, version_id, bucket, region, type, size, path FROM pins WHERE sha256 = ? ORDER BY rowid DESC")
                .rows([.text(sha256)]) { row in
                    ArtifactPin(type: row.text(5) ?? "blob", key: row.text(0) ?? "", storage: row.text(1) ?? "", bucket: row.text(3),
                                region: row.text(4), versionId: row.text(2) ?? "", sha256: sha256, size: UInt64(row.int(6)), path: row.text(7))
                }
        }
    }

    /// Of these note blob ids, the ones whose pins were not read into the index yet.
    public func unreadNotes(_ blobs: [String]) throws(ArtifactError) -> [String] {
        try sql("read note blobs") {
            let query = try database.prepare("SELECT 1 FROM note_blobs WHERE blob = ?")
            return try blobs.filter { try query.rows([.text($0)]) { _ in true }.isEmpty }
        }
    }

    /// Remembers the pins of newly read notes and marks the notes read, in one transaction.
    public func recordNotes(_ blobs: [String], pins: [ArtifactPin]) throws(ArtifactError) {
        try remember(pins)
        try sql("mark note blobs") {
            try database.transaction {
                let insert = try database.prepare("INSERT OR IGNORE INTO note_blobs(blob) VALUES(?)")
                for blob in blobs { try insert.run([.text(blob)]) }
            }
        }
    }

    public func value(_ name: String) throws(ArtifactError) -> String? {
        try sql("read \(name)") { try database.prepare("SELECT value FROM meta WHERE name = ?").rows([.text(name)]) { $0.text(0) }.first ?? nil }
    }

    public func setValue(_ name: String, _ value: String) throws(ArtifactError) {
        try sql("write \(name)") { try database.prepare("INSERT OR REPLACE INTO meta(name, value) VALUES(?, ?)").run([.text(name), .text(value)]) }
    }
}
