import AnvcsGit
import AnvcsProvenance
import ArgumentParser
import Foundation

/// `git anvcs show [<rev>]`: one commit's provenance.
struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show the provenance of a commit (default HEAD).")

    @Argument(help: "The commit (any revision git understands).")
    var revision = "HEAD"
    @Flag(help: "Print the note as JSON for agents.")
    var json = false
    @Flag(help: "Print the whole prompt.")
    var fullPrompt = false

    func run() throws {
        let context = Context()
        let repository = try context.repository()
        guard !repository.isEmpty || revision != "HEAD" else {
            throw Failure("this repository has no commits yet", hint: "make a commit first")
        }
        let id: ObjectID
        do { id = try repository.resolveCommit(revision) } catch {
            throw Failure("unknown revision '\(revision)': \(Failure.describe(error))", exitCode: 1)
        }
        let store = ProvenanceStore(repository: repository)
        context.settlePending(store)
        let commit = try repository.commit(id)
        let lookup = try store.lookup(id)
        if json {
            print(ProvenanceView.json(commit: commit, lookup: lookup).serialized(pretty: true))
        } else {
            print(ProvenanceView.text(commit: commit, lookup: lookup, branch: nil, fullPrompt: fullPrompt), terminator: "")
        }
        if case .invalid(_, let reason) = lookup {
            Terminal.warning("the note of \(id.short) is not valid JSON (\(reason)); shown as text")
        }
    }
}

/// How provenance reads to a person, and to an agent.
enum ProvenanceView {
    static func json(commit: AnvcsGit.Commit, lookup: NoteLookup) -> JSONValue {
        var o = JSONObject()
        o["commit"] = .string(commit.id.hex)
        o["parents"] = .array(commit.parents.map { .string($0.hex) })
        o["author"] = .string("\(commit.author.name) <\(commit.author.email)>")
        o["date"] = .string(Timestamp.rfc3339(commit.author.time))
        o["summary"] = .string(commit.summary)
        switch lookup {
        case .none: o["provenance"] = .null
        case .note(let note): o["provenance"] = .object(note.json)
        case .invalid(let text, let reason):
            o["provenance"] = .null
            o["invalid_note"] = .object(JSONObject([("text", .string(text)), ("error", .string(reason))]))
        }
        return .object(o)
    }

    static func text(commit: AnvcsGit.Commit, lookup: NoteLookup, branch: String?, fullPrompt: Bool) -> String {
        var out = "commit \(commit.id.hex)\n"
        if commit.isMerge { out += "Merge:   \(commit.parents.map(\.short).joined(separator: " "))\n" }
        out += "Author:  \(commit.author.name) <\(commit.author.email)>\n"
        out += "Date:    \(Timestamp.rfc3339(commit.author.time))\n\n    \(commit.summary)\n\n"
        switch lookup {
        case .none:
            out += "  (no provenance recorded: made before ANVCS or without its hooks)\n"
        case .invalid(let text, _):
            out += "  (note is not valid JSON)\n"
            for line in text.split(separator: "\n", omittingEmptySubsequences: false) { out += "  | \(line)\n" }
        case .note(let note):
            func row(_ label: String, _ value: String?) {
                guard let value, !value.isEmpty else { return }
                out += "  " + label.padding(toLength: 10, withPad: " ", startingAt: 0) + value + "\n"
            }
            let sources = note.meta["sources"]?.objectValue
            func from(_ key: String) -> String { sources?[key]?.stringValue.map { "  (\($0))" } ?? "" }
            row("agent", note.agentID.map { $0 + (note.agentTool.map { t in t == note.agentID ? "" : " via \(t)" } ?? "") + from("agent_id") })
            row("model", note.model.map { $0 + from("model") })
            if let passed = note.testsPassed {
                var t = passed ? "passed" : "FAILED"
                if let tests = note.meta["tests"]?.objectValue, let total = tests["total"]?.numberValue {
                    let ok = tests["passed"]?.numberValue ?? 0
                    t += " \(Int(ok))/\(Int(total))"
                }
                if let ref = note.testReportRef { t += " (\(ref))" }
                row("tests", t)
            }
            row("coverage", note.coverage.map { String(format: "%.2f%%", $0) })
            if let prompt = note.prompt {
                let lines = prompt.split(separator: "\n", omittingEmptySubsequences: false)
                if fullPrompt || lines.count <= 3 && prompt.count <= 240 {
                    row("prompt", lines.first.map(String.init))
                    for line in lines.dropFirst() { out += "            \(line)\n" }
                } else {
                    row("prompt", String(lines[0].prefix(200)) + " … (\(prompt.utf8.count) bytes; --full-prompt shows all)")
                }
            } else if let sha = note.promptSHA256 {
                row("prompt", "sha256:\(sha)")
            }
            let env = note.env
            let envText = [env["os_release"]?.stringValue ?? env["os"]?.stringValue, env["arch"]?.stringValue,
                           env["git"]?.stringValue.map { "git \($0)" }].compactMap { $0 }.joined(separator: ", ")
            row("env", envText)
            if !note.rewrittenFrom.isEmpty {
                row("from", "\(note.rewriteKind ?? "rewrite") of " + note.rewrittenFrom.map { String($0.prefix(7)) }.joined(separator: ", "))
            }
            let artifacts = note.artifacts
            if !artifacts.isEmpty { row("artifacts", "\(artifacts.count) pinned") }
            if let conflicts = note.json["conflicts"]?.arrayValue, !conflicts.isEmpty {
                row("conflicts", conflicts.compactMap { $0["field"]?.stringValue }.joined(separator: ", "))
            }
            if note.isNewerSchema { row("schema", "\(note.schemaName ?? "?") (newer than this ANVCS; unknown fields kept)") }
        }
        return out
    }
}
