/// The saved form of a document: its run-length encoded history and, optionally, the current text
/// so that loading needs no replay. Layout (integers are LEB128 varints, signed ones zigzagged):
///
///     "ANVCRDT" 0x01 | flags (bit 0: has state)
///     agents: count, then each name as length + UTF-8
///     runs: count, then each: header (bit 0 insert, bits 1-2 step 0/+1/-1, bit 3 explicit parents,
///           bit 4 new agent, bits 5... units - 1), position delta from the cursor after the
///           previous run, [agent], [parent count, each start - parent]
///     content: coding byte (0 raw, 1 canonical Huffman), then the UTF-8 of every inserted
///              character in log order (raw: length + bytes; Huffman: see HuffmanCoding)
///     [state: frontier count + local versions, text length + UTF-8]
///     FNV-1a 32-bit checksum of everything before it (little endian)
///
/// Sequence numbers and content offsets are implicit: they follow from the order of runs.
extension TextDocument {
    static let magic: [UInt8] = Array("ANVCRDT".utf8) + [1]

    /// Encodes the history, and the current text too when `includingState` (for loading without replay).
    public func encoded(includingState: Bool = true) -> [UInt8] {
        var out = ByteWriter()
        out.bytes.append(contentsOf: Self.magic)
        out.varint(includingState ? 1 : 0)
        out.varint(log.agentNames.count)
        for name in log.agentNames { out.string(name) }
        out.varint(log.runs.count)
        var previousAgent = -1, previousPosition = 0
        for run in log.runs {
            let explicit = run.hasExplicitParents
            let newAgent = Int(run.agent) != previousAgent
            let stepCode = run.step == 0 ? 0 : (run.step == 1 ? 1 : 2)
            out.varint((run.isInsert ? 1 : 0) | stepCode << 1 | (explicit ? 8 : 0) | (newAgent ? 16 : 0) | (Int(run.count) - 1) << 5)
            out.signed(Int(run.position) - previousPosition)
            previousPosition = cursor(after: run.isInsert, position: Int(run.position), step: Int(run.step), count: Int(run.count))
            if newAgent { out.varint(Int(run.agent)); previousAgent = Int(run.agent) }
            if explicit {
                let parents = log.explicitParents[run.start] ?? []
                out.varint(parents.count)
                for parent in parents { out.varint(Int(run.start) - parent) }
            }
        }
        if let lengths = HuffmanCoding.codeLengths(of: log.content) {
            out.bytes.append(1)
            HuffmanCoding.encode(log.content, lengths: lengths, into: &out)
        } else {
            out.bytes.append(0)
            out.varint(log.content.count)
            out.bytes.append(contentsOf: log.content)
        }
        if includingState {
            out.varint(frontier.count)
            for lv in frontier { out.varint(lv) }
            out.string(buffer.string)
        }
        out.bytes.append(contentsOf: fnv1a(out.bytes).littleEndianBytes)
        return out.bytes
    }

