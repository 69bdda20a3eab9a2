/// One hunk of an edit script: lines `old ..< old + oldCount` of the first sequence
/// became lines `new ..< new + newCount` of the second.
struct LineChange: Equatable, Sendable {
    var old: Int
    var oldCount: Int
    var new: Int
    var newCount: Int
}

/// The diff git's xdiff computes by default (Myers with xdiff's preprocessing, cost
/// heuristics and group compaction), reimplemented so that a line merge built on it
/// agrees with `git merge-file` line for line.
enum LineDiff {
    private static let maxCostMin = 256
    private static let heuristicMinCost = 256
    private static let snakeCount = 20
    private static let heuristicFactor = 4
    private static let maxEqualLimit = 1024
    private static let similarScanWindow = 100
    private static let discardRun = 4

    /// The edit script from `a` to `b`, both sequences of line classes.
    static func diff(_ a: [Int], _ b: [Int]) -> [LineChange] {
        var file1 = DiffFile(classes: a)
        var file2 = DiffFile(classes: b)
        prepare(&file1, &file2)
        compare(&file1, &file2)
        compact(&file1, other: &file2)
        compact(&file2, other: &file1)
        return script(file1, file2)
    }

    /// xdiff's integer square root approximation.
    static func bogoSqrt(_ value: Int) -> Int {
        var n = value
        var root = 1
        while n > 0 {
            root <<= 1
            n >>= 2
        }
        return root
    }

    struct DiffFile {
        let classes: [Int]
        /// `changed[i + 1]` is whether line `i` changed; the ends are sentinels.
        var changed: [Bool]
        /// Lines kept for the Myers search, as indexes into `classes`.
        var kept: [Int] = []
        var keptClasses: [Int] = []

        init(classes: [Int]) {
            self.classes = classes
            changed = [Bool](repeating: false, count: classes.count + 2)
        }

        var count: Int { classes.count }
        func isChanged(_ line: Int) -> Bool { changed[line + 1] }
        mutating func mark(_ line: Int, _ value: Bool) { changed[line + 1] = value }
    }

    // MARK: Preparation: trim common ends, drop lines that cannot match.

    private static func prepare(_ file1: inout DiffFile, _ file2: inout DiffFile) {
        let n1 = file1.count, n2 = file2.count
        var start = 0
        let limit = min(n1, n2)
        while start < limit && file1.classes[start] == file2.classes[start] { start += 1 }
        var tail = 0
        while tail < limit - start && file1.classes[n1 - 1 - tail] == file2.classes[n2 - 1 - tail] { tail += 1 }
        let end1 = n1 - tail - 1, end2 = n2 - tail - 1

        var occurrences1: [Int: Int] = [:], occurrences2: [Int: Int] = [:]
        for c in file1.classes { occurrences1[c, default: 0] += 1 }
        for c in file2.classes { occurrences2[c, default: 0] += 1 }

        func discardability(_ file: DiffFile, _ end: Int, _ other: [Int: Int]) -> [UInt8] {
            var marks = [UInt8](repeating: 0, count: file.count + 1)
            let limit = min(bogoSqrt(file.count), maxEqualLimit)
            if start <= end {
                for i in start ... end {
                    let matches = other[file.classes[i]] ?? 0
                    marks[i] = matches == 0 ? 0 : (matches >= limit ? 2 : 1)
                }
            }
            return marks
        }
        let marks1 = discardability(file1, end1, occurrences2)
        let marks2 = discardability(file2, end2, occurrences1)

        func keep(_ file: inout DiffFile, _ marks: [UInt8], _ end: Int) {
            guard start <= end else { return }
            for i in start ... end {
                if marks[i] == 1 || (marks[i] == 2 && !isDiscardableMultimatch(marks, i, start, end)) {
                    file.kept.append(i)
                    file.keptClasses.append(file.classes[i])
                } else {
                    file.mark(i, true)
                }
            }
        }
        keep(&file1, marks1, end1)
        keep(&file2, marks2, end2)
    }

    /// A line with many matches is dropped only inside a run of lines without matches.
    private static func isDiscardableMultimatch(_ marks: [UInt8], _ i: Int, _ lower: Int, _ upper: Int) -> Bool {
        let s = i - lower > similarScanWindow ? i - similarScanWindow : lower
        let e = upper - i > similarScanWindow ? i + similarScanWindow : upper
        var r = 1, before = 0, beforeMulti = 1
        while i - r >= s {
            if marks[i - r] == 0 { before += 1 } else if marks[i - r] == 2 { beforeMulti += 1 } else { break }
            r += 1
        }
        if before == 0 { return false }
        r = 1
        var after = 0, afterMulti = 1
        while i + r <= e {
            if marks[i + r] == 0 { after += 1 } else if marks[i + r] == 2 { afterMulti += 1 } else { break }
            r += 1
        }
        if after == 0 { return false }
        after += before
        afterMulti += beforeMulti
        return afterMulti * discardRun < afterMulti + after
    }

    // MARK: Myers search with xdiff's cut-offs.

    private struct Split { var i1 = 0, i2 = 0, minLow = false, minHigh = false }

