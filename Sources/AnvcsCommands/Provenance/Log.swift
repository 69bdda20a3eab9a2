import AnvcsGit
import AnvcsProvenance
import ArgumentParser
import Foundation

/// Revisions as git takes them: `HEAD`, `main..feature`, `^old new`, `--all`.
struct RevisionOptions: ParsableArguments {
    @Argument(help: "Revisions or ranges (default HEAD).")
    var revisions: [String] = []
    @Flag(help: "Start from every branch, remote-tracking branch and tag.")
    var all = false
    @Option(name: [.customShort("n"), .long], help: "Show at most this many commits.")
    var maxCount: Int?

    func resolve(in repository: Repository) throws -> (include: [ObjectID], exclude: [ObjectID]) {
        var include: [ObjectID] = [], exclude: [ObjectID] = []
        func commit(_ rev: String) throws -> ObjectID {
            do { return try repository.resolveCommit(rev) } catch {
                throw Failure("bad revision '\(rev)'", hint: "name a branch, tag, commit or range like main..feature")
            }
        }
        for rev in revisions {
            if let r = rev.range(of: "...") {
                throw Failure("symmetric ranges ('\(rev)') are not supported yet", hint: "use \(rev[..<r.lowerBound])..\(rev[r.upperBound...])")
            } else if let r = rev.range(of: "..") {
                let left = String(rev[..<r.lowerBound]), right = String(rev[r.upperBound...])
                exclude.append(try commit(left.isEmpty ? "HEAD" : left))
                include.append(try commit(right.isEmpty ? "HEAD" : right))
            } else if rev.hasPrefix("^") {
                exclude.append(try commit(String(rev.dropFirst())))
            } else {
                include.append(try commit(rev))
            }
        }
        if all {
            for glob in ["refs/heads/*", "refs/remotes/*", "refs/tags/*"] {
                for name in try repository.referenceNames(matching: glob) {
                    if let id = try? repository.resolveCommit(name) { include.append(id) }
                }
            }
        }
        if include.isEmpty {
            guard let head = try repository.headCommit() else { throw Failure("this repository has no commits yet") }
            include.append(head)
        }
        return (include, exclude)
    }
}

/// One commit with its provenance, as `log` and `graph` list them.
struct LogEntry {
    let commit: IndexedCommit
    var id: String { commit.id }
    var short: String { String(commit.id.prefix(7)) }
    var agent: String { commit.agent ?? "-" }
    var model: String { commit.model ?? "-" }
    var tests: String { commit.testsPassed.map { $0 ? "pass" : "fail" } ?? "-" }
}

/// The filter flags shared by `log` and `graph`.
struct FilterOptions: ParsableArguments {
    @Option(name: .customLong("filter"), help: "KIND:VALUE terms (agent, model, tests, path, author); repeat to combine.")
    var filters: [String] = []
    @Option(help: "Only commits newer than this (2w, '3 days ago', 2026-11-01).")
    var since: String?
    @Option(help: "Only commits older than this.")
    var until: String?

    func filter(now: Int64) throws -> LogFilter {
        var f = LogFilter()
        for expression in filters {
            do { try f.add(expression: expression) } catch { throw Failure(error.description, exitCode: 2) }
        }
        if let since {
            guard let t = DateExpression.parse(since, now: now) else { throw Failure("--since '\(since)' is not a date (try 2w, '3 days ago' or 2026-11-01)", exitCode: 2) }
            f.since = t
        }
        if let until {
            guard let t = DateExpression.parse(until, now: now) else { throw Failure("--until '\(until)' is not a date (try 2w, '3 days ago' or 2026-11-01)", exitCode: 2) }
            f.until = t
        }
        return f
    }
}

enum LogLoader {
    static func load(_ options: RevisionOptions, filters: FilterOptions, context: Context) throws -> [LogEntry] {
        let repository = try context.repository()
        let filter = try filters.filter(now: context.now)
        let (include, exclude) = try options.resolve(in: repository)
        let store = ProvenanceStore(repository: repository)
        let trace = Trace(enabled: context.environment["ANVCS_TRACE"] != nil)
        context.settlePending(store)
        trace.mark("settle pending captures")
        let index = try ProvenanceIndex(repository: repository, stateDirectory: store.stateDirectory)
        trace.mark("open index")
        try index.sync()
        trace.mark("sync index")
        let result = try index.query(include: include, exclude: exclude, filter: filter, limit: options.maxCount).map(LogEntry.init)
        trace.mark("query")
        return result
    }

    /// Prints nodes and edges compactly (agents parse it; people use the text forms).
    static func printJSON(_ entries: [LogEntry], context: Context) {
        let trace = Trace(enabled: context.environment["ANVCS_TRACE"] != nil)
        var out = json(entries)
        out.raw("\n")
        trace.mark("render JSON")
        Terminal.writeOut(out.bytes)
        trace.mark("write")
    }

