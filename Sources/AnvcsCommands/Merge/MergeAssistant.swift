import AnvcsMerge
import Foundation

/// `merge.llm.command`: an external program that receives the conflicts left by the driver as
/// JSON on stdin and answers with proposed resolutions on stdout:
///
///     in:  {"schema": "anvcs/merge-llm/1", "conflicts": [{"path", "text" (with markers), "base", "ours", "theirs"}]}
///     out: {"resolutions": [{"path", "content", "rationale"}]}
///
/// A proposal is used only if it covers every conflicted file, leaves no conflict markers and parses
/// (where the engine can check the language); the tests then decide, as for any merge.
struct MergeAssistant {
    let command: String
    let environment: [String: String]

    struct Proposal: Codable {
        var path: String
        var content: String
        var rationale: String?
    }

    struct Failure: Error, CustomStringConvertible { var description: String }

    func propose(for paths: [String], in tree: WorktreeGit) throws -> [Proposal] {
        var conflicts: [[String: String]] = []
        for path in paths {
            var entry = ["path": path]
            entry["text"] = (try? String(contentsOfFile: tree.directory + "/" + path, encoding: .utf8)) ?? ""
            for (stage, name) in [(1, "base"), (2, "ours"), (3, "theirs")] {
                entry[name] = (try? tree.run(["show", ":\(stage):\(path)"]))?.stdout ?? ""
            }
            conflicts.append(entry)
        }
        let request = try JSONSerialization.data(withJSONObject: ["schema": "anvcs/merge-llm/1", "conflicts": conflicts],
                                                 options: [.sortedKeys])
        let result = try Subprocess.run(["sh", "-c", command], environment: environment, directory: tree.directory, input: request)
        guard result.status == 0 else {
            throw Failure(description: "merge.llm.command exited \(result.status): \(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        struct Answer: Codable { var resolutions: [Proposal] }
        guard let answer = try? JSONDecoder().decode(Answer.self, from: Data(result.stdout.utf8)) else {
            throw Failure(description: "merge.llm.command did not answer {\"resolutions\": [{\"path\", \"content\", \"rationale\"}]}")
        }
        for path in paths {
            guard let proposal = answer.resolutions.first(where: { $0.path == path }) else {
                throw Failure(description: "merge.llm.command proposed nothing for \(path)")
            }
            let markers = proposal.content.split(separator: "\n", omittingEmptySubsequences: false).contains {
                $0.hasPrefix("<<<<<<< ") || $0.hasPrefix(">>>>>>> ") || $0 == "======="
            }
            if markers { throw Failure(description: "the proposal for \(path) still has conflict markers") }
            if MergeEngine.checkSyntax(proposal.content, path: path) == false {
                throw Failure(description: "the proposal for \(path) does not parse")
            }
            // Swift cannot be checked without swift-syntax here: when unsure, no proposal.
            if path.hasSuffix(".swift") { throw Failure(description: "the proposal for \(path) cannot be parsed here (Swift)") }
        }
        return paths.compactMap { path in answer.resolutions.first { $0.path == path } }
    }
}