    private static func compare(_ file1: inout DiffFile, _ file2: inout DiffFile) {
        let ha1 = file1.keptClasses, ha2 = file2.keptClasses
        let diagonals = ha1.count + ha2.count + 3
        let base = ha2.count + 1
        var forward = [Int](repeating: 0, count: diagonals)
        var backward = [Int](repeating: 0, count: diagonals)
        let maxCost = max(bogoSqrt(diagonals), maxCostMin)

        var boxes: [(Int, Int, Int, Int, Bool)] = [(0, ha1.count, 0, ha2.count, false)]
        while let (start1, end1, start2, end2, needMinimal) = boxes.popLast() {
            var off1 = start1, lim1 = end1, off2 = start2, lim2 = end2
            while off1 < lim1 && off2 < lim2 && ha1[off1] == ha2[off2] { off1 += 1; off2 += 1 }
            while off1 < lim1 && off2 < lim2 && ha1[lim1 - 1] == ha2[lim2 - 1] { lim1 -= 1; lim2 -= 1 }
            if off1 == lim1 {
                for k in off2 ..< lim2 { file2.mark(file2.kept[k], true) }
            } else if off2 == lim2 {
                for k in off1 ..< lim1 { file1.mark(file1.kept[k], true) }
            } else {
                let split = findSplit(ha1, off1, lim1, ha2, off2, lim2, &forward, &backward, base,
                                      needMinimal, maxCost)
                boxes.append((split.i1, lim1, split.i2, lim2, split.minHigh))
                boxes.append((off1, split.i1, off2, split.i2, split.minLow))
            }
        }
    }

    private static func findSplit(_ ha1: [Int], _ off1: Int, _ lim1: Int,
                                  _ ha2: [Int], _ off2: Int, _ lim2: Int,
                                  _ kvdf: inout [Int], _ kvdb: inout [Int], _ base: Int,
                                  _ needMinimal: Bool, _ maxCost: Int) -> Split {
        let dmin = off1 - lim2, dmax = lim1 - off2
        let fmid = off1 - off2, bmid = lim1 - lim2
        let odd = ((fmid - bmid) & 1) != 0
        var fmin = fmid, fmax = fmid, bmin = bmid, bmax = bmid
        var split = Split()
        kvdf[base + fmid] = off1
        kvdb[base + bmid] = lim1
        var ec = 1
        while true {
            var gotSnake = false
            if fmin > dmin { fmin -= 1; kvdf[base + fmin - 1] = -1 } else { fmin += 1 }
            if fmax < dmax { fmax += 1; kvdf[base + fmax + 1] = -1 } else { fmax -= 1 }
            var d = fmax
            while d >= fmin {
                var i1 = kvdf[base + d - 1] >= kvdf[base + d + 1] ? kvdf[base + d - 1] + 1 : kvdf[base + d + 1]
                let prev1 = i1
                var i2 = i1 - d
                while i1 < lim1 && i2 < lim2 && ha1[i1] == ha2[i2] { i1 += 1; i2 += 1 }
                if i1 - prev1 > snakeCount { gotSnake = true }
                kvdf[base + d] = i1
                if odd && bmin <= d && d <= bmax && kvdb[base + d] <= i1 {
                    return Split(i1: i1, i2: i2, minLow: true, minHigh: true)
                }
                d -= 2
            }
            if bmin > dmin { bmin -= 1; kvdb[base + bmin - 1] = Int.max } else { bmin += 1 }
            if bmax < dmax { bmax += 1; kvdb[base + bmax + 1] = Int.max } else { bmax -= 1 }
            d = bmax
            while d >= bmin {
                var i1 = kvdb[base + d - 1] < kvdb[base + d + 1] ? kvdb[base + d - 1] : kvdb[base + d + 1] - 1
                let prev1 = i1
                var i2 = i1 - d
                while i1 > off1 && i2 > off2 && ha1[i1 - 1] == ha2[i2 - 1] { i1 -= 1; i2 -= 1 }
                if prev1 - i1 > snakeCount { gotSnake = true }
                kvdb[base + d] = i1
                if !odd && fmin <= d && d <= fmax && i1 <= kvdf[base + d] {
                    return Split(i1: i1, i2: i2, minLow: true, minHigh: true)
                }
                d -= 2
            }
            if needMinimal { ec += 1; continue }

            if gotSnake && ec > heuristicMinCost {
                var best = 0
                d = fmax
                while d >= fmin {
                    let dd = d > fmid ? d - fmid : fmid - d
                    let i1 = kvdf[base + d], i2 = i1 - d
                    let v = (i1 - off1) + (i2 - off2) - dd
                    if v > heuristicFactor * ec && v > best && off1 + snakeCount <= i1 && i1 < lim1
                        && off2 + snakeCount <= i2 && i2 < lim2 {
                        var k = 1
                        while ha1[i1 - k] == ha2[i2 - k] {
                            if k == snakeCount { best = v; split.i1 = i1; split.i2 = i2; break }
                            k += 1
                        }
                    }
                    d -= 2
                }
                if best > 0 { split.minLow = true; split.minHigh = false; return split }
                best = 0
                d = bmax
                while d >= bmin {
                    let dd = d > bmid ? d - bmid : bmid - d
                    let i1 = kvdb[base + d], i2 = i1 - d
                    let v = (lim1 - i1) + (lim2 - i2) - dd
                    if v > heuristicFactor * ec && v > best && off1 < i1 && i1 <= lim1 - snakeCount
                        && off2 < i2 && i2 <= lim2 - snakeCount {
                        var k = 0
                        while ha1[i1 + k] == ha2[i2 + k] {
                            if k == snakeCount - 1 { best = v; split.i1 = i1; split.i2 = i2; break }
                            k += 1
                        }
                    }
                    d -= 2
                }
                if best > 0 { split.minLow = false; split.minHigh = true; return split }
            }

            if ec >= maxCost {
                var fbest = -1, fbest1 = -1
                d = fmax
                while d >= fmin {
                    var i1 = min(kvdf[base + d], lim1)
                    var i2 = i1 - d
                    if lim2 < i2 { i1 = lim2 + d; i2 = lim2 }
                    if fbest < i1 + i2 { fbest = i1 + i2; fbest1 = i1 }
                    d -= 2
                }
                var bbest = Int.max, bbest1 = Int.max
                d = bmax
                while d >= bmin {
                    var i1 = max(off1, kvdb[base + d])
                    var i2 = i1 - d
                    if i2 < off2 { i1 = off2 + d; i2 = off2 }
                    if i1 + i2 < bbest { bbest = i1 + i2; bbest1 = i1 }
                    d -= 2
                }
                if (lim1 + lim2) - bbest < fbest - (off1 + off2) {
                    return Split(i1: fbest1, i2: fbest - fbest1, minLow: true, minHigh: false)
                }
                return Split(i1: bbest1, i2: bbest - bbest1, minLow: false, minHigh: true)
            }
            ec += 1
        }
    }

