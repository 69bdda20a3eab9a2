/// A sequence with a movable gap: edits near the previous edit cost O(1) plus the gap move.
/// Typing is local, so the total gap movement over a whole editing session stays small.
struct GapBuffer<Element: BitwiseCopyable>: Sendable where Element: Sendable {
    private var storage: [Element]
    private var gapStart = 0
    private var gapEnd: Int
    private let filler: Element

    init(filler: Element, capacity: Int = 64) {
        self.filler = filler
        storage = Array(repeating: filler, count: max(capacity, 16))
        gapEnd = storage.count
    }

    var count: Int { storage.count - (gapEnd - gapStart) }

    /// Bytes held, for memory reports.
    var capacityInBytes: Int { storage.capacity * MemoryLayout<Element>.stride }

    private mutating func moveGap(to position: Int) {
        if position == gapStart { return }
        storage.withUnsafeMutableBufferPointer { buffer in
            let base = buffer.baseAddress!
            if position < gapStart {
                let moved = gapStart - position
                (base + gapEnd - moved).update(from: base + position, count: moved)
                gapStart -= moved
                gapEnd -= moved
            } else {
                let moved = position - gapStart
                (base + gapStart).update(from: base + gapEnd, count: moved)
                gapStart += moved
                gapEnd += moved
            }
        }
    }

    private mutating func reserveGap(_ needed: Int) {
        if gapEnd - gapStart >= needed { return }
        let oldCount = storage.count
        let newCount = max(oldCount * 2, count + needed + 16)
        let tail = oldCount - gapEnd
        var grown = Array(repeating: filler, count: newCount)
        grown.withUnsafeMutableBufferPointer { target in
            storage.withUnsafeBufferPointer { source in
                let t = target.baseAddress!, s = source.baseAddress!
                t.update(from: s, count: gapStart)
                (t + newCount - tail).update(from: s + gapEnd, count: tail)
            }
        }
        storage = grown
        gapEnd = newCount - tail
    }

    mutating func insert(_ elements: UnsafeBufferPointer<Element>, at position: Int) {
        reserveGap(elements.count)
        moveGap(to: position)
        storage.withUnsafeMutableBufferPointer { buffer in
            (buffer.baseAddress! + gapStart).update(from: elements.baseAddress!, count: elements.count)
        }
        gapStart += elements.count
    }

    mutating func insert(_ element: Element, at position: Int) {
        reserveGap(1)
        moveGap(to: position)
        storage[gapStart] = element
        gapStart += 1
    }

    mutating func remove(at position: Int, count removed: Int) {
        moveGap(to: position)
        gapEnd += removed
    }

    subscript(position: Int) -> Element {
        storage[position < gapStart ? position : position + (gapEnd - gapStart)]
    }

    /// Calls `body` with the part before the gap and the part after it.
    func withParts<R>(_ body: (UnsafeBufferPointer<Element>, UnsafeBufferPointer<Element>) -> R) -> R {
        storage.withUnsafeBufferPointer { buffer in
            body(UnsafeBufferPointer(rebasing: buffer[0 ..< gapStart]),
                 UnsafeBufferPointer(rebasing: buffer[gapEnd ..< buffer.count]))
        }
    }

    mutating func shrinkToFit() {
        moveGap(to: count)
        let kept = count
        var compact = Array(repeating: filler, count: max(kept + 16, 16))
        compact.withUnsafeMutableBufferPointer { target in
            storage.withUnsafeBufferPointer { source in
                target.baseAddress!.update(from: source.baseAddress!, count: kept)
            }
        }
        storage = compact
        gapStart = kept
        gapEnd = compact.count
    }
}
