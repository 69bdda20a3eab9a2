/// One line as the scanner saw it: indentation, bracket depth, and its code stripped of comments.
struct ScannedLine {
    var text: String
    var terminator: String
    var indent: Int
    var isBlank: Bool
    /// Only a comment, or wholly inside a block comment.
    var isComment: Bool
    /// Starts inside a string or block comment begun on an earlier line.
    var startsInside: Bool
    var startDepth: Int
    var endDepth: Int
    var minDepth: Int
    /// The code of the line without comments, trimmed.
    var code: String
    var full: String { text + terminator }
    var firstCode: Character? { startsInside ? nil : code.first }
    var lastCode: Character? { code.last }
}

/// A small lexer per language: strings, comments and brackets, enough to find statement
/// boundaries and to check that a merged text is still well formed.
struct LineScanner {
    let language: Language

    struct Result {
        var lines: [ScannedLine]
        /// Brackets balanced, every string and comment closed.
        var wellFormed: Bool
    }

    private enum State: Equatable {
        case code
        case blockComment(Int)
        case string(String, multiline: Bool)
    }

    func scan(_ text: String) -> Result {
        var lines: [ScannedLine] = []
        var state = State.code
        var depth = 0
        var wellFormed = true
        for raw in Self.splitLines(text) {
            let chars = Array(raw.body)
            let startsInside = state != .code
            let startDepth = depth
            var minDepth = depth
            var code = ""
            var onlyComment = !chars.isEmpty
            var sawCode = false
            var i = 0
            var previousSignificant: Character? = nil
            while i < chars.count {
                let c = chars[i]
                switch state {
                case .blockComment(let level):
                    if c == "*" && i + 1 < chars.count && chars[i + 1] == "/" {
                        state = level > 1 ? .blockComment(level - 1) : .code
                        i += 2
                        continue
                    }
                    if language == .swift && c == "/" && i + 1 < chars.count && chars[i + 1] == "*" {
                        state = .blockComment(level + 1)
                        i += 2
                        continue
                    }
                    i += 1
                case .string(let quote, let multiline):
                    sawCode = true
                    onlyComment = false
                    code.append(c)
                    if c == "\\" {
                        if i + 1 < chars.count { code.append(chars[i + 1]) }
                        i += 2
                        continue
                    }
                    if matches(chars, i, quote) {
                        code += String(quote.dropFirst())
                        i += quote.count
                        state = .code
                        previousSignificant = "\""
                        continue
                    }
                    _ = multiline
                    i += 1
                case .code:
                    if c == " " || c == "\t" {
                        code.append(c)
                        i += 1
                        continue
                    }
                    if matches(chars, i, language.lineComment) && commentAllowed(chars, i) {
                        i = chars.count
                        continue
                    }
                    if language.hasBlockComments && c == "/" && i + 1 < chars.count && chars[i + 1] == "*" {
                        state = .blockComment(1)
                        i += 2
                        continue
                    }
                    onlyComment = false
                    sawCode = true
                    if let quote = stringOpening(chars, i, previous: previousSignificant) {
                        code += quote
                        state = .string(quote, multiline: quote.count == 3 || quote == "`")
                        i += quote.count
                        continue
                    }
                    if (language == .javascript || language == .typescript) && c == "/" && startsRegex(previousSignificant) {
                        // A regular expression literal: skip to its closing slash on this line.
                        var j = i + 1
                        var inClass = false
                        while j < chars.count {
                            if chars[j] == "\\" { j += 2; continue }
                            if chars[j] == "[" { inClass = true } else if chars[j] == "]" { inClass = false }
                            else if chars[j] == "/" && !inClass { break }
                            j += 1
                        }
                        code += String(chars[i ..< min(j + 1, chars.count)])
                        i = j + 1
                        previousSignificant = "a"
                        continue
                    }
                    if language != .yaml {
                        if c == "(" || c == "[" || c == "{" { depth += 1 }
                        if c == ")" || c == "]" || c == "}" {
                            depth -= 1
                            minDepth = min(minDepth, depth)
                            if depth < 0 { wellFormed = false }
                        }
                    }
                    code.append(c)
                    previousSignificant = c
                    i += 1
                }
            }
            if case .string(_, let multiline) = state, !multiline {
                // A one-line string left open is an error unless the line continues it.
                if chars.last != "\\" {
                    wellFormed = false
                    state = .code
                }
            }
            let trimmed = code.trimmingSpaces()
            let indent = chars.prefix { $0 == " " || $0 == "\t" }.count
            let blank = chars.allSatisfy { $0 == " " || $0 == "\t" }
            lines.append(ScannedLine(
                text: raw.body, terminator: raw.terminator, indent: indent, isBlank: blank && !startsInside,
                isComment: !blank && (onlyComment || (!sawCode && startsInside)),
                startsInside: startsInside, startDepth: startDepth, endDepth: depth, minDepth: minDepth,
                code: trimmed))
        }
        if depth != 0 || state != .code { wellFormed = false }
        return Result(lines: lines, wellFormed: wellFormed)
    }

