/// How conflicts are written, as git's `merge.conflictStyle` names them.
public enum ConflictStyle: String, Sendable, CaseIterable {
    case merge
    case diff3
    case zdiff3
}

/// The three-way line merge of git's xdiff (`xdl_merge` at level "zealous alnum", as
/// `git merge-file` runs it), kept as a list of regions so later layers can revisit conflicts.
struct LineMerge {
    enum Mode: Equatable {
        case conflict
        case ours
        case theirs
        /// Refinement found both sides identical: the region needs no hunk at all.
        case identical
    }

    /// A region of the merge, in the coordinates of base (`i0`), ours (`i1`) and theirs (`i2`).
    struct Region {
        var mode: Mode
        var i0: Int, chg0: Int
        var i1: Int, chg1: Int
        var i2: Int, chg2: Int
    }

    let base: LineTable
    let ours: LineTable
    let theirs: LineTable
    /// Set when one side made no change: the merge is then the other side, byte for byte.
    let takeWhole: LineTable?
    var regions: [Region]

    var conflictCount: Int { takeWhole != nil ? 0 : regions.filter { $0.mode == .conflict }.count }

    init(base: [UInt8], ours: [UInt8], theirs: [UInt8], style: ConflictStyle) {
        self.init(base: LineTable(base), ours: LineTable(ours), theirs: LineTable(theirs), style: style)
    }

    init(base: LineTable, ours: LineTable, theirs: LineTable, style: ConflictStyle) {
        self.base = base
        self.ours = ours
        self.theirs = theirs
        var classifier = LineClassifier()
        let c0 = classifier.classify(base)
        let c1 = classifier.classify(ours)
        let c2 = classifier.classify(theirs)
        let script1 = LineDiff.diff(c0, c1)
        let script2 = LineDiff.diff(c0, c2)
        if script1.isEmpty {
            takeWhole = theirs
            regions = []
            return
        }
        if script2.isEmpty {
            takeWhole = ours
            regions = []
            return
        }
        takeWhole = nil
        regions = Self.combine(script1, script2, c1, c2, baseCount: base.count,
                               oursCount: ours.count, theirsCount: theirs.count)
        switch style {
        case .zdiff3:
            Self.trimCommonEnds(&regions, c1, c2)
        case .diff3:
            break
        case .merge:
            Self.refineConflicts(&regions, c1, c2)
            Self.simplifyNonConflicts(&regions, ours)
        }
    }

    private static func append(_ regions: inout [Region], _ region: Region) {
        if var last = regions.last,
           region.i1 <= last.i1 + last.chg1 || region.i2 <= last.i2 + last.chg2 {
            if region.mode != last.mode { last.mode = .conflict }
            last.chg0 = region.i0 + region.chg0 - last.i0
            last.chg1 = region.i1 + region.chg1 - last.i1
            last.chg2 = region.i2 + region.chg2 - last.i2
            regions[regions.count - 1] = last
        } else {
            regions.append(region)
        }
    }

    static func combine(_ script1: [LineChange], _ script2: [LineChange], _ c1: [Int], _ c2: [Int],
                                baseCount: Int, oursCount: Int, theirsCount: Int) -> [Region] {
        var regions: [Region] = []
        var a = 0, b = 0
        while a < script1.count && b < script2.count {
            let x1 = script1[a], x2 = script2[b]
            if x1.old + x1.oldCount < x2.old {
                append(&regions, Region(mode: .ours, i0: x1.old, chg0: x1.oldCount, i1: x1.new, chg1: x1.newCount,
                                        i2: x2.new - x2.old + x1.old, chg2: x1.oldCount))
                a += 1
                continue
            }
            if x2.old + x2.oldCount < x1.old {
                append(&regions, Region(mode: .theirs, i0: x2.old, chg0: x2.oldCount,
                                        i1: x1.new - x1.old + x2.old, chg1: x2.oldCount,
                                        i2: x2.new, chg2: x2.newCount))
                b += 1
                continue
            }
            let identical = x1.old == x2.old && x1.oldCount == x2.oldCount && x1.newCount == x2.newCount
                && c1[x1.new ..< x1.new + x1.newCount] == c2[x2.new ..< x2.new + x2.newCount]
            if !identical {
                let off = x1.old - x2.old
                let ffo = off + x1.oldCount - x2.oldCount
                var i0 = x1.old, i1 = x1.new, i2 = x2.new
                if off > 0 { i0 -= off; i1 -= off } else { i2 += off }
                var chg0 = x1.old + x1.oldCount - i0
                var chg1 = x1.new + x1.newCount - i1
                var chg2 = x2.new + x2.newCount - i2
                if ffo < 0 { chg0 -= ffo; chg1 -= ffo } else { chg2 += ffo }
                append(&regions, Region(mode: .conflict, i0: i0, chg0: chg0, i1: i1, chg1: chg1, i2: i2, chg2: chg2))
            }
            let end1 = x1.old + x1.oldCount, end2 = x2.old + x2.oldCount
            if end1 >= end2 { b += 1 }
            if end2 >= end1 { a += 1 }
        }
        while a < script1.count {
            let x1 = script1[a]
            append(&regions, Region(mode: .ours, i0: x1.old, chg0: x1.oldCount, i1: x1.new, chg1: x1.newCount,
                                    i2: x1.old + theirsCount - baseCount, chg2: x1.oldCount))
            a += 1
        }
        while b < script2.count {
            let x2 = script2[b]
            append(&regions, Region(mode: .theirs, i0: x2.old, chg0: x2.oldCount,
                                    i1: x2.old + oursCount - baseCount, chg1: x2.oldCount,
                                    i2: x2.new, chg2: x2.newCount))
            b += 1
        }
        return regions
    }

