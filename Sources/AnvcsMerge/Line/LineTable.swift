/// A text cut into lines the way git's xdiff cuts it: every line keeps its "\n",
/// only the last line may lack one, and an empty text has no lines.
struct LineTable: Sendable {
    let bytes: [UInt8]
    /// `starts[i] ..< starts[i + 1]` is line `i`; `starts.last == bytes.count`.
    let starts: [Int]

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        var starts = [0]
        starts.reserveCapacity(bytes.count / 32 + 2)
        for (offset, byte) in bytes.enumerated() where byte == 0x0A {
            starts.append(offset + 1)
        }
        if starts.last != bytes.count { starts.append(bytes.count) }
        self.starts = starts
    }

    var count: Int { starts.count - 1 }

    subscript(line: Int) -> ArraySlice<UInt8> { bytes[starts[line] ..< starts[line + 1]] }

    /// Bytes of lines `range`, joined as they are in the text.
    func text(_ range: Range<Int>) -> ArraySlice<UInt8> {
        if range.isEmpty { return [] }
        return bytes[starts[range.lowerBound] ..< starts[range.upperBound]]
    }

    func endsWithNewline(_ line: Int) -> Bool {
        let end = starts[line + 1]
        return end > starts[line] && bytes[end - 1] == 0x0A
    }
}

/// Gives every distinct line one small integer, shared by all the texts it classifies,
/// so that the diff compares integers rather than bytes.
struct LineClassifier {
    private var classes: [ArraySlice<UInt8>: Int] = [:]

    var classCount: Int { classes.count }

    mutating func classify(_ table: LineTable) -> [Int] {
        var ids = [Int]()
        ids.reserveCapacity(table.count)
        for line in 0 ..< table.count {
            let slice = table[line]
            if let id = classes[slice] {
                ids.append(id)
            } else {
                let id = classes.count
                classes[slice] = id
                ids.append(id)
            }
        }
        return ids
    }
}
