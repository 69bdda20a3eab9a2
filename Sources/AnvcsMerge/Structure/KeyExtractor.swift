/// The identity of a unit: declaration kind and name, key of a mapping, module of an import.
struct KeyExtractor {
    let language: Language

    func key(_ unit: Unit, inList: Bool) -> (String, Bool) {
        let codeLines = unit.lines.filter { !$0.isBlank && !$0.isComment && !$0.startsInside }
        let code = codeLines.map(\.code)
        // The head is the first line at the unit's own depth that is not a decorator: the lines of a
        // decorator cut over several lines (`@pytest.mark.parametrize(` ...) are inside its brackets.
        let depth = codeLines.first?.startDepth
        guard var head = codeLines.first(where: { $0.startDepth == depth && (!$0.code.hasPrefix("@") || language == .yaml) })?.code
                ?? code.first else {
            return ("text:" + unit.text, false)
        }
        // Anonymous units are known by their first line, so an edited body still matches.
        let anonymous = ("text:" + head, false)
        switch language {
        case .json:
            if let name = quotedKey(head) { return ("key " + name, true) }
            return anonymous
        case .yaml:
            if head.hasPrefix("- ") || head == "-" { return anonymous }
            if let colon = yamlKeyEnd(head) { return ("key " + head[..<colon], true) }
            return anonymous
        case .python:
            if head.hasPrefix("async ") { head.removeFirst(6) }
            for kind in ["def ", "class "] where head.hasPrefix(kind) {
                return (kind + identifier(head.dropFirst(kind.count)), true)
            }
            if head.hasPrefix("from ") { return ("from " + identifier(head.dropFirst(5), dotted: true), true) }
            if head.hasPrefix("import ") { return ("import " + head.dropFirst(7), true) }
            let name = identifier(Substring(head), dotted: true)
            if !name.isEmpty {
                let rest = head.dropFirst(name.count).drop { $0 == " " }
                if (rest.hasPrefix("=") && !rest.hasPrefix("==")) || rest.hasPrefix(":") {
                    return ("assign " + name, true)
                }
            }
            return anonymous
        case .javascript, .typescript:
            if inList {
                if let name = quotedKey(head) { return ("key " + name, true) }
                let name = identifier(Substring(head))
                let rest = head.dropFirst(name.count)
                if !name.isEmpty && (rest.hasPrefix(":") || rest.hasPrefix("(")) { return ("key " + name, true) }
                return anonymous
            }
            if head.hasPrefix("import ") || head.hasPrefix("import{") {
                if let module = moduleSpecifier(code.joined(separator: " ")) { return ("import " + module, true) }
                return anonymous
            }
            // A re-export (`export * from './x'`, `export { a } from './x'`) is an import that
            // passes names on: merged as a set with the imports, keyed by module and clause (one
            // module can be re-exported twice, as `*` and as `{ a }`).
            if head.hasPrefix("export *") || head.hasPrefix("export {") || head.hasPrefix("export type {") {
                let text = code.joined(separator: " ")
                guard let module = moduleSpecifier(text), let from = text.lastRange(of: " from ") else { return anonymous }
                let clause = text[text.index(text.startIndex, offsetBy: "export ".count) ..< from.lowerBound]
                    .split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
                return ("import " + module + " export " + clause, true)
            }
            var words = head.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            let modifiers: Set<String> = ["export", "default", "declare", "async", "abstract", "public", "private",
                                          "protected", "static", "readonly", "override"]
            var accessor = ""
            while let w = words.first, modifiers.contains(w) || ((w == "get" || w == "set") && words.count > 1) {
                if w == "get" || w == "set" { accessor = w + " " }
                if w == "default" && words.count == 1 { return ("export default", true) }
                words.removeFirst()
            }
            guard let first = words.first else { return anonymous }
            let kinds = ["function", "function*", "class", "interface", "type", "enum", "namespace", "module", "const",
                         "let", "var"]
            if kinds.contains(first), words.count > 1 {
                let name = identifier(Substring(words[1]))
                if !name.isEmpty { return ((first == "let" || first == "var" ? "const" : first) + " " + name, true) }
                return anonymous
            }
            let name = identifier(Substring(first))
            if !name.isEmpty {
                let rest = words.joined(separator: " ").dropFirst(name.count)
                if rest.hasPrefix("(") || rest.hasPrefix("<") || rest.hasPrefix(":") || rest.hasPrefix("=")
                    || rest.hasPrefix("?") || rest.hasPrefix("!") || rest.hasPrefix(";") {
                    if rest.hasPrefix("("), let title = firstStringArgument(rest) {
                        return ("call " + name + " " + title, true)
                    }
                    if rest.hasPrefix("(") && head.hasSuffix(";") { return anonymous }
                    if rest.hasPrefix("(") && !head.hasSuffix("{") { return anonymous }
                    return ("member " + accessor + name, true)
                }
            }
            return anonymous
        case .swift:
            var words = head.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            let modifiers: Set<String> = ["public", "private", "fileprivate", "internal", "open", "static", "final",
                                          "override", "mutating", "nonmutating", "nonisolated", "convenience", "required",
                                          "lazy", "weak", "unowned", "indirect", "dynamic", "package"]
            while let w = words.first, modifiers.contains(w) || w.hasPrefix("@") || w.hasPrefix("private(")
                || w.hasPrefix("public(") || w.hasPrefix("fileprivate(") || w.hasPrefix("internal(")
                || (w == "class" && words.count > 1 && ["func", "var", "let"].contains(words[1])) {
                words.removeFirst()
            }
            guard let first = words.first else { return anonymous }
            if first == "import" { return ("import " + words.dropFirst().joined(separator: " "), true) }
            if first == "init" || first.hasPrefix("init(") || first.hasPrefix("init?(") || first.hasPrefix("subscript") {
                return (labelsKey(words.joined(separator: " ")), true)
            }
            let kinds = ["func", "var", "let", "struct", "class", "enum", "protocol", "actor", "extension", "typealias",
                         "case", "associatedtype", "macro"]
            if kinds.contains(first), words.count > 1 {
                let name = identifier(Substring(words[1]), dotted: first == "extension")
                if name.isEmpty { return anonymous }
                if first == "func" { return ("func " + name + labelsKey(words.dropFirst().joined(separator: " ")), true) }
                if first == "case" && head.contains(",") { return anonymous }
                return ((first == "let" ? "var" : first) + " " + name, true)
            }
            return anonymous
        }
    }