    /// zdiff3: drop lines both sides share at the start and end of each conflict.
    private static func trimCommonEnds(_ regions: inout [Region], _ c1: [Int], _ c2: [Int]) {
        for k in regions.indices where regions[k].mode == .conflict {
            var m = regions[k]
            while m.chg1 > 0 && m.chg2 > 0 && c1[m.i1] == c2[m.i2] {
                m.chg1 -= 1; m.chg2 -= 1; m.i1 += 1; m.i2 += 1
            }
            while m.chg1 > 0 && m.chg2 > 0 && c1[m.i1 + m.chg1 - 1] == c2[m.i2 + m.chg2 - 1] {
                m.chg1 -= 1; m.chg2 -= 1
            }
            regions[k] = m
        }
    }

    /// Diff ours against theirs inside each conflict and keep only the lines that differ.
    private static func refineConflicts(_ regions: inout [Region], _ c1: [Int], _ c2: [Int]) {
        var refined: [Region] = []
        refined.reserveCapacity(regions.count)
        for m in regions {
            guard m.mode == .conflict, m.chg1 > 0, m.chg2 > 0 else {
                refined.append(m)
                continue
            }
            let script = LineDiff.diff(Array(c1[m.i1 ..< m.i1 + m.chg1]), Array(c2[m.i2 ..< m.i2 + m.chg2]))
            if script.isEmpty {
                var same = m
                same.mode = .identical
                refined.append(same)
                continue
            }
            for (index, change) in script.enumerated() {
                var part = m
                part.i1 = change.old + m.i1
                part.chg1 = change.oldCount
                part.i2 = change.new + m.i2
                part.chg2 = change.newCount
                if index > 0 { part.mode = .conflict }
                refined.append(part)
            }
        }
        regions = refined
    }

    /// Conflicts separated by at most three lines, or by lines without letters or digits, become one.
    private static func simplifyNonConflicts(_ regions: inout [Region], _ ours: LineTable) {
        guard !regions.isEmpty else { return }
        var k = 0
        while k + 1 < regions.count {
            let m = regions[k], next = regions[k + 1]
            let begin = m.i1 + m.chg1, end = next.i1
            if m.mode != .conflict || next.mode != .conflict
                || (end - begin > 3 && linesContainAlphanumeric(ours, begin ..< end)) {
                k += 1
            } else {
                regions[k].chg1 = next.i1 + next.chg1 - m.i1
                regions[k].chg2 = next.i2 + next.chg2 - m.i2
                regions.remove(at: k + 1)
            }
        }
    }

    private static func linesContainAlphanumeric(_ table: LineTable, _ range: Range<Int>) -> Bool {
        for line in range {
            for byte in table[line] {
                if (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) {
                    return true
                }
            }
        }
        return false
    }
}

extension LineMerge {
    /// The merged text rebuilt region by region: clean regions as the line merge took them, each
    /// conflict region replaced by what `conflict` makes of its three sides (ours, base, theirs).
    /// Nil as soon as `conflict` gives up on one. The layers that revisit git's conflicts share it.
    func assemble(
        conflict: (_ ours: ArraySlice<UInt8>, _ base: ArraySlice<UInt8>, _ theirs: ArraySlice<UInt8>, _ region: Region) -> [UInt8]?
    ) -> [UInt8]? {
        var out: [UInt8] = []
        var i = 0
        for m in regions {
            switch m.mode {
            case .identical: continue
            case .ours: out += ours.text(i ..< m.i1 + m.chg1)
            case .theirs:
                out += ours.text(i ..< m.i1)
                out += theirs.text(m.i2 ..< m.i2 + m.chg2)
            case .conflict:
                out += ours.text(i ..< m.i1)
                guard let merged = conflict(ours.text(m.i1 ..< m.i1 + m.chg1), base.text(m.i0 ..< m.i0 + m.chg0),
                                            theirs.text(m.i2 ..< m.i2 + m.chg2), m) else { return nil }
                out += merged
            }
            i = m.i1 + m.chg1
        }
        out += ours.text(i ..< ours.count)
        return out
    }
}
