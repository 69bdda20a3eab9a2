/// The current text, indexed by Unicode scalar. Stored one byte per character while the text is
/// ASCII (the common case for source code), widened once to one scalar per element otherwise.
struct TextBuffer: Sendable {
    private var narrow = GapBuffer<UInt8>(filler: 0)
    private var wide: GapBuffer<UInt32>? = nil

    var count: Int { wide?.count ?? narrow.count }
    var capacityInBytes: Int { wide?.capacityInBytes ?? narrow.capacityInBytes }

    /// Inserts UTF-8 `bytes` holding `scalarCount` scalars at scalar `position`.
    mutating func insert(utf8 bytes: UnsafeBufferPointer<UInt8>, scalarCount: Int, at position: Int) {
        if wide == nil {
            if bytes.count == scalarCount {
                if bytes.count == 1 { narrow.insert(bytes[0], at: position) } else { narrow.insert(bytes, at: position) }
                return
            }
            widen()
        }
        var scalars: [UInt32] = []
        scalars.reserveCapacity(scalarCount)
        for scalar in String(decoding: bytes, as: UTF8.self).unicodeScalars { scalars.append(scalar.value) }
        scalars.withUnsafeBufferPointer { wide!.insert($0, at: position) }
    }

    mutating func remove(at position: Int, count removed: Int) {
        if wide != nil { wide!.remove(at: position, count: removed) } else { narrow.remove(at: position, count: removed) }
    }

    private mutating func widen() {
        var grown = GapBuffer<UInt32>(filler: 0, capacity: narrow.count * 2 + 16)
        var scalars: [UInt32] = []
        scalars.reserveCapacity(narrow.count)
        narrow.withParts { before, after in
            for byte in before { scalars.append(UInt32(byte)) }
            for byte in after { scalars.append(UInt32(byte)) }
        }
        scalars.withUnsafeBufferPointer { grown.insert($0, at: 0) }
        wide = grown
        narrow = GapBuffer<UInt8>(filler: 0, capacity: 16)
    }

    var string: String {
        if let wide {
            var view = String.UnicodeScalarView()
            wide.withParts { before, after in
                for value in before { view.append(Unicode.Scalar(value)!) }
                for value in after { view.append(Unicode.Scalar(value)!) }
            }
            return String(view)
        }
        return narrow.withParts { before, after in
            var bytes = [UInt8]()
            bytes.reserveCapacity(before.count + after.count)
            bytes.append(contentsOf: before)
            bytes.append(contentsOf: after)
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    mutating func shrinkToFit() {
        if wide != nil { wide!.shrinkToFit() } else { narrow.shrinkToFit() }
    }
}

/// Number of Unicode scalars in well-formed UTF-8.
@inline(__always)
func scalarCount(ofUTF8 bytes: UnsafeBufferPointer<UInt8>) -> Int {
    var n = 0
    for byte in bytes where byte & 0xC0 != 0x80 { n += 1 }
    return n
}

/// Byte offset of scalar `index` in well-formed UTF-8 starting at `start`.
@inline(__always)
func byteOffset(ofScalar index: Int, in bytes: [UInt8], from start: Int) -> Int {
    bytes.withUnsafeBufferPointer { buffer in
        var offset = start
        var seen = 0
        let count = buffer.count
        while seen < index {
            offset += 1
            while offset < count && buffer[offset] & 0xC0 == 0x80 { offset += 1 }
            seen += 1
        }
        return offset
    }
}
