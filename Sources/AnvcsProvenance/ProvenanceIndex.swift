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
    static let schemaVersion = "5"
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
    /// A current index is opened with one read (no schema statements): every query pays this.
    static func open(_ path: String) throws -> Database {
        func schemaVersion(_ db: Database) -> String? {
            (try? db.prepare("SELECT value FROM state WHERE key='schema'").rows { $0.text(0) }.first) ?? nil
        }
        func fresh() throws -> Database {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
            let db = try Database(path: path)
            try db.execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF; PRAGMA mmap_size=268435456;")
            try createSchema(db)
            return db
        }
        do {
            let db = try Database(path: path)
            // Per connection: with any other level each process's checkpoint on close fsyncs,
            // the largest cost of an incremental update (~10 ms). The index is a cache of what
            // git holds: a power cut that damages it costs a rebuild, never data.
            try db.execute("PRAGMA synchronous=OFF; PRAGMA mmap_size=268435456;")
            if schemaVersion(db) == ProvenanceIndex.schemaVersion { return db }
            let tables = try db.prepare("SELECT count(*) FROM sqlite_master").rows { $0.int(0) }.first ?? 0
            if tables == 0 {
                try db.execute("PRAGMA journal_mode=WAL;")
                try createSchema(db)
                return db
            }
            // Another version (or not an index at all): a cache, so rebuilt from git.
            return try fresh()
        } catch let error as SQLiteError where error.isCorruption {
            return try fresh()
        }
    }

    static func createSchema(_ db: Database) throws {
        try db.execute("""
            CREATE TABLE IF NOT EXISTS commits(seq INTEGER PRIMARY KEY, id TEXT UNIQUE NOT NULL, parents TEXT NOT NULL,
                author TEXT NOT NULL, email TEXT NOT NULL, time INTEGER NOT NULL, summary TEXT NOT NULL);
            -- The graph alone, narrow, so a query reads a few hundred kilobytes for 20,000 commits.
            CREATE TABLE IF NOT EXISTS graph(seq INTEGER PRIMARY KEY, pseq BLOB NOT NULL, time INTEGER NOT NULL);
            -- The whole graph packed in one blob (CommitGraph.packed), extended in place as commits arrive.
            CREATE TABLE IF NOT EXISTS graph_blob(id INTEGER PRIMARY KEY CHECK (id = 0), value BLOB NOT NULL);
            CREATE TABLE IF NOT EXISTS notes(id TEXT PRIMARY KEY, blob TEXT NOT NULL, agent TEXT, model TEXT,
                tests INTEGER, valid INTEGER NOT NULL, json TEXT NOT NULL);
            CREATE INDEX IF NOT EXISTS notes_agent ON notes(agent);
            CREATE INDEX IF NOT EXISTS notes_model ON notes(model);
            -- Commits with an agent, denormalized and clustered by (agent, seq): an agent filter,
            -- the most asked question, reads one contiguous range instead of a row of notes and a
            -- row of commits per match scattered over the file (measured: ~3 ms of page faults).
            CREATE TABLE IF NOT EXISTS by_agent(agent TEXT NOT NULL, seq INTEGER NOT NULL, id TEXT NOT NULL,
                parents TEXT NOT NULL, author TEXT NOT NULL, email TEXT NOT NULL, time INTEGER NOT NULL,
                summary TEXT NOT NULL, model TEXT, tests INTEGER, valid INTEGER NOT NULL, json TEXT NOT NULL,
                PRIMARY KEY(agent, seq)) WITHOUT ROWID;
            CREATE INDEX IF NOT EXISTS by_agent_id ON by_agent(id);
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
        try db.execute("DELETE FROM commits; DELETE FROM graph; DELETE FROM notes; DELETE FROM paths; DELETE FROM paths_done; DELETE FROM tips; DELETE FROM graph_blob; DELETE FROM by_agent; DELETE FROM state WHERE key != 'schema';")
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
            var touched: [String] = []
            if !changedTips.isEmpty || tips.count != known.count {
                let exclude = known.values.compactMap { ObjectID(hex: $0) }
                let insert = try db.prepare("INSERT OR IGNORE INTO commits(id, parents, author, email, time, summary) VALUES (?,?,?,?,?,?)")
                try repository.walk(include: changedTips.map(\.commit), exclude: exclude, order: .time) { id in
                    let c = try repository.commit(id)
                    try insert.run([.text(id.hex), .text(c.parents.map(\.hex).joined(separator: " ")), .text(c.author.name),
                                    .text(c.author.email), .integer(c.author.time), .text(c.summary)])
                    report.commitsAdded += 1
                    touched.append(id.hex)
                    return true
                }
                try resolveParentSequences()
                try db.execute("DELETE FROM tips")
                let tip = try db.prepare("INSERT OR REPLACE INTO tips(name, id) VALUES (?, ?)")
                for t in tips { try tip.run([.text(t.name), .text(t.commit.hex)]) }
            }
            if notesChanged {
                let changed = try syncNotes(from: knownNotesTip.flatMap { ObjectID(hex: $0) }, to: ObjectID(hex: notesTip))
                report.notesChanged = changed.count
                touched += changed
                try db.prepare("INSERT OR REPLACE INTO state(key, value) VALUES ('notes_tip', ?)").run([.text(notesTip)])
            }
            try refreshAgentRows(touched)
        }
        return report
    }

    /// The columns a query reads, in the order `query`'s row reader expects them, each with the
    /// table it comes from when notes and commits are joined as `n` and `c`. `by_agent` copies
    /// them under the same names, so both column lists are derived from this one.
    static let rowColumns: [(table: String, name: String)] = [
        ("c", "seq"), ("c", "id"), ("c", "parents"), ("c", "author"), ("c", "email"), ("c", "time"), ("c", "summary"),
        ("n", "agent"), ("n", "model"), ("n", "tests"), ("n", "valid"), ("n", "json"),
    ]
    static let joinedRowColumns = rowColumns.map { "\($0.table).\($0.name)" }.joined(separator: ", ")
    static let agentRowColumns = rowColumns.map(\.name).joined(separator: ", ")

    /// Brings `by_agent` up to date for the commits whose row or note changed: row by row for
    /// a few, all at once when most of the index changed (a rebuild, a first fetch of notes).
    func refreshAgentRows(_ ids: [String]) throws {
        guard !ids.isEmpty else { return }
        let copy = "INSERT INTO by_agent(\(Self.agentRowColumns)) SELECT \(Self.joinedRowColumns) FROM notes n JOIN commits c ON c.id = n.id WHERE n.agent IS NOT NULL"
        if ids.count > 1000 {
            try db.execute("DELETE FROM by_agent; " + copy + ";")
            return
        }
        // The row is deleted by commit, not by key: the note's new agent may differ from the old.
        let delete = try db.prepare("DELETE FROM by_agent WHERE id = ?")
        let insert = try db.prepare(copy + " AND n.id = ?")
        for id in Set(ids) {
            try delete.run([.text(id)])
            try insert.run([.text(id)])
        }
    }

    /// Parents as sequence numbers (a blob of Int64s), so queries walk the graph on integers.
    /// Only commits added since the last sync are visited (sequence numbers only grow).
    /// Parents missing from the index (a shallow clone's boundary) are left out.
    func resolveParentSequences() throws {
        let pending = try db.prepare("SELECT seq, parents, time FROM commits WHERE seq > (SELECT coalesce(max(seq), 0) FROM graph) ORDER BY seq")
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

    /// Brings the notes table to the notes ref's tip `new` (nil: the ref is gone). From the tip
    /// seen last time only the notes that changed are read (a diff of the two notes trees); with
    /// no usable previous tip every note is compared with what the index holds.
    /// Returns the annotated commits whose note changed.
    func syncNotes(from old: ObjectID?, to new: ObjectID?) throws -> [String] {
        guard let new else {
            let ids = try db.prepare("SELECT id FROM notes").rows { $0.text(0) ?? "" }
            try db.execute("DELETE FROM notes")
            return ids
        }
        let changes: [NoteChange]
        if let old, let diff = try? repository.noteChanges(from: old, to: new) {
            changes = diff
        } else {
            var all = try repository.noteEntries(ref: notesRef).map { NoteChange(annotated: $0.annotated, blob: $0.blob) }
            let present = Set(all.map(\.annotated.hex))
            for id in try db.prepare("SELECT id FROM notes").rows({ $0.text(0) ?? "" }) where !present.contains(id) {
                if let oid = ObjectID(hex: id) { all.append(NoteChange(annotated: oid, blob: nil)) }
            }
            changes = all
        }
        let storedBlob = try db.prepare("SELECT blob FROM notes WHERE id = ?")
        let upsert = try db.prepare("INSERT OR REPLACE INTO notes(id, blob, agent, model, tests, valid, json) VALUES (?,?,?,?,?,?,?)")
        let delete = try db.prepare("DELETE FROM notes WHERE id = ?")
        var changed: [String] = []
        for change in changes {
            let id = change.annotated.hex
            guard let blob = change.blob else {
                try delete.run([.text(id)])
                changed.append(id)
                continue
            }
            if try storedBlob.rows([.text(id)], { $0.text(0) }).first == blob.hex { continue }
            let text = String(decoding: try repository.blob(blob), as: UTF8.self)
            let note = try? ProvenanceNote.parse(text)
            try upsert.run([.text(id), .text(blob.hex), note?.agentID.map(SQLiteValue.text) ?? .null,
                            note?.model.map(SQLiteValue.text) ?? .null,
                            note?.testsPassed.map { .integer($0 ? 1 : 0) } ?? .null, .integer(note == nil ? 0 : 1),
                            .text(note.map { JSONValue.object($0.json).serialized() } ?? text)])
            changed.append(id)
        }
        return changed
    }

    /// Commits reachable from `include` and not from `exclude`, newest first (topologically),
    /// that pass `filter`. Reachability is computed on the integer graph the index holds.
    public func query(include: [ObjectID], exclude: [ObjectID], filter: LogFilter, limit: Int? = nil) throws -> [IndexedCommit] {
        let graph = try loadGraph()
        let seqOf = try db.prepare("SELECT seq FROM commits WHERE id = ?")
        func seqs(_ ids: [ObjectID]) throws -> [Int32] {
            try ids.compactMap { try seqOf.rows([.text($0.hex)], { Int32($0.int(0)) }).first }
        }
        let order = GraphOrder.topological(from: try seqs(include), excluding: try seqs(exclude), in: graph)

        // Candidates from SQL when the filter names an agent or a model (the selective case).
        var conditions: [String] = [], arguments: [SQLiteValue] = []
        for (kind, column) in [(LogFilter.Kind.agent, "agent"), (.model, "model")] where !filter.values(kind).isEmpty {
            conditions.append("(" + filter.values(kind).map { _ in "n.\(column) GLOB ?" }.joined(separator: " OR ") + ")")
            arguments += filter.values(kind).map { .text($0) }
        }
        // Columns as `joinedRowColumns` and `agentRowColumns` list them.
        let read: (Statement) -> (Int32, IndexedCommit) = { s in
            (Int32(s.int(0)), IndexedCommit(
                id: s.text(1) ?? "", parents: s.fields(2, separator: UInt8(ascii: " ")), author: s.text(3) ?? "",
                email: s.text(4) ?? "", time: s.int(5), summary: s.text(6) ?? "", agent: s.text(7), model: s.text(8),
                testsPassed: s.isNull(9) ? nil : s.int(9) != 0, note: s.int(10) == 1 ? s.text(11) : nil))
        }
        func keep(_ c: IndexedCommit) throws -> Bool {
            guard filter.matches(agent: c.agent, model: c.model, testsPassed: c.testsPassed, author: c.author + " <" + c.email + ">", time: c.time) else { return false }
            return try filter.values(.path).isEmpty || filter.matches(paths: changedPaths(c.id))
        }
        var out: [IndexedCommit] = []
        if conditions.isEmpty {
            // Rows read in order, as needed, so `log -n 10` reads ten.
            let one = try db.prepare("SELECT \(Self.joinedRowColumns) FROM commits c LEFT JOIN notes n ON n.id = c.id WHERE c.seq = ?")
            for seq in order {
                guard let c = try one.rows([.integer(Int64(seq))], read).first?.1, try keep(c) else { continue }
                out.append(c)
                if let limit, out.count >= limit { break }
            }
            return out
        }
        // Selective filters fetch their few rows at once: an agent filter from the table clustered
        // by agent, a model filter alone by the notes' model index. The rows are then put in the
        // walk's order by rank (what is not reachable has none), without a map of rows.
        let selective = filter.values(.agent).isEmpty
            ? "SELECT \(Self.joinedRowColumns) FROM notes n JOIN commits c ON c.id = n.id"
            : "SELECT \(Self.agentRowColumns) FROM by_agent n"
        var rank = [Int32](repeating: -1, count: graph.slots)
        for (i, seq) in order.enumerated() { rank[Int(seq)] = Int32(i) }
        var found = try db.prepare(selective + " WHERE " + conditions.joined(separator: " AND ")).rows(arguments, read)
        found.removeAll { Int($0.0) >= rank.count || rank[Int($0.0)] < 0 }
        found.sort { rank[Int($0.0)] < rank[Int($1.0)] }
        for (_, c) in found where try keep(c) {
            out.append(c)
            if let limit, out.count >= limit { break }
        }
        return out
    }

    /// The whole graph by sequence number, kept packed in one blob (`graph_blob`) and extended
    /// with the rows of commits added since it was written, so a query after a commit reads the
    /// blob plus a row or two instead of every row of `graph`.
    func loadGraph() throws -> CommitGraph {
        let cached = try db.prepare("SELECT value FROM graph_blob WHERE id = 0")
        try cached.bind([])
        var graph = try cached.step() ? cached.withBlob(0) { CommitGraph(packed: $0) } ?? CommitGraph() : CommitGraph()
        let newer = try db.prepare("SELECT seq, pseq, time FROM graph WHERE seq >= ? ORDER BY seq")
        try newer.bind([.integer(Int64(graph.slots))])
        var added = 0
        while try newer.step() {
            let seq = Int(newer.int(0))
            let parents = newer.withBlob(1) { raw in
                (0..<raw.count / 8).map { Int32(truncatingIfNeeded: raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) }
            }
            graph.append(seq: seq, time: newer.int(2), parents: parents)
            added += 1
        }
        if added > 0 {
            try db.prepare("INSERT OR REPLACE INTO graph_blob(id, value) VALUES (0, ?)").run([.blob(graph.packed())])
        }
        return graph
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

/// The commit graph in compressed sparse rows: the parents of slot `i` are
/// `parents[offsets[i]..<offsets[i + 1]]`. Flat arrays, so loading 20,000 commits is three copies
/// and walking them touches no allocator. Slot 0 is unused (SQLite rowids start at 1).
struct CommitGraph {
    var times: [Int64] = [0]
    var offsets: [Int32] = [0, 0]
    var parents: [Int32] = []

    var slots: Int { times.count }

    init() {}

    func parents(of slot: Int32) -> ArraySlice<Int32> { parents[Int(offsets[Int(slot)])..<Int(offsets[Int(slot) + 1])] }

    /// Adds a commit's slot (and empty slots for any gap before it).
    mutating func append(seq: Int, time: Int64, parents ps: [Int32]) {
        while times.count < seq { times.append(0); offsets.append(offsets[offsets.count - 1]) }
        guard seq == times.count else { return }
        times.append(time)
        parents.append(contentsOf: ps.filter { $0 > 0 })  // a parent may come later: the walk inserts children first
        offsets.append(Int32(parents.count))
    }

    /// `slots`, `parent count`, then the three arrays, little-endian (this machine's order: the
    /// blob is a local cache and is rebuilt whenever it does not decode).
    func packed() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(16 + times.count * 12 + parents.count * 4)
        withUnsafeBytes(of: Int64(times.count).littleEndian) { out.append(contentsOf: $0) }
        withUnsafeBytes(of: Int64(parents.count).littleEndian) { out.append(contentsOf: $0) }
        times.withUnsafeBytes { out.append(contentsOf: $0) }
        offsets.withUnsafeBytes { out.append(contentsOf: $0) }
        parents.withUnsafeBytes { out.append(contentsOf: $0) }
        return out
    }

    init?(packed raw: UnsafeRawBufferPointer) {
        guard raw.count >= 16 else { return nil }
        let slots = Int(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 0, as: Int64.self)))
        let edges = Int(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8, as: Int64.self)))
        guard slots >= 1, slots < 1 << 31, edges >= 0, edges < 1 << 31,
              raw.count == 16 + slots * 8 + (slots + 1) * 4 + edges * 4 else { return nil }
        func array<T: FixedWidthInteger>(_: T.Type, at offset: Int, count: Int) -> [T] {
            [T](unsafeUninitializedCapacity: count) { buffer, initialized in
                UnsafeMutableRawBufferPointer(buffer).copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[offset..<offset + count * MemoryLayout<T>.size]))
                initialized = count
            }
        }
        times = array(Int64.self, at: 16, count: slots)
        offsets = array(Int32.self, at: 16 + slots * 8, count: slots + 1)
        parents = array(Int32.self, at: 16 + slots * 8 + (slots + 1) * 4, count: edges)
        // A damaged blob must not send a walk out of bounds: check what the walk relies on.
        guard offsets[0] == 0, Int(offsets[slots]) == edges,
              zip(offsets, offsets.dropFirst()).allSatisfy({ $0 <= $1 }),
              parents.allSatisfy({ $0 >= 0 && Int($0) < slots }) else { return nil }
    }
}

/// Topological order like `git log --topo-order`: children before parents, newer first among
/// what is ready. Works on sequence numbers so 20,000 commits take a few milliseconds.
enum GraphOrder {
    static func topological(from include: [Int32], excluding exclude: [Int32], in graph: CommitGraph) -> [Int32] {
        let n = graph.slots
        var hidden = [Bool](repeating: false, count: n)
        var stack = exclude
        while let id = stack.popLast() {
            guard Int(id) < n, !hidden[Int(id)] else { continue }
            hidden[Int(id)] = true
            stack.append(contentsOf: graph.parents(of: id))
        }
        var reachable = [Bool](repeating: false, count: n)
        var members: [Int32] = []
        stack = include
        while let id = stack.popLast() {
            guard Int(id) < n, !hidden[Int(id)], !reachable[Int(id)] else { continue }
            reachable[Int(id)] = true
            members.append(id)
            stack.append(contentsOf: graph.parents(of: id))
        }
        var children = [Int32](repeating: 0, count: n)
        for id in members { for p in graph.parents(of: id) where Int(p) < n && reachable[Int(p)] { children[Int(p)] += 1 } }
        var heap = ReadyHeap()
        for id in members where children[Int(id)] == 0 { heap.push(time: graph.times[Int(id)], id) }
        var out: [Int32] = []
        out.reserveCapacity(members.count)
        while let id = heap.pop() {
            out.append(id)
            for p in graph.parents(of: id) where Int(p) < n && reachable[Int(p)] {
                children[Int(p)] -= 1
                if children[Int(p)] == 0 { heap.push(time: graph.times[Int(p)], p) }
            }
        }
        return out
    }
}

/// A binary max-heap of ready commits by (time, sequence number): newest first, ties to the
/// later-indexed commit. Concrete, so comparisons inline.
struct ReadyHeap {
    var items: [(time: Int64, id: Int32)] = []

    static func before(_ a: (time: Int64, id: Int32), _ b: (time: Int64, id: Int32)) -> Bool {
        a.time != b.time ? a.time < b.time : a.id < b.id
    }

    mutating func push(time: Int64, _ id: Int32) {
        items.append((time, id))
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard ReadyHeap.before(items[parent], items[i]) else { break }
            items.swapAt(parent, i)
            i = parent
        }
    }

    mutating func pop() -> Int32? {
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let top = items.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var largest = i
            if l < items.count, ReadyHeap.before(items[largest], items[l]) { largest = l }
            if r < items.count, ReadyHeap.before(items[largest], items[r]) { largest = r }
            if largest == i { break }
            items.swapAt(i, largest)
            i = largest
        }
        return top.id
    }
}
