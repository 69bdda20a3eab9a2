/// A coding agent recognised from the environment it sets for the programs it runs.
public struct DetectedAgent: Sendable, Equatable {
    /// A stable tool name: `claude-code`, `codex`, `cursor`, `aider`, `gemini-cli`, `copilot`, or what `AI_AGENT` says.
    public let tool: String
    /// The model the tool says it uses, when it exports one.
    public let model: String?
    /// The variable that gave it away (for `show --verbose` and tests).
    public let evidence: String
}

public enum AgentDetection {
    /// Looks at the environment (and, for tools that only mark their commits, the author name)
    /// and names the agent. The first match wins; `AI_AGENT` is the emerging cross-tool standard.
    public static func detect(environment env: [String: String], authorName: String? = nil) -> DetectedAgent? {
        func model(_ keys: String...) -> String? { keys.lazy.compactMap { env[$0] }.first(where: { !$0.isEmpty }) }
        if let name = env["AI_AGENT"], !name.isEmpty {
            return DetectedAgent(tool: name, model: model("AI_MODEL"), evidence: "AI_AGENT")
        }
        if env["CLAUDECODE"] != nil || env["CLAUDE_CODE_ENTRYPOINT"] != nil {
            return DetectedAgent(tool: "claude-code", model: model("ANTHROPIC_MODEL", "CLAUDE_CODE_MODEL"),
                                 evidence: env["CLAUDECODE"] != nil ? "CLAUDECODE" : "CLAUDE_CODE_ENTRYPOINT")
        }
        if let key = ["CODEX_SANDBOX", "CODEX_THREAD_ID", "CODEX_SANDBOX_NETWORK_DISABLED", "CODEX_MANAGED_BY_NPM"].first(where: { env[$0] != nil }) {
            return DetectedAgent(tool: "codex", model: model("CODEX_MODEL", "OPENAI_MODEL"), evidence: key)
        }
        if env["CURSOR_AGENT"] != nil || env["CURSOR_TRACE_ID"] != nil {
            return DetectedAgent(tool: "cursor", model: model("CURSOR_MODEL"),
                                 evidence: env["CURSOR_AGENT"] != nil ? "CURSOR_AGENT" : "CURSOR_TRACE_ID")
        }
        if env["GEMINI_CLI"] != nil {
            return DetectedAgent(tool: "gemini-cli", model: model("GEMINI_MODEL"), evidence: "GEMINI_CLI")
        }
        if let key = env.keys.sorted().first(where: { $0.hasPrefix("AIDER_") }) {
            return DetectedAgent(tool: "aider", model: model("AIDER_MODEL"), evidence: key)
        }
        if let author = authorName, author.hasSuffix("(aider)") {
            return DetectedAgent(tool: "aider", model: model("AIDER_MODEL"), evidence: "author name")
        }
        if let key = ["COPILOT_AGENT_ID", "COPILOT_AGENT_ACTION", "GITHUB_COPILOT_AGENT"].first(where: { env[$0] != nil }) {
            return DetectedAgent(tool: "copilot", model: model("COPILOT_MODEL"), evidence: key)
        }
        if let author = authorName, author.lowercased().hasPrefix("copilot") {
            return DetectedAgent(tool: "copilot", model: model("COPILOT_MODEL"), evidence: "author name")
        }
        return nil
    }
}
