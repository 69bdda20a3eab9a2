import AnvcsGit
import AnvcsSQLite
import Foundation

/// A commit as the index keeps it: enough for `log`, `graph` and the API without asking git.
public struct IndexedCommit: Sendable {
    public let id: String
    public let parents: [String]
    public let author: String
    public let email: String
    public let time: Int64
    public let summary: String
    public let agent: String?
    public let model: String?
    public let testsPassed: Bool?
    /// The note's JSON text, when the commit has one.
    public let note: String?
}

/// The local SQLite index of commits and their provenance, under `<common>/anvcs/index.sqlite`.
///
/// It is a cache, never the truth: `sync()` brings it up to date from the refs and the notes
/// ref incrementally (only commits not reachable from the tips it saw last time, only notes whose
/// blob changed), and a missing, corrupt or outdated file is simply rebuilt.
public final class ProvenanceIndex {
    static let schemaVersion = "1"
    public let path: String
    let repository: Repository
    let notesRef: String
    var db: Database

    public init(repository: Repository, stateDirectory: String, notesRef: String = ProvenanceNote.notesRef) throws {
        self.repository = repository
        self.notesRef = notesRef
        path = stateDirectory + "/index.sqlite"
        try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true)
        db = try ProvenanceIndex.open(path)
    }

    /// Opens the database, replacing it when it is not a usable index of this version.
    static func open(_ path: String) throws -> Database {
        do {
            let db = try Database(path: path)
            try db.execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
            try createSchema(db)
            let version = try db.prepare("SELECT value FROM state WHERE key='schema'").rows { $0.text(0) }.first ?? nil
            if version != schemaVersion { throw SQLiteError(call: "schema", code: 11, message: "index schema \(version ?? "none")") }
            return db
        } catch let error as SQLiteError where error.isCorruption || error.call == "schema" {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
            let db = try Database(path: path)
            try db.execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
            try createSchema(db)
            return db
        }
    }

    static func createSchema(_ db: Database) throws {
        try db.execute("""
            CREATE TABLE IF NOT EXISTS commits(id TEXT PRIMARY KEY, parents TEXT NOT NULL, author TEXT NOT NULL,
                email TEXT NOT NULL, time INTEGER NOT NULL, summary TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS notes(id TEXT PRIMARY KEY, blob TEXT NOT NULL, agent TEXT, model TEXT,
                tests INTEGER, json TEXT NOT NULL);
            CREATE INDEX IF NOT EXISTS notes_agent ON notes(agent);
            CREATE INDEX IF NOT EXISTS notes_model ON notes(model);
            CREATE TABLE IF NOT EXISTS paths(id TEXT NOT NULL, path TEXT NOT NULL);
            CREATE INDEX IF NOT EXISTS paths_id ON paths(id);
            CREATE TABLE IF NOT EXISTS paths_done(id TEXT PRIMARY KEY);
            CREATE TABLE IF NOT EXISTS tips(name TEXT PRIMARY KEY, id TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS state(key TEXT PRIMARY KEY, value TEXT);
            INSERT OR IGNORE INTO state(key, value) VALUES ('schema', '\(schemaVersion)');
            """)
    }

    /// Deletes everything and indexes again from scratch (`git anvcs reindex`).
    public func rebuild() throws -> SyncReport {
        db = try ProvenanceIndex.open(path)
        try db.execute("DELETE FROM commits; DELETE FROM notes; DELETE FROM paths; DELETE FROM paths_done; DELETE FROM tips; DELETE FROM state WHERE key != 'schema';")
        return try sync()
    }

    public struct SyncReport: Sendable {
        public var commitsAdded = 0
        public var notesChanged = 0
    }

    /// Brings the index up to date. Cheap when nothing changed: one read of the ref tips and of
    /// the notes ref.
    @discardableResult
    public func sync() throws -> SyncReport {
        do {
            return try syncOnce()
        } catch let error as SQLiteError where error.isCorruption {
            // A corrupt index is never an error, only a rebuild.
            db = try ProvenanceIndex.open(path)
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
            db = try ProvenanceIndex.open(path)
            return try syncOnce()
        }
    }

    func syncOnce() throws -> SyncReport {
        var report = SyncReport()
        var tips = try repository.referenceTips()
        if let head = try repository.headCommit() { tips.append(("HEAD", head)) }
        let known = Dictionary(try db.prepare("SELECT name, id FROM tips").rows { ($0.text(0) ?? "", $0.text(1) ?? "") },
                               uniquingKeysWith: { a, _ in a })
        let changedTips = tips.filter { known[$0.name] != $0.commit.hex }
        let notesTip = try repository.referenceTarget(notesRef)?.hex ?? ""
        let knownNotesTip = try db.prepare("SELECT value FROM state WHERE key='notes_tip'").rows { $0.text(0) }.first ?? nil
        let notesChanged = notesTip != (knownNotesTip ?? "")
        if changedTips.isEmpty && !notesChanged && tips.count == known.count { return report }

        try db.transaction {
            if !changedTips.isEmpty || tips.count != known.count {
                let exclude = known.values.compactMap { ObjectID(hex: $0) }
                let insert = try db.prepare("INSERT OR IGNORE INTO commits(id, parents, author, email, time, summary) VALUES (?,?,?,?,?,?)")
                try repository.walk(include: changedTips.map(\.commit), exclude: exclude, order: .time) { id in
                    let c = try repository.commit(id)
                    try insert.run([.text(id.hex), .text(c.parents.map(\.hex).joined(separator: " ")), .text(c.author.name),
                                    .text(c.author.email), .integer(c.author.time), .text(c.summary)])
                    report.commitsAdded += 1
                    return true
                }
                try db.execute("DELETE FROM tips")
                let tip = try db.prepare("INSERT OR REPLACE INTO tips(name, id) VALUES (?, ?)")
                for t in tips { try tip.run([.text(t.name), .text(t.commit.hex)]) }
            }
            if notesChanged {
                report.notesChanged = try syncNotes()
                try db.prepare("INSERT OR REPLACE INTO state(key, value) VALUES ('notes_tip', ?)").run([.text(notesTip)])
            }
        }
        return report
    }

    /// Re-reads only the notes whose blob differs from what the index holds.
    func syncNotes() throws -> Int {
        let entries = try repository.noteEntries(ref: notesRef)
        var stored: [String: String] = [:]
        for row in try db.prepare("SELECT id, blob FROM notes").rows({ ($0.text(0) ?? "", $0.text(1) ?? "") }) { stored[row.0] = row.1 }
        let upsert = try db.prepare("INSERT OR REPLACE INTO notes(id, blob, agent, model, tests, json) VALUES (?,?,?,?,?,?)")
        var changed = 0
        var present = Set<String>()
        for entry in entries {
            let id = entry.annotated.hex
            present.insert(id)
            if stored[id] == entry.blob.hex { continue }
            let text = String(decoding: try repository.blob(entry.blob), as: UTF8.self)
            let note = try? ProvenanceNote.parse(text)
            try upsert.run([.text(id), .text(entry.blob.hex), note?.agentID.map(SQLiteValue.text) ?? .null,
                            note?.model.map(SQLiteValue.text) ?? .null,
                            note?.testsPassed.map { .integer($0 ? 1 : 0) } ?? .null, .text(text)])
            changed += 1
        }
        let delete = try db.prepare("DELETE FROM notes WHERE id = ?")
        for id in stored.keys where !present.contains(id) { try delete.run([.text(id)]); changed += 1 }
        return changed
    }

    /// Commits reachable from `include` and not from `exclude`, newest first (topologically),
    /// that pass `filter`. Reachability is computed from the parents the index holds.
    public func query(include: [ObjectID], exclude: [ObjectID], filter: LogFilter, limit: Int? = nil) throws -> [IndexedCommit] {
        let rows = try db.prepare("SELECT id, parents, time FROM commits").rows([]) { ($0.text(0) ?? "", $0.text(1) ?? "", $0.int(2)) }
        var parents: [String: [String]] = [:]
        var times: [String: Int64] = [:]
        parents.reserveCapacity(rows.count)
        for (id, p, t) in rows {
            parents[id] = p.isEmpty ? [] : p.split(separator: " ").map(String.init)
            times[id] = t
        }
        let order = GraphOrder.topological(from: include.map(\.hex), excluding: exclude.map(\.hex), parents: parents, times: times)

        // Candidates from SQL when the filter names an agent or a model (the selective case).
        var candidates: Set<String>?
        var conditions: [String] = [], arguments: [SQLiteValue] = []
        if !filter.values(.agent).isEmpty {
            conditions.append("(" + filter.values(.agent).map { _ in "agent GLOB ?" }.joined(separator: " OR ") + ")")
            arguments += filter.values(.agent).map { .text($0) }
        }
        if !filter.values(.model).isEmpty {
            conditions.append("(" + filter.values(.model).map { _ in "model GLOB ?" }.joined(separator: " OR ") + ")")
            arguments += filter.values(.model).map { .text($0) }
        }
        if !conditions.isEmpty {
            candidates = Set(try db.prepare("SELECT id FROM notes WHERE " + conditions.joined(separator: " AND ")).rows(arguments) { $0.text(0) ?? "" })
        }
        let commitRow = try db.prepare("SELECT c.parents, c.author, c.email, c.time, c.summary, n.agent, n.model, n.tests, n.json FROM commits c LEFT JOIN notes n ON n.id = c.id WHERE c.id = ?")
        var out: [IndexedCommit] = []
        for id in order {
            if let candidates, !candidates.contains(id) { continue }
            guard let c = try commitRow.rows([.text(id)], { s in
                IndexedCommit(id: id, parents: (s.text(0) ?? "").split(separator: " ").map(String.init), author: s.text(1) ?? "",
                              email: s.text(2) ?? "", time: s.int(3), summary: s.text(4) ?? "", agent: s.text(5), model: s.text(6),
                              testsPassed: s.isNull(7) ? nil : s.int(7) != 0, note: s.text(8))
            }).first else { continue }
            guard filter.matches(agent: c.agent, model: c.model, testsPassed: c.testsPassed, author: c.author + " <" + c.email + ">", time: c.time) else { continue }
            if !filter.values(.path).isEmpty, !filter.matches(paths: try changedPaths(id)) { continue }
            out.append(c)
            if let limit, out.count >= limit { break }
        }
        return out
    }

    /// Changed paths of a commit against its first parent, computed once and cached.
    func changedPaths(_ id: String) throws -> [String] {
        if try db.prepare("SELECT 1 FROM paths_done WHERE id = ?").rows([.text(id)], { _ in true }).first == true {
            return try db.prepare("SELECT path FROM paths WHERE id = ?").rows([.text(id)]) { $0.text(0) ?? "" }
        }
        guard let oid = ObjectID(hex: id) else { return [] }
        let paths = try repository.changedPaths(of: repository.commit(oid))
        let insert = try db.prepare("INSERT INTO paths(id, path) VALUES (?, ?)")
        for p in paths { try insert.run([.text(id), .text(p)]) }
        try db.prepare("INSERT OR IGNORE INTO paths_done(id) VALUES (?)").run([.text(id)])
        return paths
    }

    public var commitCount: Int { (try? db.prepare("SELECT count(*) FROM commits").rows { Int($0.int(0)) }.first) ?? 0 }
    public var noteCount: Int { (try? db.prepare("SELECT count(*) FROM notes").rows { Int($0.int(0)) }.first) ?? 0 }
}