    private func matches(_ chars: [Character], _ i: Int, _ token: String) -> Bool {
        var k = i
        for t in token {
            guard k < chars.count, chars[k] == t else { return false }
            k += 1
        }
        return true
    }

    /// YAML's `#` starts a comment only at the start or after a space.
    private func commentAllowed(_ chars: [Character], _ i: Int) -> Bool {
        language != .yaml || i == 0 || chars[i - 1] == " " || chars[i - 1] == "\t"
    }

    private func stringOpening(_ chars: [Character], _ i: Int, previous: Character?) -> String? {
        let c = chars[i]
        switch language {
        case .python:
            guard c == "\"" || c == "'" else { return nil }
            if matches(chars, i, String(repeating: c, count: 3)) { return String(repeating: c, count: 3) }
            return String(c)
        case .swift:
            guard c == "\"" else { return nil }
            return matches(chars, i, "\"\"\"") ? "\"\"\"" : "\""
        case .javascript, .typescript:
            return c == "\"" || c == "'" || c == "`" ? String(c) : nil
        case .json:
            return c == "\"" ? "\"" : nil
        case .yaml:
            // Quotes open a string only where a YAML scalar may start.
            guard c == "\"" || c == "'" else { return nil }
            guard previous == nil || previous == ":" || previous == "-" || previous == "[" || previous == ","
                || previous == "{" || previous == "?" else { return nil }
            if i > 0 && chars[i - 1] != " " && chars[i - 1] != "\t" && chars[i - 1] != "[" && chars[i - 1] != "{" { return nil }
            return String(c)
        }
    }

    private func startsRegex(_ previous: Character?) -> Bool {
        guard let previous else { return true }
        return "(,=:[!&|?{};+-*%<>~^".contains(previous)
    }

    struct RawLine { var body: String; var terminator: String }

    static func splitLines(_ text: String) -> [RawLine] {
        var result: [RawLine] = []
        var current = ""
        for scalar in text.unicodeScalars {
            if scalar == "\n" {
                if current.unicodeScalars.last == "\r" {
                    current.unicodeScalars.removeLast()
                    result.append(RawLine(body: current, terminator: "\r\n"))
                } else {
                    result.append(RawLine(body: current, terminator: "\n"))
                }
                current = ""
            } else {
                current.unicodeScalars.append(scalar)
            }
        }
        if !current.isEmpty { result.append(RawLine(body: current, terminator: "")) }
        return result
    }
}

extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\r" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" { s = s.dropLast() }
        return String(s)
    }
}

extension String {
    /// The last occurrence of `needle`, without Foundation.
    func lastRange(of needle: String) -> Range<String.Index>? {
        guard !needle.isEmpty, count >= needle.count else { return nil }
        var index = endIndex
        while index > startIndex {
            index = self.index(before: index)
            if self[index...].hasPrefix(needle) { return index ..< self.index(index, offsetBy: needle.count) }
        }
        return nil
    }

    func firstRange(of needle: String) -> Range<String.Index>? {
        var index = startIndex
        while index < endIndex {
            if self[index...].hasPrefix(needle) { return index ..< self.index(index, offsetBy: needle.count) }
            index = self.index(after: index)
        }
        return nil
    }
}
