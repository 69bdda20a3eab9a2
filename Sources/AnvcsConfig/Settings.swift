/// The effective ANVCS settings: every layer merged, with where each value came from.
///
/// Precedence, highest first: flags > environment (`ANVCS_<KEY>`) > git config `anvcs.<key>`
/// > `ai-vcs.config.yaml` > built-in defaults. Invalid values never stop git: they become
/// `problems`, and the next layer down (or the default) is used.
public struct Settings: Sendable {
    public private(set) var entries: [String: ConfigEntry] = [:]
    /// Values that could not be used (malformed file, wrong type, unknown choice).
    public private(set) var problems: [ConfigError] = []
    /// Advice that does not invalidate anything (a secret written in the file).
    public private(set) var warnings: [String] = []

    public init() {
        for spec in SettingsSchema.specs {
            if let d = spec.defaultValue { entries[spec.key] = ConfigEntry(value: d, source: .builtIn) }
        }
    }

    /// Sets `key` from `source`, after checking it against the schema. Keys are compared
    /// case-insensitively with `-` and `_` equal, as git config keys are.
    mutating func apply(_ rawKey: String, _ value: ConfigValue, source: ConfigSource, file: String = "") {
        let key = Settings.canonical(rawKey)
        if let spec = SettingsSchema.spec(key), let reason = Settings.validate(value, as: spec.kind) {
            var line: Int?
            if case .file(_, let l) = source { line = l }
            problems.append(ConfigError(file: file.isEmpty ? source.description : file, line: line, key: key, reason: reason))
            return
        }
        entries[key] = ConfigEntry(value: value, source: source)
    }

    mutating func addProblem(_ problem: ConfigError) { problems.append(problem) }
    mutating func addWarning(_ warning: String) { warnings.append(warning) }

    static func canonical(_ key: String) -> String {
        String(key.lowercased().map { $0 == "-" ? "_" : $0 })
    }

    static func validate(_ value: ConfigValue, as kind: SettingKind) -> String? {
        switch kind {
        case .string, .list: return nil
        case .bool:
            guard let s = value.scalar, parseBool(s) != nil else { return "expected true or false, got \(value.display)" }
            return nil
        case .integer:
            guard let s = value.scalar, Int(s) != nil else { return "expected a whole number, got \(value.display)" }
            return nil
        case .choice(let allowed):
            guard let s = value.scalar, allowed.contains(s) else {
                return "expected one of \(allowed.filter { !$0.isEmpty }.joined(separator: ", ")), got \(value.display)"
            }
            return nil
        }
    }

    static func parseBool(_ s: String) -> Bool? {
        switch s.lowercased() {
        case "true", "yes", "on", "1": return true
        case "false", "no", "off", "0", "": return false
        default: return nil
        }
    }

    // MARK: reading

    public func entry(_ key: String) -> ConfigEntry? { entries[Settings.canonical(key)] }
    public func string(_ key: String) -> String? {
        guard let s = entry(key)?.value.scalar, !s.isEmpty else { return nil }
        return s
    }
    public func bool(_ key: String) -> Bool { string(key).flatMap(Settings.parseBool) ?? false }
    public func integer(_ key: String) -> Int? { string(key).flatMap { Int($0) } }
    public func list(_ key: String) -> [String] { entry(key)?.value.list ?? [] }

    /// Every key under `prefix.` (for adapters' free-form settings).
    public func subtree(_ prefix: String) -> [String: String] {
        let p = Settings.canonical(prefix) + "."
        var out: [String: String] = [:]
        for (k, e) in entries where k.hasPrefix(p) { if let s = e.value.scalar { out[String(k.dropFirst(p.count))] = s } }
        return out
    }
}

extension ConfigValue {
    var display: String {
        switch self {
        case .scalar(let s): return "'\(s)'"
        case .list(let l): return "a list of \(l.count)"
        }
    }
}