    /// `{"nodes": [...], "edges": [{"from", "to"}]}`, written straight into bytes: for thousands
    /// of commits this is most of a query's time otherwise.
    static func json(_ entries: [LogEntry]) -> JSONOutput {
        var out = JSONOutput(capacity: entries.count * 512 + 64)
        out.raw("{\"nodes\":[")
        for (i, e) in entries.enumerated() {
            let c = e.commit
            out.raw(i == 0 ? "{\"id\":" : ",{\"id\":")
            out.string(c.id)
            out.raw(",\"parents\":[")
            for (j, p) in c.parents.enumerated() {
                if j > 0 { out.raw(",") }
                out.string(p)
            }
            out.raw("],\"author\":")
            out.string(c.author)
            out.raw(",\"date\":")
            out.timestamp(c.time)
            out.raw(",\"summary\":")
            out.string(c.summary)
            out.raw(",\"agent_id\":")
            out.optionalString(c.agent)
            out.raw(",\"model\":")
            out.optionalString(c.model)
            out.raw(",\"tests_passed\":")
            out.raw(c.testsPassed.map { $0 ? "true" : "false" } ?? "null")
            // The index stores each valid note as compact JSON: spliced as it is, not re-parsed.
            out.raw(",\"provenance\":")
            out.raw(c.note ?? "null")
            out.raw("}")
        }
        out.raw("],\"edges\":[")
        let ids = Set(entries.map(\.id))
        var first = true
        for e in entries {
            for p in e.commit.parents where ids.contains(p) {
                out.raw(first ? "{\"from\":" : ",{\"from\":")
                first = false
                out.string(e.id)
                out.raw(",\"to\":")
                out.string(p)
                out.raw("}")
            }
        }
        out.raw("]}")
        return out
    }
}

/// `git anvcs log`: commits with their agent, model and test result, one per line.
struct Log: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "log", abstract: "List commits with their provenance (agent, model, tests).")

    @OptionGroup var revisions: RevisionOptions
    @OptionGroup var filters: FilterOptions
    @Flag(help: "Print nodes and edges as JSON.")
    var json = false

    func run() throws {
        let context = Context()
        let entries = try LogLoader.load(revisions, filters: filters, context: context)
        if json { LogLoader.printJSON(entries, context: context); return }
        for e in entries {
            print([e.short, pad(e.agent, 16), pad(e.model, 18), pad(e.tests, 4), e.commit.summary].joined(separator: "  "))
        }
    }
}

/// `git anvcs graph`: the commit graph, drawn like `git log --graph`, with provenance columns.
struct Graph: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "graph", abstract: "Draw the commit graph with provenance.")

    @OptionGroup var revisions: RevisionOptions
    @OptionGroup var filters: FilterOptions
    @Flag(help: "Print nodes and edges as JSON.")
    var json = false
    @Flag(help: "Print Graphviz dot.")
    var dot = false

    func run() throws {
        let context = Context()
        let entries = try LogLoader.load(revisions, filters: filters, context: context)
        if json { LogLoader.printJSON(entries, context: context); return }
        if dot { print(GraphDrawing.dot(entries)); return }
        for line in GraphDrawing.lines(entries) { print(line) }
    }
}

enum GraphDrawing {
    /// Lanes like `git log --graph`: each column waits for one commit; a commit takes the first
    /// column waiting for it, merges add columns for their extra parents.
    static func lines(_ entries: [LogEntry]) -> [String] {
        var columns: [String?] = []
        var out: [String] = []
        for e in entries {
            let id = e.id
            var col = columns.firstIndex(where: { $0 == id })
            if col == nil {
                if let free = columns.firstIndex(where: { $0 == nil }) { col = free } else { columns.append(nil); col = columns.count - 1 }
            }
            let c = col!
            // Other columns that also waited for this commit join it here.
            let joining = columns.indices.filter { $0 != c && columns[$0] == id }
            var row = ""
            for i in columns.indices { row += i == c ? "* " : (columns[i] == nil ? "  " : "| ") }
            let info = [e.short, pad(e.agent, 14), pad(e.model, 16), pad(e.tests, 4), e.commit.summary].joined(separator: " ")
            out.append(row + info)
            for j in joining { columns[j] = nil }
            let parents = e.commit.parents
            columns[c] = parents.first
            var extra: [Int] = []
            for p in parents.dropFirst() {
                if columns.contains(where: { $0 == p }) { continue }
                if let free = columns.firstIndex(where: { $0 == nil }) { columns[free] = p; extra.append(free) } else { columns.append(p); extra.append(columns.count - 1) }
            }
            if !extra.isEmpty || !joining.isEmpty {
                var link = ""
                for i in columns.indices {
                    if i == c { link += "|" } else if extra.contains(i) { link += "\\" } else if joining.contains(i) { link += "/" } else { link += columns[i] == nil ? " " : "|" }
                    link += " "
                }
                out.append(link.trimmingTrailingSpaces())
            }
            while let last = columns.last, last == nil { columns.removeLast() }
        }
        return out
    }

    static func dot(_ entries: [LogEntry]) -> String {
        var s = "digraph anvcs {\n  rankdir=BT;\n  node [shape=box, fontname=\"monospace\"];\n"
        let ids = Set(entries.map(\.id))
        for e in entries {
            let label = "\(e.short) \(e.commit.summary.prefix(40))\\n\(e.agent) / \(e.model) / \(e.tests)"
                .replacingOccurrences(of: "\"", with: "\\\"")
            let color = e.commit.testsPassed == false ? "red" : (e.commit.note == nil ? "gray" : "black")
            s += "  \"\(e.id)\" [label=\"\(label)\", color=\(color)];\n"
            for p in e.commit.parents where ids.contains(p) { s += "  \"\(e.id)\" -> \"\(p)\";\n" }
        }
        return s + "}"
    }
}

func pad(_ s: String, _ width: Int) -> String {
    s.count >= width ? String(s.prefix(width)) : s + String(repeating: " ", count: width - s.count)
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var s = self
        while s.hasSuffix(" ") { s.removeLast() }
        return s
    }
}
