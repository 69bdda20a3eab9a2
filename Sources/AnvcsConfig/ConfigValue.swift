/// Where a setting came from, highest precedence last.
public enum ConfigSource: Sendable, Equatable, CustomStringConvertible {
    case builtIn
    case file(path: String, line: Int)
    case gitConfig
    case environment(variable: String)
    case flag

    public var description: String {
        switch self {
        case .builtIn: return "default"
        case .file(let path, let line): return "\(path):\(line)"
        case .gitConfig: return "git config"
        case .environment(let v): return "$\(v)"
        case .flag: return "command line"
        }
    }
}

/// One setting's value: a scalar or a list of scalars (YAML sequences like `blobs.track`).
public enum ConfigValue: Sendable, Equatable {
    case scalar(String)
    case list([String])

    public var scalar: String? {
        if case .scalar(let s) = self { return s }
        return nil
    }
    public var list: [String] {
        switch self {
        case .scalar(let s): return s.isEmpty ? [] : s.split(separator: ",").map { $0.trimmingWhitespace() }
        case .list(let l): return l
        }
    }
}

/// A value and where it came from.
public struct ConfigEntry: Sendable, Equatable {
    public var value: ConfigValue
    public var source: ConfigSource
}

extension Substring {
    func trimmingWhitespace() -> String {
        var s = self
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }
}
