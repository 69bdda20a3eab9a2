/// Whether a text is well formed in its language: a real parser for Swift and JSON, a careful
/// lexical and indentation check for the others. A structured merge is kept only if it passes.
struct SyntaxCheck {
    let language: Language
    /// Real parsers from the caller; `Language.init(path:parsers:)` only picks Swift when one is given.
    var parsers = LanguageParsers()

    func accepts(_ text: String, lenientJSON: Bool = false) -> Bool {
        let scan = LineScanner(language: language).scan(text)
        guard scan.wellFormed else { return false }
        switch language {
        case .swift:
            guard let swift = parsers.swift else { return false }
            return swift(text)
        case .json:
            var parser = JSONCheck(bytes: Array(text.utf8), lenient: lenientJSON)
            return parser.document()
        case .python:
            return pythonIndentationIsConsistent(scan.lines)
        case .yaml:
            return !scan.lines.contains { !$0.isBlank && $0.text.hasPrefix("\t") }
        case .javascript, .typescript:
            return true
        }
    }

    private func pythonIndentationIsConsistent(_ lines: [ScannedLine]) -> Bool {
        var stack = [0]
        var opensBlock = false
        var continued = false
        for line in lines where !line.isBlank && !line.isComment && !line.startsInside {
            // The closing line of a bracket opened above (`) -> None:` of a signature cut over several
            // lines) ends the logical line: whether it opens a block is decided there.
            if line.startDepth > 0 {
                if line.endDepth == 0 { opensBlock = line.lastCode == ":"; continued = line.lastCode == "\\" }
                continue
            }
            if continued { continued = line.lastCode == "\\"; if line.endDepth == 0 { opensBlock = line.lastCode == ":" }; continue }
            if opensBlock {
                guard line.indent > stack.last! else { return false }
                stack.append(line.indent)
            } else if line.indent > stack.last! {
                return false
            } else {
                while line.indent < stack.last! { stack.removeLast() }
                guard line.indent == stack.last! else { return false }
            }
            opensBlock = line.endDepth == 0 && line.lastCode == ":"
            continued = line.lastCode == "\\"
        }
        return true
    }
}

/// A strict JSON recogniser (comments and trailing commas only when lenient).
struct JSONCheck {
    let bytes: [UInt8]
    let lenient: Bool
    var i = 0

    init(bytes: [UInt8], lenient: Bool) {
        self.bytes = bytes
        self.lenient = lenient
    }

    mutating func document() -> Bool {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { i = 3 }
        guard value() else { return false }
        skip()
        return i == bytes.count
    }

    private mutating func skip() {
        while i < bytes.count {
            let b = bytes[i]
            if b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 { i += 1; continue }
            if lenient && b == 0x2F && i + 1 < bytes.count {
                if bytes[i + 1] == 0x2F { while i < bytes.count && bytes[i] != 0x0A { i += 1 }; continue }
                if bytes[i + 1] == 0x2A {
                    i += 2
                    while i + 1 < bytes.count && !(bytes[i] == 0x2A && bytes[i + 1] == 0x2F) { i += 1 }
                    i += 2
                    continue
                }
            }
            return
        }
    }

    private mutating func value() -> Bool {
        skip()
        guard i < bytes.count else { return false }
        switch bytes[i] {
        case 0x7B: return container(close: 0x7D, member: true)
        case 0x5B: return container(close: 0x5D, member: false)
        case 0x22: return string()
        default:
            let start = i
            while i < bytes.count, "-+.0123456789eEtruefalsn".utf8.contains(bytes[i]) { i += 1 }
            let word = String(decoding: bytes[start ..< i], as: UTF8.self)
            if word == "true" || word == "false" || word == "null" { return true }
            return !word.isEmpty && Double(word) != nil && word.first != "+"
        }
    }

    private mutating func container(close: UInt8, member: Bool) -> Bool {
        i += 1
        skip()
        if i < bytes.count && bytes[i] == close { i += 1; return true }
        while true {
            if member {
                skip()
                guard i < bytes.count, bytes[i] == 0x22, string() else { return false }
                skip()
                guard i < bytes.count, bytes[i] == 0x3A else { return false }
                i += 1
            }
            guard value() else { return false }
            skip()
            guard i < bytes.count else { return false }
            if bytes[i] == close { i += 1; return true }
            guard bytes[i] == 0x2C else { return false }
            i += 1
            skip()
            if lenient && i < bytes.count && bytes[i] == close { i += 1; return true }
        }
    }

    private mutating func string() -> Bool {
        i += 1
        while i < bytes.count {
            if bytes[i] == 0x5C { i += 2; continue }
            if bytes[i] == 0x22 { i += 1; return true }
            if bytes[i] < 0x20 { return false }
            i += 1
        }
        return false
    }
}