    private func identifier(_ text: Substring, dotted: Bool = false) -> String {
        String(text.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "$" || (dotted && $0 == ".") })
    }

    private func quotedKey(_ head: String) -> String? {
        guard let quote = head.first, quote == "\"" || quote == "'" else { return nil }
        var escaped = false
        var name = ""
        for c in head.dropFirst() {
            if escaped { name.append(c); escaped = false; continue }
            if c == "\\" { escaped = true; continue }
            if c == quote {
                let rest = head.dropFirst(name.count + 2).drop { $0 == " " }
                return rest.hasPrefix(":") ? name : nil
            }
            name.append(c)
        }
        return nil
    }

    private func yamlKeyEnd(_ head: String) -> String.Index? {
        guard let colon = head.firstIndex(of: ":") else { return nil }
        let after = head.index(after: colon)
        guard after == head.endIndex || head[after] == " " else { return nil }
        return colon
    }

    private func moduleSpecifier(_ text: String) -> String? {
        guard let range = text.lastRange(of: "from ") ?? text.firstRange(of: "import ") else { return nil }
        let rest = text[range.upperBound...].drop { $0 == " " }
        guard let quote = rest.first, quote == "\"" || quote == "'" else { return nil }
        guard let close = rest.dropFirst().firstIndex(of: quote) else { return nil }
        let typeOnly = text.hasPrefix("import type") ? "type " : ""
        return typeOnly + String(rest[rest.index(after: rest.startIndex) ..< close])
    }

    private func firstStringArgument(_ rest: Substring) -> String? {
        let inside = rest.dropFirst().drop { $0 == " " }
        guard let quote = inside.first, quote == "\"" || quote == "'" || quote == "`" else { return nil }
        guard let close = inside.dropFirst().firstIndex(of: quote) else { return nil }
        return String(inside[inside.startIndex ... close])
    }

    /// `name(a:b:)` from a Swift signature, so overloads keep distinct identities.
    private func labelsKey(_ signature: String) -> String {
        guard let open = signature.firstIndex(of: "(") else { return signature }
        var depth = 0
        var labels: [String] = []
        var current = ""
        var atStart = true
        for c in signature[open...] {
            if c == "(" || c == "[" || c == "<" { depth += 1; if depth == 1 { continue } }
            if c == ")" || c == "]" || c == ">" { depth -= 1; if depth == 0 { break } }
            guard depth == 1 else { continue }
            if c == "," { labels.append(current); current = ""; atStart = true; continue }
            if atStart {
                if c == " " { if !current.isEmpty { atStart = false }; continue }
                if c == ":" { atStart = false; continue }
                current.append(c)
            }
        }
        if !current.isEmpty { labels.append(current) }
        let name = signature[..<open].split(separator: " ").last.map(String.init) ?? ""
        return name + "(" + labels.map { $0 + ":" }.joined() + ")"
    }
}
