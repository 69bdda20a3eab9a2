/// The languages the structured layer understands, chosen by file extension.
enum Language: String, Sendable {
    case python, javascript, typescript, json, yaml, swift

    /// The language of `path`, among those the given parsers can check (Swift needs its parser).
    init?(path: String?, parsers: LanguageParsers) {
        guard let language = Language(path: path), language != .swift || parsers.swift != nil else { return nil }
        self = language
    }

    init?(path: String?) {
        guard let path, let dot = path.lastIndex(of: ".") else { return nil }
        switch path[path.index(after: dot)...].lowercased() {
        case "py", "pyi": self = .python
        case "js", "jsx", "mjs", "cjs": self = .javascript
        case "ts", "tsx", "mts", "cts": self = .typescript
        case "json", "jsonc": self = .json
        case "yaml", "yml": self = .yaml
        case "swift": self = .swift
        default: return nil
        }
    }

    var lineComment: String {
        switch self {
        case .python, .yaml: "#"
        case .javascript, .typescript, .json, .swift: "//"
        }
    }

    var hasBlockComments: Bool { self != .python && self != .yaml }
    var usesBraces: Bool { self != .python && self != .yaml }
    /// Whether indentation carries meaning, so whitespace changes are never ignored.
    var indentationMatters: Bool { self == .python || self == .yaml }
}
