/// Layer (c) and (d): merge a file as blocks of named units (declarations, imports, keys),
/// recursively, keeping both sides' additions in a deterministic order. Gives up (nil) whenever
/// a decision would be a guess.
struct StructuredMerge {
    let language: Language
    let deadline: ContinuousClock.Instant
    private let scanner: LineScanner
    private let segmenter: Segmenter
    private let refinement: Refinement

    init(language: Language, layers: Set<MergeLayer>, deadline: ContinuousClock.Instant) {
        self.language = language
        self.deadline = deadline
        scanner = LineScanner(language: language)
        segmenter = Segmenter(language: language)
        refinement = Refinement(language: language, layers: layers)
    }

    final class Log {
        var resolutions: [MergeResolution] = []
        /// The first reason the layer gave up, innermost first (for --explain and the evaluation).
        var gaveUp: String?

        /// Records why and returns nil, so a give-up site reads `return log.fail(...)`.
        func fail<T>(_ path: String, _ reason: String) -> T? {
            if gaveUp == nil { gaveUp = "\(path.isEmpty ? "/" : path): \(reason)" }
            return nil
        }
    }

    enum Outcome {
        case merged(String, [MergeResolution])
        case gaveUp(String)
    }

    func merge(base: String, ours: String, theirs: String) -> Outcome {
        let scans = [base, ours, theirs].map(scanner.scan)
        guard scans.allSatisfy(\.wellFormed) else { return .gaveUp("a side does not scan (unbalanced brackets or strings)") }
        guard let b = segmenter.block(scans[0].lines, depth: 0),
              let o = segmenter.block(scans[1].lines, depth: 0),
              let t = segmenter.block(scans[2].lines, depth: 0) else { return .gaveUp("a side does not cut into units") }
        let log = Log()
        guard let merged = mergeBlock(b, o, t, depth: 0, path: "", log: log) else {
            return .gaveUp(log.gaveUp ?? "no reason recorded")
        }
        return .merged(merged, log.resolutions)
    }

    // MARK: Blocks

