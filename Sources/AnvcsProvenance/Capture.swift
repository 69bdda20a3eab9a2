import AnvcsConfig
import Crypto
import Foundation

/// The provenance of one commit, before it becomes a note.
public struct Provenance: Sendable, Equatable {
    public var prompt: String?
    public var promptSHA256: String?
    public var model: String?
    public var agentID: String?
    public var agentTool: String?
    public var testsPassed: Bool?
    public var tests: TestSummary?
    public var testReportRef: String?
    public var coverage: Double?
    public var env: [String: String] = [:]
    public var sessionID: String?
    /// Which source supplied each field: `flag`, `env`, `session`, `detected`, `config`.
    public var sources: [String: String] = [:]
    /// Secret kinds removed from the prompt.
    public var redacted: [String] = []

    public init() {}
}

/// Collects provenance from its sources, highest precedence first: flags of `git anvcs commit`
/// (passed down as `ANVCS_*` variables and listed in `ANVCS_FLAGS`), the environment, the
/// active session, the coding agent detected from the environment, and configuration defaults.
public enum Capture {
    public struct Output: Sendable {
        public var provenance: Provenance
        /// Problems that did not stop the capture (an unreadable report, an oversized prompt).
        public var warnings: [String]
    }

    public static func collect(
        environment env: [String: String], session: Session?, settings: Settings,
        repositoryRoot: String?, authorName: String? = nil, gitVersion: String? = nil
    ) -> Output {
        var p = Provenance()
        var warnings: [String] = []
        let fromFlags = Set((env["ANVCS_FLAGS"] ?? "").split(separator: ",").map(String.init))
        func envSource(_ field: String) -> String { fromFlags.contains(field) ? "flag" : "env" }
        let detected = AgentDetection.detect(environment: env, authorName: authorName)
        func nonEmpty(_ s: String?) -> String? { s.flatMap { $0.isEmpty ? nil : $0 } }

        // Prompt: a file (any size) or the variable, then the session's.
        var prompt: String?
        if let file = nonEmpty(env["ANVCS_PROMPT_FILE"]) {
            if let data = FileManager.default.contents(atPath: file) {
                prompt = String(decoding: data, as: UTF8.self)
                p.sources["prompt"] = envSource("prompt")
            } else {
                warnings.append("cannot read prompt file \(file); the prompt is not recorded")
            }
        } else if let text = nonEmpty(env["ANVCS_PROMPT"]) {
            prompt = text
            p.sources["prompt"] = envSource("prompt")
        } else if let text = nonEmpty(session?.prompt) {
            prompt = text
            p.sources["prompt"] = "session"
        }
        if let prompt {
            let policy = settings.string("provenance.prompt") ?? "full"
            let maxBytes = settings.integer("provenance.max_prompt_bytes") ?? 8 << 20
            p.promptSHA256 = sha256Hex(Array(prompt.utf8))
            switch policy {
            case "none":
                p.promptSHA256 = nil
                p.sources["prompt"] = nil
            case "hash":
                break
            default:
                if prompt.utf8.count > maxBytes {
                    warnings.append("prompt is \(prompt.utf8.count) bytes, over provenance.max_prompt_bytes (\(maxBytes)); stored as sha256 only")
                } else {
                    let r = Redaction.redact(prompt)
                    p.prompt = r.text
                    p.redacted = r.found
                }
            }
        }

        if let v = nonEmpty(env["ANVCS_MODEL"]) { p.model = v; p.sources["model"] = envSource("model") }
        else if let v = nonEmpty(session?.model) { p.model = v; p.sources["model"] = "session" }
        else if let v = detected?.model { p.model = v; p.sources["model"] = "detected" }
        else if let v = settings.string("agent.model") { p.model = v; p.sources["model"] = "config" }

        if let v = nonEmpty(env["ANVCS_AGENT_ID"]) { p.agentID = v; p.sources["agent_id"] = envSource("agent_id") }
        else if let v = nonEmpty(session?.agentID) { p.agentID = v; p.sources["agent_id"] = "session" }
        else if let v = detected?.tool { p.agentID = v; p.sources["agent_id"] = "detected" }
        else if let v = settings.string("agent.id") { p.agentID = v; p.sources["agent_id"] = "config" }
        p.agentTool = detected?.tool
        p.sessionID = session?.id

        if let path = nonEmpty(env["ANVCS_TEST_REPORT"]) {
            let resolved = resolve(path, root: repositoryRoot)
            if let data = FileManager.default.contents(atPath: resolved) {
                do {
                    let summary = try ReportParser.junit(String(decoding: data, as: UTF8.self), path: path)
                    p.tests = summary
                    p.testsPassed = summary.allPassed
                    p.testReportRef = relative(path, root: repositoryRoot)
                    p.sources["tests"] = envSource("tests")
                } catch {
                    warnings.append(error.description)
                }
            } else {
                warnings.append("cannot read test report \(path): no such readable file")
            }
        }
        if let v = nonEmpty(env["ANVCS_TESTS_PASSED"]), let b = parseBool(v) {
            p.testsPassed = b
            p.sources["tests"] = envSource("tests")
        }
        if let v = nonEmpty(env["ANVCS_COVERAGE"]) {
            let number = v.hasSuffix("%") ? String(v.dropLast()) : v
            if let n = Double(number), n >= 0, n <= 100 {
                p.coverage = n
                p.sources["coverage"] = envSource("coverage")
            } else if let data = FileManager.default.contents(atPath: resolve(v, root: repositoryRoot)) {
                do {
                    p.coverage = try ReportParser.coverage(String(decoding: data, as: UTF8.self), path: v)
                    p.sources["coverage"] = envSource("coverage")
                } catch {
                    warnings.append(error.description)
                }
            } else {
                warnings.append("coverage '\(v)' is neither a percentage nor a readable Cobertura/lcov file")
            }
        }
        p.env = EnvironmentInfo.collect(repositoryRoot: repositoryRoot, environment: env, gitVersion: gitVersion)
        return Output(provenance: p, warnings: warnings)
    }

    static func resolve(_ path: String, root: String?) -> String {
        guard !path.hasPrefix("/"), let root else { return path }
        return (root.hasSuffix("/") ? root : root + "/") + path
    }

    /// Paths inside the work tree are recorded relative to it, so notes read the same on every clone.
    static func relative(_ path: String, root: String?) -> String {
        guard let root else { return path }
        let prefix = root.hasSuffix("/") ? root : root + "/"
        return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path
    }

    static func parseBool(_ s: String) -> Bool? {
        switch s.lowercased() {
        case "1", "true", "yes", "pass", "passed": return true
        case "0", "false", "no", "fail", "failed": return false
        default: return nil
        }
    }
}

public func sha256Hex(_ bytes: [UInt8]) -> String {
    SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
}
