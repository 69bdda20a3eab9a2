/// A run of sibling declarations (or keys, or list items) with the text around them.
struct Block {
    var prefix: [ScannedLine]
    var units: [Unit]
    var suffix: [ScannedLine]
    /// Items are separated by commas (JSON members, list elements).
    var commaSeparated: Bool
    /// The last item also carries a comma.
    var trailingComma: Bool
}

/// One declaration, statement, key or item: its identity and its lines.
struct Unit {
    var key: String
    /// Named units (declarations, keys, imports) may be reordered and added concurrently.
    var named: Bool
    var lines: [ScannedLine]
    /// For comma-separated blocks: the line whose comma was removed.
    var lastCodeLine: Int?

    var text: String { lines.map(\.full).joined() }
}

/// Cuts a block of lines into units by indentation and bracket depth.
struct Segmenter {
    let language: Language

    func block(_ lines: [ScannedLine], depth: Int, header: ScannedLine? = nil) -> Block? {
        guard let firstCode = lines.firstIndex(where: { !$0.isBlank && !$0.isComment && !$0.startsInside }) else {
            return Block(prefix: lines, units: [], suffix: [], commaSeparated: false, trailingComma: false)
        }
        let indent = lines[firstCode].indent
        var starts: [Int] = []
        var decoratorsOnly = false
        var previousCode: ScannedLine? = nil
        for (i, line) in lines.enumerated() {
            if line.isBlank || line.isComment { continue }
            defer { previousCode = line }
            if line.startsInside || line.startDepth != depth { continue }
            if line.indent < indent { return nil }
            if line.indent != indent { continue }
            if isContinuation(line, after: previousCode) || decoratorsOnly {
                decoratorsOnly = decoratorsOnly && isDecorator(line)
                continue
            }
            starts.append(i)
            decoratorsOnly = isDecorator(line)
        }
        guard !starts.isEmpty else { return nil }
        // Comments and blank lines just above a unit belong to it.
        func attachedStart(_ start: Int, floor: Int) -> Int {
            var s = start
            while s - 1 >= floor,
                  lines[s - 1].isBlank || (lines[s - 1].isComment && (lines[s - 1].indent <= indent || lines[s - 1].startsInside)) {
                s -= 1
            }
            return s
        }
        var units: [Unit] = []
        var bounds: [(Int, Int)] = []
        for (n, start) in starts.enumerated() {
            let begin = n == 0 ? attachedStartFirst(lines, start, indent) : bounds[n - 1].1
            var end = n + 1 < starts.count ? attachedStart(starts[n + 1], floor: start + 1) : lines.count
            if n + 1 == starts.count {
                while end - 1 > start, lines[end - 1].isBlank || (lines[end - 1].isComment && lines[end - 1].indent <= indent) { end -= 1 }
            }
            bounds.append((begin, end))
        }
        let prefix = Array(lines[0 ..< bounds[0].0])
        let suffix = Array(lines[bounds[bounds.count - 1].1...])
        for (begin, end) in bounds {
            units.append(Unit(key: "", named: false, lines: Array(lines[begin ..< end])))
        }
        // Comma-separated when every unit but the last ends with a comma.
        let endings = units.map { unit in unit.lines.last(where: { !$0.isBlank && !$0.isComment })?.lastCode }
        let allButLast = endings.dropLast().allSatisfy { $0 == "," }
        let opener = header?.lastCode
        var commaSeparated = false
        if language == .json || opener == "[" || opener == "(" || (opener == "{" && units.count > 1 && allButLast) {
            guard allButLast else { return nil }
            commaSeparated = language != .yaml
        }
        var trailingComma = false
        if commaSeparated {
            trailingComma = endings.last == ","
            for k in units.indices {
                guard let last = units[k].lines.lastIndex(where: { !$0.isBlank && !$0.isComment }) else { return nil }
                units[k].lastCodeLine = last
                if units[k].lines[last].lastCode == "," {
                    guard let removed = Self.removingTrailingComma(units[k].lines[last]) else { return nil }
                    units[k].lines[last] = removed
                }
            }
        }
        var seen: [String: Int] = [:]
        for k in units.indices {
            let (key, named) = KeyExtractor(language: language).key(units[k], inList: commaSeparated)
            let count = seen[key, default: 0]
            seen[key] = count + 1
            units[k].key = count == 0 ? key : "\(key)#\(count + 1)"
            // One-line list items (names in __all__, entries of an array) behave as a set.
            let codeLines = units[k].lines.filter { !$0.isBlank && !$0.isComment }.count
            units[k].named = named || (commaSeparated && codeLines == 1)
        }
        return Block(prefix: prefix, units: units, suffix: suffix, commaSeparated: commaSeparated, trailingComma: trailingComma)
    }

    private func attachedStartFirst(_ lines: [ScannedLine], _ start: Int, _ indent: Int) -> Int {
        // Before the first unit, only comments directly above it (no blank line between) go with it.
        var s = start
        while s - 1 >= 0, lines[s - 1].isComment, lines[s - 1].indent == indent || lines[s - 1].startsInside { s -= 1 }
        return s
    }

    private func isDecorator(_ line: ScannedLine) -> Bool {
        line.code.hasPrefix("@") && language != .yaml
    }

    private func isContinuation(_ line: ScannedLine, after previous: ScannedLine?) -> Bool {
        if let first = line.firstCode, ")]}.?:".contains(first) && language != .yaml { return true }
        if language == .yaml { return false }
        let word = line.code.prefix { $0.isLetter }
        switch language {
        case .python:
            if ["else", "elif", "except", "finally"].contains(String(word)) { return true }
        case .javascript, .typescript, .swift:
            if ["else", "catch", "finally"].contains(String(word)) { return true }
        default: break
        }
        if let previous, previous.endDepth == line.startDepth, let last = previous.lastCode {
            if last == "\\" || last == "=" || last == "+" || last == "&" || last == "|" || last == "?" { return true }
            if previous.code.hasSuffix("=>") { return true }
        }
        return false
    }

    /// The line without its final comma (comments after it are kept).
    static func removingTrailingComma(_ line: ScannedLine) -> ScannedLine? {
        guard let index = line.text.lastIndex(of: ",") else { return nil }
        var copy = line
        copy.text.remove(at: index)
        copy.code.removeLast()
        return copy
    }

    static func addingTrailingComma(_ line: ScannedLine) -> ScannedLine {
        var copy = line
        let codeEnd = line.code
        // Insert right after the code, before any trailing comment or spaces.
        if let range = copy.text.lastRange(of: codeEnd) {
            copy.text.insert(",", at: range.upperBound)
        } else {
            copy.text += ","
        }
        copy.code += ","
        return copy
    }
}
