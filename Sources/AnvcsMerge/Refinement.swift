/// Layer (b): conflicts that are not real once looked at more closely.
struct Refinement {
    let language: Language?
    let layers: Set<MergeLayer>

    /// A resolution of one conflict region, or nil to leave it a conflict.
    func resolve(ours: ArraySlice<UInt8>, base: ArraySlice<UInt8>, theirs: ArraySlice<UInt8>) -> ([UInt8], MergeResolution)? {
        if ours == theirs && layers.contains(.identicalChange) {
            return (Array(ours), MergeResolution(layer: .identicalChange, detail: "both sides made the same change"))
        }
        // Only edits within lines: regions where the sides add or drop lines are left to the other layers.
        let lineCounts = [ours, base, theirs].map { $0.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) } }
        if layers.contains(.tokens), lineCounts[0] == lineCounts[1], lineCounts[1] == lineCounts[2],
           let merged = tokenMerge(ours: ours, base: base, theirs: theirs) {
            return (merged, MergeResolution(layer: .tokens, detail: "changes touch different tokens of the same lines"))
        }
        guard layers.contains(.whitespace) else { return nil }
        let strict = language?.indentationMatters ?? false
        func normalize(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
            strict ? Self.withoutTrailingWhitespace(bytes) : Self.withoutWhitespace(bytes)
        }
        let o = normalize(ours), b = normalize(base), t = normalize(theirs)
        if o == b && t != b {
            return (Array(theirs), MergeResolution(layer: .whitespace, detail: "ours changed only whitespace; theirs kept"))
        }
        if t == b && o != b {
            return (Array(ours), MergeResolution(layer: .whitespace, detail: "theirs changed only whitespace; ours kept"))
        }
        return nil
    }

    /// Three-way merge of the region cut into words, spaces and punctuation; nil if tokens still collide.
    func tokenMerge(ours: ArraySlice<UInt8>, base: ArraySlice<UInt8>, theirs: ArraySlice<UInt8>) -> [UInt8]? {
        let t0 = Self.tokens(base), t1 = Self.tokens(ours), t2 = Self.tokens(theirs)
        guard t0.count + t1.count + t2.count < 20000 else { return nil }
        var classes: [ArraySlice<UInt8>: Int] = [:]
        func classify(_ tokens: [ArraySlice<UInt8>]) -> [Int] {
            tokens.map { token in
                if let id = classes[token] { return id }
                classes[token] = classes.count
                return classes.count - 1
            }
        }
        let c0 = classify(t0), c1 = classify(t1), c2 = classify(t2)
        let s1 = LineDiff.diff(c0, c1), s2 = LineDiff.diff(c0, c2)
        let regions = LineMerge.combine(s1, s2, c1, c2, baseCount: c0.count, oursCount: c1.count, theirsCount: c2.count)
        guard !regions.contains(where: { $0.mode == .conflict }) else { return nil }
        // An edit of punctuation alone (`?` to `!`, a dropped `.`) changes meaning (optionality, calls)
        // in ways the other side's edit of the same line may depend on: leave those to a person.
        func punctuationOnly(_ tokens: ArraySlice<ArraySlice<UInt8>>, _ removed: ArraySlice<ArraySlice<UInt8>>) -> Bool {
            let changed = Array(tokens) + Array(removed)
            return !changed.isEmpty && changed.allSatisfy { $0.count == 1 && Self.isPunctuation($0.first!) }
        }
        for m in regions where m.mode == .ours || m.mode == .theirs {
            let (side, start, count) = m.mode == .ours ? (t1, m.i1, m.chg1) : (t2, m.i2, m.chg2)
            if punctuationOnly(side[start ..< start + count], t0[m.i0 ..< m.i0 + m.chg0]) { return nil }
        }
        var out: [UInt8] = []
        var i = 0
        for m in regions {
            switch m.mode {
            case .ours, .identical:
                for k in i ..< m.i1 + m.chg1 { out += t1[k] }
            case .theirs:
                for k in i ..< m.i1 { out += t1[k] }
                for k in m.i2 ..< m.i2 + m.chg2 { out += t2[k] }
            case .conflict:
                return nil
            }
            i = m.i1 + m.chg1
        }
        for k in i ..< t1.count { out += t1[k] }
        return out
    }

    static func tokens(_ bytes: ArraySlice<UInt8>) -> [ArraySlice<UInt8>] {
        var result: [ArraySlice<UInt8>] = []
        var i = bytes.startIndex
        func isWord(_ b: UInt8) -> Bool {
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F || b >= 0x80
        }
        while i < bytes.endIndex {
            let start = i
            let b = bytes[i]
            if b == 0x22 || b == 0x27 || b == 0x60 {
                // A string literal is one token: never merge inside versions or messages.
                i += 1
                while i < bytes.endIndex && bytes[i] != b && bytes[i] != 0x0A {
                    i += bytes[i] == 0x5C ? 2 : 1
                }
                i = min(i + 1, bytes.endIndex)
            } else if b >= 0x30 && b <= 0x39 {
                // A number or version number (1.2.3-beta.1) is one token.
                while i < bytes.endIndex && (isWord(bytes[i]) || bytes[i] == 0x2E || bytes[i] == 0x2D) { i += 1 }
            } else if isWord(b) {
                while i < bytes.endIndex && isWord(bytes[i]) { i += 1 }
            } else if b == 0x20 || b == 0x09 {
                while i < bytes.endIndex && (bytes[i] == 0x20 || bytes[i] == 0x09) { i += 1 }
            } else {
                i += 1
            }
            result.append(bytes[start ..< i])
        }
        return result
    }

    static func isPunctuation(_ b: UInt8) -> Bool {
        "?!.".utf8.contains(b)
    }

    static func withoutWhitespace(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        bytes.filter { $0 != 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D }
    }

    static func withoutTrailingWhitespace(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        var pending: [UInt8] = []
        for b in bytes {
            if b == 0x20 || b == 0x09 || b == 0x0D { pending.append(b); continue }
            if b != 0x0A { out += pending }
            pending.removeAll()
            out.append(b)
        }
        return out
    }
}
