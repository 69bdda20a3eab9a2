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
    static let schemaVersion = "3"
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
            try db.execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA mmap_size=268435456;")
            try createSchema(db)
            let version = try db.prepare("SELECT value FROM state WHERE key='schema'").rows { $0.text(0) }.first ?? nil
            if version != schemaVersion { throw SQLiteError(call: "schema", code: 11, message: "index schema \(version ?? "none")") }
            return db
        } catch let error as SQLiteError where error.isCorruption || error.call == "schema" {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
            let db = try Database(path: path)
            try db.execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA mmap_size=268435456;")
            try createSchema(db)
            return db
        }
    }

    static func createSchema(_ db: Database) throws {
        try db.execute("""
            CREATE TABLE IF NOT EXISTS commits(seq INTEGER PRIMARY KEY, id TEXT UNIQUE NOT NULL, parents TEXT NOT NULL,
                author TEXT NOT NULL, email TEXT NOT NULL, time INTEGER NOT NULL, summary TEXT NOT NULL);
            -- The graph alone, narrow, so a query reads a few hundred kilobytes for 20,000 commits.
            CREATE TABLE IF NOT EXISTS graph(seq INTEGER PRIMARY KEY, pseq BLOB NOT NULL, time INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS notes(id TEXT PRIMARY KEY, blob TEXT NOT NULL, agent TEXT, model TEXT,
                tests INTEGER, valid INTEGER NOT NULL, json TEXT NOT NULL);
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
        try db.execute("DELETE FROM commits; DELETE FROM graph; DELETE FROM notes; DELETE FROM paths; DELETE FROM paths_done; DELETE FROM tips; DELETE FROM state WHERE key != 'schema';")
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
                try resolveParentSequences()
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

    /// Parents as sequence numbers (a blob of Int64s), so queries walk the graph on integers.
    /// Parents missing from the index (a shallow clone's boundary) are left out.
    func resolveParentSequences() throws {
        let pending = try db.prepare("SELECT c.seq, c.parents, c.time FROM commits c LEFT JOIN graph g ON g.seq = c.seq WHERE g.seq IS NULL")
            .rows { ($0.int(0), $0.text(1) ?? "", $0.int(2)) }
        let lookup = try db.prepare("SELECT seq FROM commits WHERE id = ?")
        let update = try db.prepare("INSERT INTO graph(seq, pseq, time) VALUES (?, ?, ?)")
        for (seq, parents, time) in pending {
            var bytes: [UInt8] = []
            for p in parents.split(separator: " ") {
                guard let s = try lookup.rows([.text(String(p))], { $0.int(0) }).first else { continue }
                withUnsafeBytes(of: s.littleEndian) { bytes.append(contentsOf: $0) }
            }
            try update.run([.integer(seq), .blob(bytes), .integer(time)])
        }
    }

    /// Re-reads only the notes whose blob differs from what the index holds.
    func syncNotes() throws -> Int {
        let entries = try repository.noteEntries(ref: notesRef)
        var stored: [String: String] = [:]
        for row in try db.prepare("SELECT id, blob FROM notes").rows({ ($0.text(0) ?? "", $0.text(1) ?? "") }) { stored[row.0] = row.1 }
        let upsert = try db.prepare("INSERT OR REPLACE INTO notes(id, blob, agent, model, tests, valid, json) VALUES (?,?,?,?,?,?,?)")
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
                            note?.testsPassed.map { .integer($0 ? 1 : 0) } ?? .null, .integer(note == nil ? 0 : 1),
                            .text(note.map { JSONValue.object($0.json).serialized() } ?? text)])
            changed += 1
        }
        let delete = try db.prepare("DELETE FROM notes WHERE id = ?")
        for id in stored.keys where !present.contains(id) { try delete.run([.text(id)]); changed += 1 }
        return changed
    }

    /// Commits reachable from `include` and not from `exclude`, newest first (topologically),
    /// that pass `filter`. Reachability is computed on the integer graph the index holds.
    public func query(include: [ObjectID], exclude: [ObjectID], filter: LogFilter, limit: Int? = nil) throws -> [IndexedCommit] {
        let (parents, times) = try loadGraph()
        let seqOf = try db.prepare("SELECT seq FROM commits WHERE id = ?")
        func seqs(_ ids: [ObjectID]) throws -> [Int32] {
            try ids.compactMap { try seqOf.rows([.text($0.hex)], { Int32($0.int(0)) }).first }
        }
        let order = GraphOrder.topological(from: try seqs(include), excluding: try seqs(exclude), parents: parents, times: times)

        // Candidates from SQL when the filter names an agent or a model (the selective case).
        var conditions: [String] = [], arguments: [SQLiteValue] = []
        for (kind, column) in [(LogFilter.Kind.agent, "agent"), (.model, "model")] where !filter.values(kind).isEmpty {
            conditions.append("(" + filter.values(kind).map { _ in "n.\(column) GLOB ?" }.joined(separator: " OR ") + ")")
            arguments += filter.values(kind).map { .text($0) }
        }
        let select = "SELECT c.seq, c.id, c.parents, c.author, c.email, c.time, c.summary, n.agent, n.model, n.tests, n.valid, n.json FROM commits c LEFT JOIN notes n ON n.id = c.id"
        var rows: [Int32: IndexedCommit] = [:]
        let read: (Statement) -> (Int32, IndexedCommit) = { s in
            (Int32(s.int(0)), IndexedCommit(
                id: s.text(1) ?? "", parents: (s.text(2) ?? "").split(separator: " ").map(String.init), author: s.text(3) ?? "",
                email: s.text(4) ?? "", time: s.int(5), summary: s.text(6) ?? "", agent: s.text(7), model: s.text(8),
                testsPassed: s.isNull(9) ? nil : s.int(9) != 0, note: s.int(10) == 1 ? s.text(11) : nil))
        }
        // Selective filters fetch their few rows at once; otherwise rows are read in order, as
        // needed, so `log -n 10` reads ten.
        let one = try db.prepare(select + " WHERE c.seq = ?")
        if !conditions.isEmpty {
            // From notes (by the agent/model index) to commits, never a scan of every commit.
            let selective = "SELECT c.seq, c.id, c.parents, c.author, c.email, c.time, c.summary, n.agent, n.model, n.tests, n.valid, n.json FROM notes n JOIN commits c ON c.id = n.id"
            for (seq, c) in try db.prepare(selective + " WHERE " + conditions.joined(separator: " AND ")).rows(arguments, read) { rows[seq] = c }
        }
        var out: [IndexedCommit] = []
        for seq in order {
            let row = conditions.isEmpty ? try one.rows([.integer(Int64(seq))], read).first?.1 : rows[seq]
            guard let c = row else { continue }
            guard filter.matches(agent: c.agent, model: c.model, testsPassed: c.testsPassed, author: c.author + " <" + c.email + ">", time: c.time) else { continue }
            if !filter.values(.path).isEmpty, !filter.matches(paths: try changedPaths(c.id)) { continue }
            out.append(c)
            if let limit, out.count >= limit { break }
        }
        return out
    }

    /// The whole graph (parents and times by sequence number), kept as one packed blob in
    /// `state` and rebuilt from the `graph` table when commits were added since.
    func loadGraph() throws -> (parents: [[Int32]], times: [Int64]) {
        let count = try db.prepare("SELECT count(*) FROM graph").rows { $0.int(0) }.first ?? 0
        let cached = try db.prepare("SELECT value FROM state WHERE key = 'graph_blob'")
        try cached.bind([])
        if try cached.step() {
            let decoded = cached.withBlob(0) { GraphBlob.decode($0) }
            if let decoded, decoded.count == Int(count) { return (decoded.parents, decoded.times) }
        }
        var parents: [[Int32]] = [[]], times: [Int64] = [0]
        var count2 = 0
        let all = try db.prepare("SELECT seq, pseq, time FROM graph ORDER BY seq")
        try all.bind([])
        while try all.step() {
            let seq = Int(all.int(0))
            while parents.count <= seq { parents.append([]); times.append(0) }
            times[seq] = all.int(2)
            parents[seq] = all.withBlob(1) { raw in
                (0..<raw.count / 8).map { Int32(truncatingIfNeeded: raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) }
            }
            count2 += 1
        }
        try db.prepare("INSERT OR REPLACE INTO state(key, value) VALUES ('graph_blob', ?)")
            .run([.blob(GraphBlob.encode(parents: parents, times: times, count: count2))])
        return (parents, times)
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
/// what is ready. Works on sequence numbers so 20,000 commits take a few milliseconds.
enum GraphOrder {
    static func topological(from include: [Int32], excluding exclude: [Int32], parents: [[Int32]], times: [Int64]) -> [Int32] {
        let n = parents.count
        var hidden = [Bool](repeating: false, count: n)
        var stack = exclude
        while let id = stack.popLast() {
            guard Int(id) < n, !hidden[Int(id)] else { continue }
            hidden[Int(id)] = true
            stack.append(contentsOf: parents[Int(id)])
        }
        var reachable = [Bool](repeating: false, count: n)
        var members: [Int32] = []
        stack = include
        while let id = stack.popLast() {
            guard Int(id) < n, !hidden[Int(id)], !reachable[Int(id)] else { continue }
            reachable[Int(id)] = true
            members.append(id)
            stack.append(contentsOf: parents[Int(id)])
        }
        var children = [Int32](repeating: 0, count: n)
        for id in members { for p in parents[Int(id)] where reachable[Int(p)] { children[Int(p)] += 1 } }
        var heap = Heap<(Int64, Int32)>(areInIncreasingOrder: { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 })
        for id in members where children[Int(id)] == 0 { heap.push((times[Int(id)], id)) }
        var out: [Int32] = []
        out.reserveCapacity(members.count)
        while let (_, id) = heap.pop() {
            out.append(id)
            for p in parents[Int(id)] where reachable[Int(p)] {
                children[Int(p)] -= 1
                if children[Int(p)] == 0 { heap.push((times[Int(p)], p)) }
            }
        }
        return out
    }
}

/// The packed graph: `count`, `slots`, then per slot its time (Int64), parent count (Int32)
/// and parents (Int32 each), little-endian.
enum GraphBlob {
    static func encode(parents: [[Int32]], times: [Int64], count: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(16 + parents.count * 16)
        func put<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        put(Int64(count))
        put(Int64(parents.count))
        for i in parents.indices {
            put(times[i])
            put(Int32(parents[i].count))
            for p in parents[i] { put(p) }
        }
        return out
    }

    static func decode(_ raw: UnsafeRawBufferPointer) -> (parents: [[Int32]], times: [Int64], count: Int)? {
        var at = 0
        func get<T: FixedWidthInteger>(_: T.Type) -> T? {
            guard at + MemoryLayout<T>.size <= raw.count else { return nil }
            defer { at += MemoryLayout<T>.size }
            return T(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: T.self))
        }
        guard let count = get(Int64.self), let slots = get(Int64.self), slots >= 0, slots < 1 << 31 else { return nil }
        var parents = [[Int32]](), times = [Int64]()
        parents.reserveCapacity(Int(slots))
        times.reserveCapacity(Int(slots))
        for _ in 0..<slots {
            guard let t = get(Int64.self), let n = get(Int32.self), n >= 0 else { return nil }
            var ps: [Int32] = []
            ps.reserveCapacity(Int(n))
            for _ in 0..<n { guard let p = get(Int32.self), p >= 0, Int64(p) < slots else { return nil }; ps.append(p) }
            times.append(t)
            parents.append(ps)
        }
        return (parents, times, Int(count))
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