    private func mergeBlock(_ b: Block, _ o: Block, _ t: Block, depth: Int, path: String, log: Log) -> String? {
        guard ContinuousClock.now < deadline else { return log.fail(path, "time limit") }
        guard let prefix = mergeText(text(b.prefix), text(o.prefix), text(t.prefix), log: log) else {
            return log.fail(path, "both sides edited the text before the first unit")
        }
        guard let suffix = mergeText(text(b.suffix), text(o.suffix), text(t.suffix), log: log) else {
            return log.fail(path, "both sides edited the text after the last unit")
        }
        guard let order = mergeOrder(b.units, o.units, t.units, log: log, path: path) else { return nil }
        let baseUnits = Dictionary(b.units.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        let oursUnits = Dictionary(o.units.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        let theirsUnits = Dictionary(t.units.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        var pieces: [String] = []
        var lastKept: String? = nil
        for key in order {
            guard let piece = mergeUnit(baseUnits[key], oursUnits[key], theirsUnits[key], depth: depth,
                                        path: path + "/" + key, log: log) else { return nil }
            if let piece { pieces.append(piece); lastKept = key }
        }
        let commaSeparated = o.commaSeparated || t.commaSeparated || b.commaSeparated
        if commaSeparated {
            // The last item is written as the side it comes from wrote it (a list ours extended ends as
            // ours ended it); an item both sides have keeps whichever side changed the comma.
            let inOurs = oursUnits[lastKept ?? ""] != nil, inTheirs = theirsUnits[lastKept ?? ""] != nil
            let trailing = inOurs && !inTheirs ? o.trailingComma
                : inTheirs && !inOurs ? t.trailingComma
                : o.units.isEmpty ? t.trailingComma
                : o.trailingComma != b.trailingComma ? o.trailingComma : t.trailingComma
            for k in pieces.indices where k < pieces.count - 1 || trailing {
                guard let withComma = addComma(pieces[k]) else { return log.fail(path, "cannot place a comma") }
                pieces[k] = withComma
            }
        }
        return prefix + pieces.joined() + suffix
    }

    /// The key order of the merged block: the side that reordered wins, the other side's
    /// additions follow their predecessor, and concurrent additions go ours first, then theirs.
    private func mergeOrder(_ b: [Unit], _ o: [Unit], _ t: [Unit], log: Log, path: String) -> [String]? {
        let bKeys = b.map(\.key), oKeys = o.map(\.key), tKeys = t.map(\.key)
        let bSet = Set(bKeys), oSet = Set(oKeys), tSet = Set(tKeys)
        let common = bSet.intersection(oSet).intersection(tSet)
        let bCommon = bKeys.filter(common.contains), oCommon = oKeys.filter(common.contains),
            tCommon = tKeys.filter(common.contains)
        let oursIsSkeleton: Bool
        if oCommon == bCommon || oCommon == tCommon {
            oursIsSkeleton = oCommon != bCommon || tCommon == bCommon
            if oCommon == bCommon && tCommon != bCommon {
                log.resolutions.append(MergeResolution(layer: .structure, detail: "\(path.isEmpty ? "/" : path): order taken from theirs"))
            }
        } else if tCommon == bCommon {
            oursIsSkeleton = true
            log.resolutions.append(MergeResolution(layer: .structure, detail: "\(path.isEmpty ? "/" : path): order taken from ours"))
        } else {
            return log.fail(path, "both sides reordered units")
        }
        let skeleton = oursIsSkeleton ? oKeys : tKeys
        let other = oursIsSkeleton ? tKeys : oKeys
        // Imports re-sorted on one side (isort, an IDE) while the other added some: where the additions
        // belong is the sorter's rule (sections, case, `from` before or after `import`), not ours.
        let skeletonCommon = oursIsSkeleton ? oCommon : tCommon
        if skeletonCommon != bCommon, other.contains(where: { !bSet.contains($0) && Self.isImport($0) }) {
            return log.fail(path, "\(oursIsSkeleton ? "ours" : "theirs") reordered the imports the other side added to")
        }
        let otherSet = oursIsSkeleton ? tSet : oSet
        let skeletonSet = oursIsSkeleton ? oSet : tSet
        // Units the other side deleted (unchanged ones; changed ones fail in mergeUnit).
        var result = skeleton.filter { !(bSet.contains($0) && !otherSet.contains($0)) }
        let named = Dictionary((b + o + t).map { ($0.key, $0.named) }, uniquingKeysWith: { a, c in a && c })
        let skeletonAdded = Set(skeleton.filter { !bSet.contains($0) })
        var k = 0
        while k < other.count {
            guard !bSet.contains(other[k]) && !skeletonSet.contains(other[k]) else { k += 1; continue }
            var run: [String] = []
            let anchor = k > 0 ? other[k - 1] : nil
            while k < other.count && !bSet.contains(other[k]) && !skeletonSet.contains(other[k]) {
                run.append(other[k]); k += 1
            }
            var at: Int
            if let anchor {
                guard let index = result.firstIndex(of: anchor) else {
                    return log.fail(path, "\(oursIsSkeleton ? "theirs" : "ours") added after \(anchor), which \(oursIsSkeleton ? "ours" : "theirs") removed")
                }
                at = index + 1
            } else {
                at = 0
            }
            // Concurrent insertions at the same place: both kept, ours before theirs.
            var concurrent: [String] = []
            if oursIsSkeleton {
                while at < result.count && skeletonAdded.contains(result[at]) { concurrent.append(result[at]); at += 1 }
            } else {
                var probe = at
                while probe < result.count && skeletonAdded.contains(result[probe]) { concurrent.append(result[probe]); probe += 1 }
            }
            if !concurrent.isEmpty {
                guard (run + concurrent).allSatisfy({ named[$0] ?? false }) else {
                    return log.fail(path, "both sides inserted unnamed statements at the same place")
                }
                // Both sides replacing the same base unit is an edit conflict, not two insertions.
                if let next = nextBaseKey(after: anchor, in: bKeys), !oSet.contains(next) && !tSet.contains(next) {
                    return log.fail(path, "both sides replaced \(next)")
                }
                // Imports both sides added into the same gap of a list that is sorted around it
                // (an index of re-exports, a block of imports): each goes to its sorted place,
                // as whoever sorted the list would have put it, not ours-then-theirs.
                let start = oursIsSkeleton ? at - concurrent.count : at
                let merged = (run + concurrent).sorted()
                let before = start > 0 ? result[start - 1] : nil
                let after = start + concurrent.count < result.count ? result[start + concurrent.count] : nil
                if merged.allSatisfy(Self.isImport), Self.isSorted(run), Self.isSorted(concurrent),
                   before.map({ $0 < merged[0] }) ?? true, after.map({ merged[merged.count - 1] < $0 }) ?? true {
                    result.replaceSubrange(start ..< start + concurrent.count, with: merged)
                    log.resolutions.append(MergeResolution(layer: .structure,
                        detail: "\(path.isEmpty ? "/" : path): both sides imported at the same place of a sorted list; kept \(merged.count) in order"))
                    continue
                }
                log.resolutions.append(MergeResolution(layer: .structure,
                    detail: "\(path.isEmpty ? "/" : path): both sides inserted at the same place; kept \(concurrent.count + run.count) units, ours first"))
            }
            result.insert(contentsOf: run, at: at)
        }
        // A block kept sorted on all three sides (dependencies, imports) stays sorted: concurrent
        // additions go to their sorted places, not ours-then-theirs.
        if bKeys.count >= 2, [bKeys, oKeys, tKeys].allSatisfy(Self.isSorted), !Self.isSorted(result) {
            result.sort()
            log.resolutions.append(MergeResolution(layer: .structure, detail: "\(path.isEmpty ? "/" : path): sorted block kept sorted"))
        }
        return result
    }

    private static func isImport(_ key: String) -> Bool {
        key.hasPrefix("import ") || key.hasPrefix("from ")
    }

    private static func isSorted(_ keys: [String]) -> Bool {
        zip(keys, keys.dropFirst()).allSatisfy { $0 < $1 }
    }

    private func nextBaseKey(after anchor: String?, in base: [String]) -> String? {
        guard let anchor else { return base.first }
        guard let index = base.firstIndex(of: anchor), index + 1 < base.count else { return nil }
        return base[index + 1]
    }

    // MARK: Units

    /// The merged unit text; `.some(nil)` when the unit is deleted; nil when it cannot be merged.
    private func mergeUnit(_ b: Unit?, _ o: Unit?, _ t: Unit?, depth: Int, path: String, log: Log) -> String?? {
        switch (b, o, t) {
        case let (b?, o?, t?):
            let bt = b.text, ot = o.text, tt = t.text
            if ot == bt { return .some(tt) }
            if tt == bt || ot == tt { return .some(ot) }
            // A nested attempt that fails may still be settled as text below: its reason then stays unsaid.
            let reasonBefore = log.gaveUp
            if let nb = nest(b, depth), let no = nest(o, depth), let nt = nest(t, depth),
               let head = mergeText(nb.head, no.head, nt.head, log: log),
               let body = mergeBlock(nb.body, no.body, nt.body, depth: nb.depth, path: path, log: log),
               let tail = mergeText(nb.tail, no.tail, nt.tail, log: log) {
                return .some(head + body + tail)
            }
            if let merged = mergeText(bt, ot, tt, log: log) {
                log.gaveUp = reasonBefore
                log.resolutions.append(MergeResolution(layer: .structure, detail: "\(path): both sides edited; merged"))
                return .some(merged)
            }
            return log.fail(path, "both sides edited the same lines")
        case let (b?, o?, nil):
            return o.text == b.text ? .some(nil) : log.fail(path, "theirs deleted what ours edited")
        case let (b?, nil, t?):
            return t.text == b.text ? .some(nil) : log.fail(path, "ours deleted what theirs edited")
        case let (nil, o?, t?):
            return o.text == t.text ? .some(o.text) : log.fail(path, "both sides added it differently")
        case let (nil, o?, nil) where !o.named && depth > 0, let (nil, nil, o?) where !o.named && depth > 0:
            // A statement added inside a body both sides edited: its meaning depends on the other
            // side's edits around it (order, variables), so a person decides.
            _ = o
            return log.fail(path, "a statement added inside a body both sides edited")
        case let (_, o?, nil):
            log.resolutions.append(MergeResolution(layer: .structure, detail: "\(path): added by ours"))
            return .some(o.text)
        case let (_, nil, t?):
            log.resolutions.append(MergeResolution(layer: .structure, detail: "\(path): added by theirs"))
            return .some(t.text)
        case (_, nil, nil):
            return .some(nil)
        }
    }

    private struct Nested { var head: String; var body: Block; var tail: String; var depth: Int }

    /// The unit as header, a block of members, and closing lines, when it has such a body.
    private func nest(_ unit: Unit, _ depth: Int) -> Nested? {
        let lines = unit.lines
        guard let last = lines.lastIndex(where: { !$0.isBlank && !$0.isComment }) else { return nil }
        if language == .python || language == .yaml,
           let h = lines.firstIndex(where: {
               !$0.isBlank && !$0.isComment && !$0.startsInside && !$0.code.hasPrefix("@") && $0.endDepth == depth
                   && $0.lastCode == ":"
           }), h < last {
            guard let body = segmenter.block(Array(lines[(h + 1)...]), depth: depth, header: lines[h]) else { return nil }
            return Nested(head: text(lines[...h]), body: body, tail: "", depth: depth)
        }
        do {
            let closing = lines[last]
            guard closing.startDepth == depth + 1, let first = closing.firstCode, ")]}".contains(first) else { return nil }
            var h = last - 1
            while h >= 0 && lines[h].startDepth >= depth + 1 && lines[h].minDepth >= depth + 1 { h -= 1 }
            guard h >= 0, h < last - 1, lines[h].endDepth == depth + 1, let opener = lines[h].lastCode,
                  "([{".contains(opener) else { return nil }
            guard let body = segmenter.block(Array(lines[(h + 1) ..< last]), depth: depth + 1, header: lines[h]) else { return nil }
            return Nested(head: text(lines[...h]), body: body, tail: text(lines[last...]), depth: depth + 1)
        }
    }

    // MARK: Text

    /// A line merge of small texts, refined region by region; nil if any conflict remains.
    private func mergeText(_ b: String, _ o: String, _ t: String, log: Log) -> String? {
        if o == b { return t }
        if t == b || o == t { return o }
        let merge = LineMerge(base: Array(b.utf8), ours: Array(o.utf8), theirs: Array(t.utf8), style: .diff3)
        if merge.conflictCount == 0 {
            return String(decoding: merge.render(style: .diff3, labels: ConflictLabels()), as: UTF8.self)
        }
        let out = merge.assemble { ours, base, theirs, _ in
            guard let (resolved, why) = refinement.resolve(ours: ours, base: base, theirs: theirs) else { return nil }
            log.resolutions.append(why)
            return resolved
        }
        return out.map { String(decoding: $0, as: UTF8.self) }
    }

    private func text<C: Collection>(_ lines: C) -> String where C.Element == ScannedLine {
        lines.map(\.full).joined()
    }

    private func addComma(_ unitText: String) -> String? {
        var lines = scanner.scan(unitText).lines
        guard let last = lines.lastIndex(where: { !$0.isBlank && !$0.isComment }) else { return nil }
        lines[last] = Segmenter.addingTrailingComma(lines[last])
        return text(lines)
    }
}
