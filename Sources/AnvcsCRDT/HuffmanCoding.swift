/// Canonical Huffman coding of bytes, for the inserted text of a saved history (typed prose and
/// code need about 4.5 bits a character). Layout: raw length, symbol count, (symbol, code length)
/// pairs, bitstream length, bitstream (most significant bit first).
enum HuffmanCoding {
    static let maxCodeLength = 24

    /// Code lengths per byte value, or nil when a code would be too long (then store raw).
    static func codeLengths(of bytes: [UInt8]) -> [Int]? {
        var frequencies = [Int](repeating: 0, count: 256)
        for byte in bytes { frequencies[Int(byte)] += 1 }
        var lengths = [Int](repeating: 0, count: 256)
        let used = (0 ..< 256).filter { frequencies[$0] > 0 }
        if used.count == 1 { lengths[used[0]] = 1; return lengths }
        // Nodes: leaves 0..<256, internal nodes after; repeatedly join the two lightest.
        var weight = frequencies, parent = [Int](repeating: -1, count: 512)
        var live = used
        while live.count > 1 {
            live.sort { weight[$0] > weight[$1] }
            let a = live.removeLast(), b = live.removeLast()
            weight.append(weight[a] + weight[b])
            let node = weight.count - 1
            parent[a] = node
            parent[b] = node
            live.append(node)
        }
        for symbol in used {
            var depth = 0, node = symbol
            while parent[node] >= 0 { node = parent[node]; depth += 1 }
            if depth > maxCodeLength { return nil }
            lengths[symbol] = depth
        }
        return lengths
    }

    /// Canonical codes: shorter first, then by symbol.
    static func codes(for lengths: [Int]) -> [(code: UInt32, length: Int)] {
        var result = [(code: UInt32, length: Int)](repeating: (0, 0), count: 256)
        var code: UInt32 = 0
        var previousLength = 0
        for (symbol, length) in (0 ..< 256).map({ ($0, lengths[$0]) }).filter({ $0.1 > 0 }).sorted(by: { ($0.1, $0.0) < ($1.1, $1.0) }) {
            code <<= UInt32(length - previousLength)
            result[symbol] = (code, length)
            code += 1
            previousLength = length
        }
        return result
    }

    static func encode(_ bytes: [UInt8], lengths: [Int], into out: inout ByteWriter) {
        out.varint(bytes.count)
        let used = (0 ..< 256).filter { lengths[$0] > 0 }
        out.varint(used.count)
        for symbol in used { out.bytes.append(UInt8(symbol)); out.varint(lengths[symbol]) }
        let table = codes(for: lengths)
        var stream: [UInt8] = []
        stream.reserveCapacity(bytes.count / 2)
        var accumulator: UInt64 = 0, bits = 0
        for byte in bytes {
            let (code, length) = table[Int(byte)]
            accumulator = accumulator << UInt64(length) | UInt64(code)
            bits += length
            while bits >= 8 {
                bits -= 8
                stream.append(UInt8(truncatingIfNeeded: accumulator >> UInt64(bits)))
            }
        }
        if bits > 0 { stream.append(UInt8(truncatingIfNeeded: accumulator << UInt64(8 - bits))) }
        out.varint(stream.count)
        out.bytes.append(contentsOf: stream)
    }

    static func decode(from input: inout ByteReader, maxLength: Int) throws -> [UInt8] {
        let rawLength = try input.varint(max: maxLength)
        let usedCount = try input.varint(max: 256)
        var lengths = [Int](repeating: 0, count: 256)
        for _ in 0 ..< usedCount {
            let symbol = Int(try input.take(1)[0])
            guard lengths[symbol] == 0 else { throw input.error("symbol \(symbol) coded twice") }
            lengths[symbol] = try input.varint(max: maxCodeLength)
            guard lengths[symbol] > 0 else { throw input.error("zero code length") }
        }
        // Kraft inequality: the lengths must describe a prefix code.
        var kraft = 0
        for length in lengths where length > 0 { kraft += 1 << (maxCodeLength - length) }
        guard kraft <= 1 << maxCodeLength else { throw input.error("code lengths do not form a prefix code") }
        guard rawLength == 0 || usedCount > 0 else { throw input.error("text without symbols") }
        // Per length: first canonical code and where its symbols start in `ordered`.
        let ordered = (0 ..< 256).filter { lengths[$0] > 0 }.sorted { (lengths[$0], $0) < (lengths[$1], $1) }
        var countOf = [Int](repeating: 0, count: maxCodeLength + 1)
        for symbol in ordered { countOf[lengths[symbol]] += 1 }
        var firstCode = [Int](repeating: 0, count: maxCodeLength + 2)
        var firstIndex = [Int](repeating: 0, count: maxCodeLength + 2)
        var code = 0, index = 0
        for length in 1 ... maxCodeLength {
            code = (code + countOf[length - 1]) << 1
            firstCode[length] = code
            firstIndex[length] = index
            index += countOf[length]
        }
        let streamLength = try input.varint(max: input.end - input.offset)
        let stream = try input.take(streamLength)
        var output = [UInt8]()
        output.reserveCapacity(rawLength)
        // Codes of up to `tableBits` bits decode with one table lookup; longer ones bit by bit.
        let tableBits = 11
        var table = [UInt16](repeating: 0, count: 1 << tableBits)
        for (symbol, entry) in codes(for: lengths).enumerated() where entry.length > 0 && entry.length <= tableBits {
            let start = Int(entry.code) << (tableBits - entry.length)
            for slot in start ..< start + (1 << (tableBits - entry.length)) {
                table[slot] = UInt16(symbol) | UInt16(entry.length) << 8
            }
        }
        var bitPosition = 0
        let totalBits = stream.count * 8
        while output.count < rawLength {
            guard bitPosition < totalBits else { throw input.error("compressed text ends early") }
            let byte = bitPosition >> 3
            var window = Int(stream[byte]) << 16
            if byte + 1 < stream.count { window |= Int(stream[byte + 1]) << 8 }
            if byte + 2 < stream.count { window |= Int(stream[byte + 2]) }
            let peek = (window >> (24 - tableBits - (bitPosition & 7))) & ((1 << tableBits) - 1)
            let entry = table[peek]
            if entry != 0 && bitPosition + Int(entry >> 8) <= totalBits {
                output.append(UInt8(truncatingIfNeeded: entry))
                bitPosition += Int(entry >> 8)
                continue
            }
            var value = 0, length = 0
            while true {
                guard bitPosition < totalBits else { throw input.error("compressed text ends early") }
                value = value << 1 | Int(stream[bitPosition >> 3] >> UInt8(7 - bitPosition & 7) & 1)
                bitPosition += 1
                length += 1
                let offset = value - firstCode[length]
                if offset >= 0 && offset < countOf[length] {
                    output.append(UInt8(ordered[firstIndex[length] + offset]))
                    break
                }
                guard length < maxCodeLength else { throw input.error("invalid code in compressed text") }
            }
        }
        return output
    }
}
