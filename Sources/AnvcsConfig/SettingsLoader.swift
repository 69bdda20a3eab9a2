import Foundation
import Yams

/// Builds `Settings` from the layers, lowest precedence first.
public enum SettingsLoader {
    public static let fileName = "ai-vcs.config.yaml"

    /// - Parameters:
    ///   - repositoryRoot: the work tree whose `ai-vcs.config.yaml` is read, if any.
    ///   - gitConfig: entries of git config whose keys start with `anvcs.` (as git lists them).
    ///   - environment: the process environment (for `${VAR}` and `ANVCS_<KEY>` overrides).
    ///   - flags: values given on the command line, by setting key.
    public static func load(
        repositoryRoot: String?, gitConfig: [(key: String, value: String)] = [],
        environment: [String: String] = [:], flags: [String: ConfigValue] = [:]
    ) -> Settings {
        var settings = Settings()
        if let root = repositoryRoot {
            let path = (root.hasSuffix("/") ? root : root + "/") + fileName
            if let data = FileManager.default.contents(atPath: path) {
                readFile(data, path: fileName, environment: environment, into: &settings)
            }
        }
        for (key, value) in gitConfig {
            let lowered = key.lowercased()
            guard lowered.hasPrefix("anvcs.") else { continue }
            settings.apply(settingKey(forGitConfig: key), .scalar(value), source: .gitConfig, file: "git config \(key)")
        }
        for spec in SettingsSchema.specs {
            let variable = environmentVariable(for: spec.key)
            if let value = environment[variable] {
                settings.apply(spec.key, spec.kind == .list ? .list(ConfigValue.scalar(value).list) : .scalar(value),
                               source: .environment(variable: variable), file: "$\(variable)")
            }
        }
        for (key, value) in flags { settings.apply(key, value, source: .flag, file: "command line") }
        return settings
    }

    /// `anvcs.blobs.upload-on-commit` -> `blobs.upload_on_commit`: git allows no `_` in a
    /// variable name, so the last component's dashes stand for the file's underscores.
    public static func settingKey(forGitConfig key: String) -> String {
        var parts = key.dropFirst("anvcs.".count).split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        if let last = parts.popLast() { parts.append(last.replacingOccurrences(of: "-", with: "_")) }
        return parts.joined(separator: ".")
    }

    /// `provenance.prompt` -> `ANVCS_PROVENANCE_PROMPT`.
    public static func environmentVariable(for key: String) -> String {
        "ANVCS_" + key.uppercased().map { $0 == "." ? "_" : $0 }.map(String.init).joined()
    }

    /// Parses the YAML text; a syntax error or a value of the wrong type becomes a problem
    /// naming the file, line and key, and leaves the defaults in place.
    static func readFile(_ data: Data, path: String, environment: [String: String], into settings: inout Settings) {
        guard let text = String(data: data, encoding: .utf8) else {
            settings.addProblem(ConfigError(file: path, line: nil, key: nil, reason: "not UTF-8 text; using defaults"))
            return
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            let (line, reason) = describe(error)
            settings.addProblem(ConfigError(file: path, line: line, key: line.flatMap { keyNear(line: $0, in: text) },
                                            reason: reason + "; using defaults"))
            return
        } catch {
            settings.addProblem(ConfigError(file: path, line: nil, key: nil, reason: "\(error); using defaults"))
            return
        }
        guard let root else { return }  // an empty file is valid: all defaults
        guard case .mapping = root else {
            settings.addProblem(ConfigError(file: path, line: root.mark?.line, key: nil,
                                            reason: "the top level must be a mapping of keys; using defaults"))
            return
        }
        flatten(root, prefix: "", path: path, environment: environment, into: &settings)
    }

    static func flatten(_ node: Node, prefix: String, path: String, environment: [String: String], into settings: inout Settings) {
        switch node {
        case .mapping(let mapping):
            for (keyNode, valueNode) in mapping {
                guard let k = keyNode.scalar?.string else { continue }
                flatten(valueNode, prefix: prefix.isEmpty ? k : prefix + "." + k, path: path, environment: environment, into: &settings)
            }
        case .scalar(let scalar):
            let line = node.mark?.line ?? 0
            if scalar.style == .plain, ["", "~", "null", "Null", "NULL"].contains(scalar.string) { return }
            do {
                let expanded = try expandVariables(scalar.string, environment: environment)
                warnIfSecret(key: prefix, raw: scalar.string, path: path, line: line, into: &settings)
                settings.apply(prefix, .scalar(expanded), source: .file(path: path, line: line), file: path)
            } catch {
                settings.addProblem(ConfigError(file: path, line: line, key: prefix, reason: error.reason))
            }
        case .sequence(let sequence):
            let line = node.mark?.line ?? 0
            var items: [String] = []
            for item in sequence {
                guard let s = item.scalar?.string else {
                    settings.addProblem(ConfigError(file: path, line: item.mark?.line ?? line, key: prefix,
                                                    reason: "expected a list of plain values"))
                    return
                }
                do { items.append(try expandVariables(s, environment: environment)) } catch {
                    settings.addProblem(ConfigError(file: path, line: item.mark?.line ?? line, key: prefix, reason: error.reason))
                    return
                }
            }
            if let spec = SettingsSchema.spec(prefix), spec.kind != .list {
                settings.addProblem(ConfigError(file: path, line: line, key: prefix, reason: "expected a single value, got a list"))
                return
            }
            settings.apply(prefix, .list(items), source: .file(path: path, line: line), file: path)
        case .alias:
            return
        }
    }

    static func warnIfSecret(key: String, raw: String, path: String, line: Int, into settings: inout Settings) {
        let lowered = key.lowercased()
        guard SettingsSchema.secretWords.contains(where: { lowered.contains($0) }),
              !raw.isEmpty, !raw.contains("${") else { return }
        settings.addWarning("\(path):\(line): \(key): a secret is written in the file; set it in the environment or the credential chain instead")
    }

    static func describe(_ error: YamlError) -> (Int?, String) {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            return (mark.line, "YAML syntax error: \(problem)")
        default:
            let text = "\(error)".split(separator: "\n").first.map(String.init) ?? "\(error)"
            let line = Int(text.split(separator: ":").first ?? "")
            return (line, "YAML error: \(text)")
        }
    }

    /// The nearest key at or above `line` (1-based), so a syntax error can name one.
    static func keyNear(line: Int, in text: String) -> String? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        var i = min(line, lines.count) - 1
        while i >= 0 {
            let l = lines[i].drop(while: { $0 == " " || $0 == "-" })
            if !l.hasPrefix("#"), let colon = l.firstIndex(of: ":") {
                let k = l[..<colon].trimmingWhitespace()
                if !k.isEmpty && !k.contains(" ") { return k }
            }
            i -= 1
        }
        return nil
    }
}
