/// Names and marker size for conflict hunks, as git passes them to a merge driver.
public struct ConflictLabels: Sendable, Equatable {
    public var ours: String?
    public var base: String?
    public var theirs: String?
    public var markerSize: Int

    public init(ours: String? = nil, base: String? = nil, theirs: String? = nil, markerSize: Int = 7) {
        self.ours = ours
        self.base = base
        self.theirs = theirs
        self.markerSize = markerSize > 0 ? markerSize : 7
    }
}

extension LineMerge {
    /// The merged text exactly as `git merge-file` writes it.
    func render(style: ConflictStyle, labels: ConflictLabels) -> [UInt8] {
        if let whole = takeWhole { return whole.bytes }
        var out: [UInt8] = []
        out.reserveCapacity(ours.bytes.count + 256)
        var i = 0
        for m in regions {
            switch m.mode {
            case .identical:
                continue
            case .ours:
                out += ours.text(i ..< m.i1 + m.chg1)
            case .theirs:
                out += ours.text(i ..< m.i1)
                out += theirs.text(m.i2 ..< m.i2 + m.chg2)
            case .conflict:
                out += ours.text(i ..< m.i1)
                let crlf = needsCarriageReturn(m)
                ConflictWriter(labels: labels, crlf: crlf, style: style).write(
                    ours: ours.text(m.i1 ..< m.i1 + m.chg1),
                    base: base.text(m.i0 ..< m.i0 + m.chg0),
                    theirs: theirs.text(m.i2 ..< m.i2 + m.chg2),
                    into: &out)
            }
            i = m.i1 + m.chg1
        }
        out += ours.text(i ..< ours.count)
        return out
    }

    /// Markers follow the line endings of the text around them (git's `is_cr_needed`).
    private func needsCarriageReturn(_ m: Region) -> Bool {
        var decision = Self.endsInCRLF(ours, m.i1 > 0 ? m.i1 - 1 : 0)
        if decision != 0 { decision = Self.endsInCRLF(theirs, m.i2 > 0 ? m.i2 - 1 : 0) }
        if decision != 0 { decision = Self.endsInCRLF(base, 0) }
        return decision > 0
    }

    /// 1 for CRLF, 0 for LF, -1 when the text cannot tell.
    static func endsInCRLF(_ table: LineTable, _ line: Int) -> Int {
        func crlf(_ l: Int) -> Int {
            let slice = table[l]
            return slice.count > 1 && slice[slice.endIndex - 2] == 0x0D ? 1 : 0
        }
        if line < table.count - 1 { return crlf(line) }
        if table.count == 0 { return -1 }
        if table.endsWithNewline(line) { return crlf(line) }
        if line == 0 { return -1 }
        return crlf(line - 1)
    }
}

/// Writes one conflict hunk with git's markers.
struct ConflictWriter {
    let labels: ConflictLabels
    let crlf: Bool
    let style: ConflictStyle

    func write(ours: ArraySlice<UInt8>, base: ArraySlice<UInt8>, theirs: ArraySlice<UInt8>, into out: inout [UInt8]) {
        marker(0x3C, labels.ours, &out)
        side(ours, &out)
        if style != .merge {
            marker(0x7C, labels.base, &out)
            side(base, &out)
        }
        marker(0x3D, nil, &out)
        side(theirs, &out)
        marker(0x3E, labels.theirs, &out)
    }

    private func marker(_ byte: UInt8, _ label: String?, _ out: inout [UInt8]) {
        out += [UInt8](repeating: byte, count: labels.markerSize)
        if let label {
            out.append(0x20)
            out += Array(label.utf8)
        }
        if crlf { out.append(0x0D) }
        out.append(0x0A)
    }

    /// A side whose last line lacks a newline gets one, so the next marker starts a line.
    private func side(_ text: ArraySlice<UInt8>, _ out: inout [UInt8]) {
        out += text
        if let last = text.last, last != 0x0A {
            if crlf { out.append(0x0D) }
            out.append(0x0A)
        }
    }
}
