/// A configuration that cannot be used as written: which file, line and key, and why.
public struct ConfigError: Error, CustomStringConvertible, Sendable, Equatable {
    public let file: String
    public let line: Int?
    public let key: String?
    public let reason: String

    public init(file: String, line: Int?, key: String?, reason: String) {
        self.file = file
        self.line = line
        self.key = key
        self.reason = reason
    }

    /// One line, as compilers print: `ai-vcs.config.yaml:7: provenance.prompt: expected ...`.
    public var description: String {
        var s = file
        if let line { s += ":\(line)" }
        s += ": "
        if let key { s += "\(key): " }
        return s + reason
    }
}
