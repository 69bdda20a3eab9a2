import AnvcsArtifacts
import AnvcsProvenance
import ArgumentParser
import Foundation

/// `git anvcs status`: queued uploads, commits whose artifacts are not queued yet, and
/// unhydrated artifacts.
struct ArtifactStatus: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status",
        abstract: "Show queued artifact uploads and pointer files not hydrated yet.")

    @Flag(help: "Print machine-readable JSON.")
    var json = false

    func run() throws {
        let context = Context()
        let repository = try context.repository()
        let services = ArtifactServices(context: context, repository: repository)
        let queued = try services.queue().pending()
        let unhydrated = try services.unhydrated()
        let owedToPrimary = services.hybridQueueCount()
        // Committed, but the background drainer has not turned them into notes and queued uploads
        // yet (right after a commit, before the drainer started): an empty queue is not "all sent".
        let pendingCommits = Array(Set(ArtifactHooks.pendingCommits(PendingCaptures(stateDirectory: services.stateDirectory)).map(\.0))).sorted()
        if json {
            let uploads: [JSONValue] = queued.map { q in
                .object(JSONObject([
                    ("path", .string(q.path)), ("sha256", .string(q.sha256)), ("key", .string(q.key)), ("commit", .string(q.commit)),
                    ("size", .number(Double(q.size))), ("attempts", .number(Double(q.attempts))),
                    ("next_attempt", .number(Double(q.nextAttempt))), ("last_error", q.lastError.map(JSONValue.string) ?? .null),
                ]))
            }
            print(JSONValue.object(JSONObject([
                ("queued_uploads", .array(uploads)), ("pending_commits", .array(pendingCommits.map(JSONValue.string))),
                ("unhydrated", .array(unhydrated.map(JSONValue.string))),
                ("owed_to_primary", .number(Double(owedToPrimary))),
            ])).serialized(pretty: true))
            return
        }
        print("Queued uploads: \(queued.count)")
        for q in queued {
            let error = q.lastError.map { ", last error: \($0)" } ?? ""
            print("  \(q.path)  \(q.sha256.prefix(12))  \(q.size) bytes  commit \(q.commit.prefix(7))  attempts \(q.attempts)\(error)")
        }
        if !pendingCommits.isEmpty {
            print("Commits whose artifacts are queued next (capture pending): \(pendingCommits.count)")
            for commit in pendingCommits { print("  \(commit.prefix(12))") }
        }
        if owedToPrimary > 0 { print("On the hybrid fallback only (owed to the primary): \(owedToPrimary)") }
        print("Unhydrated artifacts: \(unhydrated.count)")
        for path in unhydrated { print("  \(path)") }
        if !queued.isEmpty || owedToPrimary > 0 { Terminal.hint("'git anvcs retry-uploads' sends them now") }
        if !unhydrated.isEmpty { Terminal.hint("'git anvcs hydrate --all' fetches their bytes") }
    }
}