    // MARK: Compaction: slide groups of changes the way xdiff does (no indent heuristic).

    private struct Group { var start = 0, end = 0 }

    private static func compact(_ file: inout DiffFile, other: inout DiffFile) {
        func first(_ f: DiffFile) -> Group {
            var g = Group()
            while f.isChanged(g.end) { g.end += 1 }
            return g
        }
        func next(_ f: DiffFile, _ g: inout Group) -> Bool {
            if g.end == f.count { return false }
            g.start = g.end + 1
            g.end = g.start
            while f.isChanged(g.end) { g.end += 1 }
            return true
        }
        func previous(_ f: DiffFile, _ g: inout Group) -> Bool {
            if g.start == 0 { return false }
            g.end = g.start - 1
            g.start = g.end
            while f.isChanged(g.start - 1) { g.start -= 1 }
            return true
        }
        func slideDown(_ f: inout DiffFile, _ g: inout Group) -> Bool {
            guard g.end < f.count && f.classes[g.start] == f.classes[g.end] else { return false }
            f.mark(g.start, false); g.start += 1
            f.mark(g.end, true); g.end += 1
            while f.isChanged(g.end) { g.end += 1 }
            return true
        }
        func slideUp(_ f: inout DiffFile, _ g: inout Group) -> Bool {
            guard g.start > 0 && f.classes[g.start - 1] == f.classes[g.end - 1] else { return false }
            g.start -= 1; f.mark(g.start, true)
            g.end -= 1; f.mark(g.end, false)
            while f.isChanged(g.start - 1) { g.start -= 1 }
            return true
        }

        var g = first(file)
        var go = first(other)
        while true {
            if g.end != g.start {
                var groupSize = 0
                var earliestEnd = 0
                var endMatchingOther = -1
                repeat {
                    groupSize = g.end - g.start
                    endMatchingOther = -1
                    while slideUp(&file, &g) { _ = previous(other, &go) }
                    earliestEnd = g.end
                    if go.end > go.start { endMatchingOther = g.end }
                    while slideDown(&file, &g) {
                        _ = next(other, &go)
                        if go.end > go.start { endMatchingOther = g.end }
                    }
                } while groupSize != g.end - g.start
                if g.end != earliestEnd && endMatchingOther != -1 {
                    while go.end == go.start {
                        _ = slideUp(&file, &g)
                        _ = previous(other, &go)
                    }
                }
            }
            if !next(file, &g) { break }
            _ = next(other, &go)
        }
    }

    private static func script(_ file1: DiffFile, _ file2: DiffFile) -> [LineChange] {
        var changes: [LineChange] = []
        var i1 = 0, i2 = 0
        while i1 < file1.count || i2 < file2.count {
            if file1.isChanged(i1) || file2.isChanged(i2) {
                var e1 = i1, e2 = i2
                while file1.isChanged(e1) { e1 += 1 }
                while file2.isChanged(e2) { e2 += 1 }
                changes.append(LineChange(old: i1, oldCount: e1 - i1, new: i2, newCount: e2 - i2))
                i1 = e1; i2 = e2
            } else {
                i1 += 1; i2 += 1
            }
        }
        return changes
    }
}
