/// A parsed XML element: just what S3 responses need (names, text, children).
///
/// The parser is ours rather than Foundation's XMLParser: FoundationXML links libxml2, which loads
/// ICU and liblzma into every ANVCS process at start (measured: most of the dynamic relocation
/// time of `git anvcs log`), for the few small documents S3 answers with.
struct XMLElementNode {
    var name: String
    var text: String = ""
    var children: [XMLElementNode] = []

    func child(_ name: String) -> XMLElementNode? { children.first { $0.name == name } }
    func children(_ name: String) -> [XMLElementNode] { children.filter { $0.name == name } }
    func text(_ name: String) -> String? { child(name)?.text }

    /// The root element of a well-formed document, or nil. Elements keep their qualified names
    /// (`prefix:name`, as written); attributes are checked for form and dropped. A DOCTYPE is
    /// refused: S3 never sends one, and refusing it rules out entity expansion.
    static func parse(_ bytes: [UInt8]) -> XMLElementNode? {
        var reader = XMLReader(bytes: bytes)
        return reader.document()
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(character)
            }
        }
        return out
    }
}

/// A recursive-descent reader over the document's bytes (UTF-8, as S3 sends).
private struct XMLReader {
    let bytes: [UInt8]
    var at = 0

    init(bytes: [UInt8]) {
        self.bytes = bytes
        // A UTF-8 byte order mark is allowed before the declaration.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { at = 3 }
    }

    mutating func document() -> XMLElementNode? {
        guard skipMisc() else { return nil }
        guard at < bytes.count, bytes[at] == UInt8(ascii: "<"), let root = element(depth: 0) else { return nil }
        guard skipMisc(), at == bytes.count else { return nil }
        return root
    }

    /// Whitespace, the XML declaration, processing instructions and comments around the root.
    private mutating func skipMisc() -> Bool {
        while true {
            skipSpace()
            if starts("<?") {
                guard skip(past: "?>") else { return false }
            } else if starts("<!--") {
                guard skip(past: "-->") else { return false }
            } else {
                return !starts("<!")  // a DOCTYPE or stray markup
            }
        }
    }

    private mutating func element(depth: Int) -> XMLElementNode? {
        guard depth < 256 else { return nil }  // nesting bound: a hostile document cannot recurse deeply
        at += 1  // "<"
        guard let tag = name() else { return nil }
        var node = XMLElementNode(name: tag)
        // Attributes: name="value" or name='value'.
        while true {
            let hadSpace = skipSpace()
            guard at < bytes.count else { return nil }
            if starts("/>") { at += 2; return node }
            if bytes[at] == UInt8(ascii: ">") { at += 1; break }
            guard hadSpace, name() != nil else { return nil }
            skipSpace()
            guard at < bytes.count, bytes[at] == UInt8(ascii: "=") else { return nil }
            at += 1
            skipSpace()
            guard at < bytes.count, bytes[at] == UInt8(ascii: "\"") || bytes[at] == UInt8(ascii: "'") else { return nil }
            let quote = bytes[at]
            at += 1
            guard let end = bytes[at...].firstIndex(of: quote), !bytes[at..<end].contains(UInt8(ascii: "<")) else { return nil }
            at = end + 1
        }
        // Content: text, CDATA, comments, processing instructions and child elements.
        var text: [UInt8] = []
        while at < bytes.count {
            if starts("</") {
                at += 2
                guard name() == tag else { return nil }
                skipSpace()
                guard at < bytes.count, bytes[at] == UInt8(ascii: ">") else { return nil }
                at += 1
                node.text = String(decoding: text, as: UTF8.self)
                return node
            } else if starts("<![CDATA[") {
                at += 9
                guard let end = find("]]>") else { return nil }
                text += bytes[at..<end]
                at = end + 3
            } else if starts("<!--") {
                guard skip(past: "-->") else { return nil }
            } else if starts("<?") {
                guard skip(past: "?>") else { return nil }
            } else if bytes[at] == UInt8(ascii: "<") {
                guard let child = element(depth: depth + 1) else { return nil }
                node.children.append(child)
            } else if bytes[at] == UInt8(ascii: "&") {
                guard let scalar = reference() else { return nil }
                text += Array(String(Character(scalar)).utf8)
            } else {
                text.append(bytes[at])
                at += 1
            }
        }
        return nil  // the document ended inside an element
    }

    /// `&amp;` and the other predefined entities, `&#NN;` and `&#xNN;`.
    private mutating func reference() -> Unicode.Scalar? {
        guard let end = bytes[at...].prefix(12).firstIndex(of: UInt8(ascii: ";")) else { return nil }
        let body = String(decoding: bytes[(at + 1)..<end], as: UTF8.self)
        at = end + 1
        switch body {
        case "amp": return "&"
        case "lt": return "<"
        case "gt": return ">"
        case "quot": return "\""
        case "apos": return "'"
        default:
            if body.hasPrefix("#x"), let v = UInt32(body.dropFirst(2), radix: 16) { return Unicode.Scalar(v) }
            if body.hasPrefix("#"), let v = UInt32(body.dropFirst(), radix: 10) { return Unicode.Scalar(v) }
            return nil
        }
    }

    /// A name: letters, digits and `_ : - .`, and any non-ASCII byte; not starting with a digit, `-` or `.`.
    private mutating func name() -> String? {
        let start = at
        while at < bytes.count {
            let b = bytes[at]
            let ok = b >= 0x80 || (b >= 0x61 && b <= 0x7A) || (b >= 0x41 && b <= 0x5A) || b == 0x5F || b == 0x3A
                || (at > start && ((b >= 0x30 && b <= 0x39) || b == 0x2D || b == 0x2E))
            guard ok else { break }
            at += 1
        }
        return at > start ? String(decoding: bytes[start..<at], as: UTF8.self) : nil
    }

    @discardableResult
    private mutating func skipSpace() -> Bool {
        let start = at
        while at < bytes.count, bytes[at] == 0x20 || bytes[at] == 0x0A || bytes[at] == 0x0D || bytes[at] == 0x09 { at += 1 }
        return at > start
    }

    private func starts(_ literal: StaticString) -> Bool {
        let n = literal.utf8CodeUnitCount
        guard at + n <= bytes.count else { return false }
        return literal.withUTF8Buffer { lit in (0..<n).allSatisfy { bytes[at + $0] == lit[$0] } }
    }

    private func find(_ literal: StaticString) -> Int? {
        var i = at
        let n = literal.utf8CodeUnitCount
        while i + n <= bytes.count {
            if literal.withUTF8Buffer({ lit in (0..<n).allSatisfy { bytes[i + $0] == lit[$0] } }) { return i }
            i += 1
        }
        return nil
    }

    private mutating func skip(past literal: StaticString) -> Bool {
        guard let end = find(literal) else { return false }
        at = end + literal.utf8CodeUnitCount
        return true
    }
}
