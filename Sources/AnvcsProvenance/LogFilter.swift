/// The filters of `git anvcs log` and `graph`: `agent:foo`, `model:gpt-4o*`, `tests:pass|fail`,
/// `path:src/**`, `author:jane`. Terms of different kinds must all match (AND); several values of
/// one kind, given as `agent:a,b` or as separate terms, match any (OR). `*` and `?` are wildcards;
/// `**` in a path crosses directories.
public struct LogFilter: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case agent, model, tests, path, author
    }

    public private(set) var values: [Kind: [String]] = [:]
    public var since: Int64?
    public var until: Int64?

    public init() {}

    public var isEmpty: Bool { values.isEmpty && since == nil && until == nil }
    public func values(_ kind: Kind) -> [String] { values[kind] ?? [] }

    /// Adds the terms of one `--filter` expression.
    public mutating func add(expression: String) throws(FilterError) {
        var column = 1
        for token in expression.split(separator: " ", omittingEmptySubsequences: false) {
            defer { column += token.count + 1 }
            guard !token.isEmpty else { continue }
            guard let colon = token.firstIndex(of: ":") else {
                throw FilterError(expression: expression, token: String(token), column: column,
                                  reason: "expected KIND:VALUE with KIND one of \(Kind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let name = token[..<colon].lowercased()
            guard let kind = Kind(rawValue: name) else {
                throw FilterError(expression: expression, token: String(token), column: column,
                                  reason: "unknown filter '\(name)' (expected \(Kind.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            let alternatives = token[token.index(after: colon)...].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard !alternatives.contains(where: \.isEmpty) else {
                throw FilterError(expression: expression, token: String(token), column: column, reason: "'\(name):' needs a value")
            }
            if kind == .tests {
                for v in alternatives where !["pass", "fail", "passed", "failed", "none"].contains(v.lowercased()) {
                    throw FilterError(expression: expression, token: String(token), column: column, reason: "tests takes pass, fail or none, not '\(v)'")
                }
            }
            values[kind, default: []].append(contentsOf: alternatives)
        }
    }

    /// Whether a commit passes the non-path filters.
    /// `author` is built only when an author filter asks for it (it is a concatenation per row).
    public func matches(agent: String?, model: String?, testsPassed: Bool?, author: @autoclosure () -> String, time: Int64) -> Bool {
        if let since, time < since { return false }
        if let until, time > until { return false }
        if let v = values[.agent], !v.contains(where: { Glob.matches($0, agent ?? "") }) { return false }
        if let v = values[.model], !v.contains(where: { Glob.matches($0, model ?? "") }) { return false }
        if let v = values[.author] {
            let author = author()
            if !v.contains(where: { author.lowercased().contains($0.lowercased()) || Glob.matches($0, author) }) { return false }
        }
        if let v = values[.tests] {
            let state = testsPassed.map { $0 ? "pass" : "fail" } ?? "none"
            if !v.contains(where: { $0.lowercased().hasPrefix(state) || (state == "none" && $0.lowercased() == "none") }) { return false }
        }
        return true
    }

    /// Whether any changed path matches the path filter (true when there is none).
    public func matches(paths: [String]) -> Bool {
        guard let patterns = values[.path] else { return true }
        return paths.contains { p in patterns.contains { Glob.matches($0, p, pathMode: true) } }
    }
}

/// A filter expression that does not parse: the expression, the bad token and where it stands.
public struct FilterError: Error, Sendable, CustomStringConvertible {
    public let expression: String
    public let token: String
    public let column: Int
    public let reason: String
    public var description: String { "bad filter '\(expression)' at column \(column), '\(token)': \(reason)" }
}

/// Shell-style wildcards: `*` (within a path segment in path mode), `**` (across), `?`.
public enum Glob {
    public static func matches(_ pattern: String, _ text: String, pathMode: Bool = false) -> Bool {
        let literal = !pattern.utf8.contains(where: { $0 == UInt8(ascii: "*") || $0 == UInt8(ascii: "?") })
        if literal {
            // Most filters name an agent or a model exactly: no scalar arrays for those.
            guard pathMode else { return pattern == text }
            // A directory pattern without wildcards matches everything below it (`src` ~ `src/a.c`).
            let dir = pattern.hasSuffix("/") ? pattern : pattern + "/"
            return text == pattern || text.hasPrefix(dir)
        }
        return match(Array(pattern.unicodeScalars), 0, Array(text.unicodeScalars), 0, pathMode)
    }

    private static func match(_ p: [Unicode.Scalar], _ pi: Int, _ t: [Unicode.Scalar], _ ti: Int, _ pathMode: Bool) -> Bool {
        var pi = pi, ti = ti
        while pi < p.count {
            let c = p[pi]
            if c == "*" {
                let double = pi + 1 < p.count && p[pi + 1] == "*"
                var next = pi + (double ? 2 : 1)
                if double, next < p.count, p[next] == "/" { next += 1 }
                if next == p.count { return double || !pathMode || !t[ti...].contains("/") }
                var k = ti
                while k <= t.count {
                    if match(p, next, t, k, pathMode) { return true }
                    if k < t.count, pathMode, !double, t[k] == "/" { return false }
                    k += 1
                }
                return false
            }
            guard ti < t.count else { return false }
            if c != "?" && c != t[ti] { return false }
            if c == "?" && pathMode && t[ti] == "/" { return false }
            pi += 1
            ti += 1
        }
        return ti == t.count
    }
}

/// Dates as `--since`/`--until` take them: `2w`, `3 days ago`, `2026-11-01`, `2026-11-01T12:00`, `@1767225600`.
public enum DateExpression {
    public static func parse(_ text: String, now: Int64) -> Int64? {
        let s = text.trimmed(" ").lowercased()
        if s.hasPrefix("@"), let v = Int64(s.dropFirst()) { return v }
        if s == "now" { return now }
        if s == "yesterday" { return now - 86_400 }
        // Relative: "2w", "2 weeks", "2.weeks.ago", "10 days ago".
        let cleaned = s.replacingOccurrences(of: ".", with: " ").replacingOccurrences(of: " ago", with: "")
        var digits = cleaned.prefix(while: { $0.isNumber })
        if !digits.isEmpty, let n = Int64(digits) {
            var unit = String(cleaned.dropFirst(digits.count)).trimmed(" ")
            if unit.hasSuffix("s") && unit.count > 2 { unit.removeLast() }
            let seconds: Int64?
            switch unit {
            case "s", "sec", "second": seconds = 1
            case "m", "min", "minute": seconds = 60
            case "h", "hour": seconds = 3_600
            case "d", "day": seconds = 86_400
            case "w", "week": seconds = 604_800
            case "mo", "month": seconds = 2_592_000
            case "y", "year": seconds = 31_536_000
            default: seconds = nil
            }
            if let seconds { return now - n * seconds }
            digits = ""
        }
        return absolute(s)
    }

    static func absolute(_ s: String) -> Int64? {
        // YYYY-MM-DD[(T| )HH:MM[:SS]][Z]
        let parts = s.replacingOccurrences(of: "t", with: " ").replacingOccurrences(of: "z", with: "").split(separator: " ")
        guard let datePart = parts.first else { return nil }
        let ymd = datePart.split(separator: "-").compactMap { Int64($0) }
        guard ymd.count == 3, (1...12).contains(ymd[1]), (1...31).contains(ymd[2]) else { return nil }
        var hms: [Int64] = [0, 0, 0]
        if parts.count > 1 {
            let t = parts[1].split(separator: ":").compactMap { Int64($0) }
            guard !t.isEmpty, t.count <= 3 else { return nil }
            for (i, v) in t.enumerated() { hms[i] = v }
        }
        return daysFromCivil(ymd[0], ymd[1], ymd[2]) * 86_400 + hms[0] * 3_600 + hms[1] * 60 + hms[2]
    }

    static func daysFromCivil(_ y0: Int64, _ m: Int64, _ d: Int64) -> Int64 {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}

extension String {
    func trimmed(_ set: Character) -> String {
        var s = Substring(self)
        while s.first == set { s.removeFirst() }
        while s.last == set { s.removeLast() }
        return String(s)
    }
}