    /// Loads a saved document; replays the history only when the text was not saved with it.
    /// Malformed or truncated input throws `CRDTError.malformedEncoding`.
    public init(decoding bytes: [UInt8], agent: String) throws {
        guard bytes.count >= Self.magic.count + 4, Array(bytes.prefix(Self.magic.count)) == Self.magic else {
            throw CRDTError.malformedEncoding(reason: "not an ANVCS CRDT document (bad magic or too short)", offset: 0)
        }
        let body = bytes.count - 4
        let stored = UInt32(bytes[body]) | UInt32(bytes[body + 1]) << 8 | UInt32(bytes[body + 2]) << 16 | UInt32(bytes[body + 3]) << 24
        guard fnv1a(bytes[0 ..< body]) == stored else {
            throw CRDTError.malformedEncoding(reason: "checksum mismatch (truncated or corrupted)", offset: body)
        }
        var input = ByteReader(bytes: bytes, offset: Self.magic.count, end: body)
        let flags = try input.varint()
        var log = OperationLog()
        let agentCount = try input.varint(max: 1 << 20)
        for _ in 0 ..< agentCount {
            let name = try input.string()
            guard log.agentIndex[name] == nil else { throw input.error("duplicate agent name \(name.debugDescription)") }
            _ = log.agent(named: name)
        }
        let runCount = try input.varint(max: body)
        log.runs.reserveCapacity(runCount)
        var previousAgent = -1, previousPosition = 0, insertedUnits = 0
        for _ in 0 ..< runCount {
            let header = try input.varint(max: (Int(Int32.max) - log.count) << 5)
            let isInsert = header & 1 == 1
            let stepCode = header >> 1 & 3
            guard stepCode < 3 else { throw input.error("bad step code") }
            let units = header >> 5 + 1
            guard units <= Int(Int32.max) - log.count else { throw input.error("history too long") }
            let position = previousPosition + (try input.signed())
            guard position >= 0, position <= Int(Int32.max) else { throw input.error("negative position") }
            if header & 16 != 0 { previousAgent = try input.varint(max: agentCount - 1) }
            guard previousAgent >= 0 else { throw input.error("run without agent") }
            let start = log.count
            var parents = start == 0 ? [] : [start - 1]
            if header & 8 != 0 {
                let parentCount = try input.varint(max: start)
                parents = try (0 ..< parentCount).map { _ in start - (try input.varint(max: start)) }
                guard parents.allSatisfy({ $0 >= 0 && $0 < start }) else { throw input.error("parent outside the history") }
                parents.sort()
                guard Set(parents).count == parents.count else { throw input.error("repeated parent") }
            }
            let step = stepCode == 0 ? 0 : (stepCode == 1 ? 1 : -1)
            previousPosition = cursor(after: isInsert, position: position, step: step, count: units)
            guard position + step * (units - 1) >= 0 else { throw input.error("run steps before the start") }
            let seq = log.nextSeq(ofAgent: previousAgent)
            log.runs.append(LogRun(start: Int32(start), count: Int32(units), position: Int32(position), contentStart: 0,
                                   agent: Int32(previousAgent), seqStart: Int32(seq), isInsert: isInsert,
                                   step: Int8(step), hasExplicitParents: header & 8 != 0))
            if header & 8 != 0 { log.explicitParents[Int32(start)] = parents }
            if isInsert { insertedUnits += units }
            if var last = log.agentSpans[previousAgent].last, last.lvStart + last.count == start {
                last.count += units
                log.agentSpans[previousAgent][log.agentSpans[previousAgent].count - 1] = last
            } else {
                log.agentSpans[previousAgent].append(AgentSpan(seqStart: seq, lvStart: start, count: units))
            }
            log.count += units
        }
        switch try input.take(1)[0] {
        case 0: log.content = try input.take(try input.varint(max: body))
        case 1: log.content = try HuffmanCoding.decode(from: &input, maxLength: insertedUnits * 4)
        default: throw input.error("unknown text coding")
        }
        guard let scalars = validUTF8ScalarCount(log.content), scalars == insertedUnits else {
            throw input.error("inserted text is not valid UTF-8 or does not match the runs")
        }
        // Content offsets follow from the order of insert runs.
        var offset = 0
        for index in log.runs.indices where log.runs[index].isInsert {
            log.runs[index].contentStart = Int32(offset)
            offset = byteOffset(ofScalar: Int(log.runs[index].count), in: log.content, from: offset)
        }
        self.log = log
        localAgent = self.log.agent(named: agent)
        if flags & 1 == 1 {
            let frontierCount = try input.varint(max: log.count)
            frontier = try (0 ..< frontierCount).map { _ in try input.varint(max: log.count - 1) }
            guard frontier == frontier.sorted(), log.count == 0 || !frontier.isEmpty else { throw input.error("bad version") }
            let text = try input.take(try input.varint(max: body))
            guard let count = validUTF8ScalarCount(text) else { throw input.error("text is not valid UTF-8") }
            text.withUnsafeBufferPointer { buffer.insert(utf8: $0, scalarCount: count, at: 0) }
        } else {
            do { try integrate(from: 0) } catch {
                throw CRDTError.malformedEncoding(reason: "history does not replay: \(error)", offset: input.offset)
            }
        }
        guard input.offset == body else { throw input.error("trailing bytes") }
    }
}

/// Where the author's cursor was after a run: the next run's position is stored relative to it,
/// which keeps the deltas of ordinary typing within one byte.
private func cursor(after isInsert: Bool, position: Int, step: Int, count: Int) -> Int {
    let last = position + step * (count - 1)
    return isInsert ? last + 1 : last
}

struct ByteWriter {
    var bytes: [UInt8] = []

    mutating func varint(_ value: Int) {
        var v = UInt64(value)
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func signed(_ value: Int) {
        varint(Int(bitPattern: UInt((value << 1) ^ (value >> 63))))
    }

    mutating func string(_ value: String) {
        varint(value.utf8.count)
        bytes.append(contentsOf: value.utf8)
    }
}

struct ByteReader {
    let bytes: [UInt8]
    var offset: Int
    let end: Int

    func error(_ reason: String) -> CRDTError {
        .malformedEncoding(reason: reason, offset: offset)
    }

    mutating func varint(max: Int = Int.max) throws -> Int {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < end else { throw error("truncated integer") }
            let byte = bytes[offset]
            offset += 1
            guard shift < 63 else { throw error("integer too long") }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { break }
            shift += 7
        }
        guard result <= UInt64(Swift.max(max, 0)), max >= 0 else { throw error("integer \(result) out of range 0...\(max)") }
        return Int(result)
    }

    mutating func signed() throws -> Int {
        let raw = UInt(try varint())
        return Int(bitPattern: raw >> 1) ^ -Int(bitPattern: raw & 1)
    }

    mutating func take(_ count: Int) throws -> [UInt8] {
        guard count <= end - offset else { throw error("truncated: \(count) bytes wanted, \(end - offset) left") }
        defer { offset += count }
        return Array(bytes[offset ..< offset + count])
    }

    mutating func string() throws -> String {
        let raw = try take(try varint(max: end - offset))
        guard validUTF8ScalarCount(raw) != nil else { throw error("name is not valid UTF-8") }
        return String(decoding: raw, as: UTF8.self)
    }
}

/// Scalar count of `bytes` if they are valid UTF-8.
func validUTF8ScalarCount(_ bytes: [UInt8]) -> Int? {
    var iterator = bytes.makeIterator()
    var decoder = UTF8()
    var count = 0
    while true {
        switch decoder.decode(&iterator) {
        case .scalarValue: count += 1
        case .emptyInput: return count
        case .error: return nil
        }
    }
}

func fnv1a<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
    var hash: UInt32 = 0x811C_9DC5
    for byte in bytes { hash = (hash ^ UInt32(byte)) &* 0x0100_0193 }
    return hash
}

extension UInt32 {
    var littleEndianBytes: [UInt8] { [UInt8(self & 0xFF), UInt8(self >> 8 & 0xFF), UInt8(self >> 16 & 0xFF), UInt8(self >> 24)] }
}