/// Topological order like `git log --topo-order`: children before parents, newer first among
/// what is ready.
enum GraphOrder {
    static func topological(from include: [String], excluding exclude: [String], parents: [String: [String]], times: [String: Int64]) -> [String] {
        // Commits reachable from the excluded tips are hidden.
        var hidden = Set<String>()
        var stack = exclude
        while let id = stack.popLast() {
            guard hidden.insert(id).inserted else { continue }
            stack.append(contentsOf: parents[id] ?? [])
        }
        var reachable = Set<String>()
        stack = include.filter { !hidden.contains($0) }
        while let id = stack.popLast() {
            guard !hidden.contains(id), reachable.insert(id).inserted else { continue }
            stack.append(contentsOf: parents[id] ?? [])
        }
        var children = [String: Int]()
        for id in reachable { for p in parents[id] ?? [] where reachable.contains(p) { children[p, default: 0] += 1 } }
        // Ready commits in a max-heap by time (ties by id for determinism).
        var heap = Heap<(Int64, String)>(areInIncreasingOrder: { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 })
        for id in reachable where children[id, default: 0] == 0 { heap.push((times[id] ?? 0, id)) }
        var out: [String] = []
        out.reserveCapacity(reachable.count)
        while let (_, id) = heap.pop() {
            out.append(id)
            for p in parents[id] ?? [] where reachable.contains(p) {
                children[p]! -= 1
                if children[p] == 0 { heap.push((times[p] ?? 0, p)) }
            }
        }
        return out
    }
}

/// A binary max-heap.
struct Heap<Element> {
    var items: [Element] = []
    let areInIncreasingOrder: (Element, Element) -> Bool

    init(areInIncreasingOrder: @escaping (Element, Element) -> Bool) { self.areInIncreasingOrder = areInIncreasingOrder }

    mutating func push(_ e: Element) {
        items.append(e)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard areInIncreasingOrder(items[parent], items[i]) else { break }
            items.swapAt(parent, i)
            i = parent
        }
    }

    mutating func pop() -> Element? {
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let top = items.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var largest = i
            if l < items.count, areInIncreasingOrder(items[largest], items[l]) { largest = l }
            if r < items.count, areInIncreasingOrder(items[largest], items[r]) { largest = r }
            if largest == i { break }
            items.swapAt(i, largest)
            i = largest
        }
        return top
    }
}
