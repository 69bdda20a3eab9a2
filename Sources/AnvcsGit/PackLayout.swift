import CLibgit2
import CZlib
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Where each entry of a pack is and what it is, found by reading every entry's header and
/// inflating its zlib stream (a zlib stream carries no length: inflating it is the only way to
/// learn where the next entry starts).
///
/// That pass is serial by nature, so on a large pack it is split: the pack is cut at a few
/// nominal points, a likely entry start is searched just after each (a header, a zlib header,
/// a stream that inflates to the size the header declares), and the pieces are scanned on every
/// core. Nothing found by searching is trusted: piece k is kept only when the scan of piece k-1,
/// which began at a proven start, ends exactly where piece k begins. So every piece began at a
/// true entry start, and the result is the serial scan's. On any mismatch or failure the
/// serial scan runs, and its verdict (its error message) is the one given.
struct PackLayout: Sendable {
    /// Entry i spans `offsets[i] ..< offsets[i + 1]`; the last bound is the trailer's offset.
    var offsets: [Int] = []
    /// Where entry i's zlib stream starts, counted from `offsets[i]`.
    var headerLengths: [UInt8] = []
    /// 1 commit, 2 tree, 3 blob, 4 tag (git_object_t); 6 a delta on an offset, 7 on an object id.
    var kinds: [UInt8] = []
    /// The inflated size the entry declares (and has: the scan checked it).
    var sizes: [Int] = []
    /// For a delta on an offset, the index of its base entry; -1 for anything else.
    var baseEntries: [Int32] = []
    /// The CRC-32 of each entry's bytes as packed (the index records it).
    var crcs: [UInt32] = []
    /// Deltas on an object id: the entry and its base's id.
    var idDeltas: [(entry: Int32, base: ObjectID)] = []
    /// How many pieces the scan ran in (1: serially), for traces and tests.
    var pieces = 1

    var count: Int { kinds.count }

    /// Room for `count` entries in each per-entry list.
    fileprivate mutating func reserve(_ count: Int) {
        offsets.reserveCapacity(count + 1)
        headerLengths.reserveCapacity(count)
        kinds.reserveCapacity(count)
        sizes.reserveCapacity(count)
        baseEntries.reserveCapacity(count)
        crcs.reserveCapacity(count)
    }

    /// Appends the entries of the stretch that follows this one; entry numbers run on.
    private mutating func append(_ next: PackLayout) {
        let first = Int32(count)
        offsets += next.offsets
        headerLengths += next.headerLengths
        kinds += next.kinds
        sizes += next.sizes
        baseEntries += next.baseEntries
        crcs += next.crcs
        idDeltas += next.idDeltas.map { (first + $0.entry, $0.base) }
    }

    /// Below this size a pack is scanned serially: splitting costs more than it saves.
    static let splitThreshold = 512 << 10

    /// Scans `pack` (header, entries, 20-byte trailer), keeping inflated entries in `kept`.
    /// `pieces` asks for a number of pieces (tests); nil picks one from the size and the cores.
    static func scan(_ pack: UnsafeRawBufferPointer, keeping kept: InflatedEntries, pieces requested: Int? = nil) throws(PackFailure) -> PackLayout {
        let bytes = pack.baseAddress!.assumingMemoryBound(to: UInt8.self)
        guard pack.count >= 32, memcmp(bytes, "PACK", 4) == 0 else { throw PackFailure("it is not a pack file") }
        let version = bigEndian32(bytes + 4), declared = Int(bigEndian32(bytes + 8))
        guard version == 2 || version == 3 else { throw PackFailure("pack version \(version) is not supported") }
        let end = pack.count - 20
        let cores = max(1, min(8, sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        // Twice as many pieces as cores, so a core the machine takes away for a while does not hold
        // the others up; each piece at least half the threshold.
        let pieces = requested ?? (cores > 1 && end >= splitThreshold ? min(2 * cores, end / (splitThreshold / 2)) : 1)
        if pieces > 1, let layout = try? scanInPieces(bytes, end: end, declared: declared, pieces: pieces, cores: cores, keeping: kept) {
            return layout
        }
        let piece = try ScannedPiece(bytes, from: 12, to: end, end: end, limit: declared, budget: InflatedEntries.budget)
        guard piece.count == declared else { throw PackFailure("the pack ends after \(piece.count) of the \(declared) objects it declares") }
        guard piece.stop == end else { throw PackFailure("the pack has \(end - piece.stop) bytes after the \(declared) objects it declares") }
        return try assemble([piece], keeping: kept)
    }

    /// The parallel scan; nil when a piece does not join the one before it exactly, when the
    /// pieces do not hold the declared count, or when any piece fails (the serial scan then
    /// decides, and names the first problem in pack order).
    private static func scanInPieces(_ bytes: UnsafePointer<UInt8>, end: Int, declared: Int, pieces: Int, cores: Int,
                                     keeping kept: InflatedEntries) throws(PackFailure) -> PackLayout? {
        let inflater = try Inflater()
        var starts = [12]
        for k in 1..<pieces {
            let nominal = 12 + (end - 12) / pieces * k
            guard nominal > starts.last!, let found = likelyEntryStart(bytes, from: nominal, before: end, inflater: inflater),
                  found > starts.last! else { continue }
            starts.append(found)
        }
        guard starts.count > 1 else { return nil }
        let bounds = starts + [end]
        let count = bounds.count - 1
        final class Shared: @unchecked Sendable {
            // Each slot written by the one worker that took its piece, read after the join.
            let results: UnsafeMutableBufferPointer<ScannedPiece?>
            let next = Atomic<Int>(0)
            let failed = Atomic<Bool>(false)
            init(_ count: Int) { results = .allocate(capacity: count); results.initialize(repeating: nil) }
            deinit { results.deinitialize().deallocate() }
        }
        let shared = Shared(count)
        let bytesAddress = UInt(bitPattern: bytes)
        onThreads(min(cores, count)) {
            let bytes = UnsafePointer<UInt8>(bitPattern: bytesAddress)!
            while !shared.failed.load(ordering: .relaxed) {
                let k = shared.next.wrappingAdd(1, ordering: .relaxed).oldValue
                guard k < count else { return }
                let from = bounds[k], to = bounds[k + 1]
                // Budget shared out evenly: which entries stay inflated does not change the result.
                guard let piece = try? ScannedPiece(bytes, from: from, to: to, end: end, limit: declared, budget: InflatedEntries.budget / count),
                      piece.stop == to else {
                    shared.failed.store(true, ordering: .relaxed)
                    return
                }
                shared.results[k] = piece
            }
        }
        guard !shared.failed.load(ordering: .relaxed) else { return nil }
        let scanned = shared.results.compactMap { $0 }
        guard scanned.count == count, scanned.reduce(0, { $0 + $1.count }) == declared else { return nil }
        var layout = try assemble(scanned, keeping: kept)
        layout.pieces = count
        return layout
    }

    /// The first offset at or after `from` that looks like the start of an entry: a valid
    /// header, a zlib header, a stream that inflates to exactly the declared size, and after it
    /// either the trailer or another valid header. A guess, proven (or not) by the piece before.
    private static func likelyEntryStart(_ bytes: UnsafePointer<UInt8>, from: Int, before end: Int, inflater: Inflater) -> Int? {
        // Entries above this are skipped as candidates (the piece before then runs past them).
        let candidateLimit = 1 << 20
        var p = from
        while p < end {
            defer { p += 1 }
            guard let header = try? EntryHeader(bytes, at: p, end: end), header.size <= candidateLimit,
                  header.streamStart + 2 <= end else { continue }
            let cmf = bytes[header.streamStart], flg = bytes[header.streamStart + 1]
            guard cmf & 0x0f == 8, cmf >> 4 <= 7, flg & 0x20 == 0, (UInt16(cmf) << 8 | UInt16(flg)) % 31 == 0 else { continue }
            let input = UnsafeRawBufferPointer(start: bytes + header.streamStart, count: end - header.streamStart)
            guard let consumed = inflater.measure(input, expected: header.size) else { continue }
            let next = header.streamStart + consumed
            if next == end || (try? EntryHeader(bytes, at: next, end: end)) != nil { return p }
        }
        return nil
    }

    /// Joins scanned pieces (in pack order) into one layout: entry numbers run on, and deltas on
    /// an offset find their base entry, which may lie in an earlier piece.
    private static func assemble(_ pieces: [ScannedPiece], keeping kept: InflatedEntries) throws(PackFailure) -> PackLayout {
        var layout = pieces[0].entries
        var baseOffsets = pieces[0].baseOffsets
        kept.take(from: pieces[0].kept)
        for piece in pieces.dropFirst() {
            layout.append(piece.entries)
            baseOffsets += piece.baseOffsets
            kept.take(from: piece.kept)
        }
        layout.offsets.append(pieces.last!.stop)
        for i in 0..<layout.count where baseOffsets[i] >= 0 {
            guard let found = layout.entry(at: baseOffsets[i], before: i) else {
                throw PackFailure("the object at offset \(layout.offsets[i]) is a delta on offset \(baseOffsets[i]), where no object starts")
            }
            layout.baseEntries[i] = Int32(found)
        }
        return layout
    }

    /// The entry starting at `offset` among the first `limit` (they are in offset order).
    private func entry(at offset: Int, before limit: Int) -> Int? {
        var low = 0, high = limit
        while low < high {
            let middle = (low + high) / 2
            if offsets[middle] < offset { low = middle + 1 } else { high = middle }
        }
        return low < limit && offsets[low] == offset ? low : nil
    }

    /// Entry i's zlib stream, to the end of the entry.
    func stream(_ entry: Int, in pack: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        let start = offsets[entry] + Int(headerLengths[entry])
        return UnsafeRawBufferPointer(rebasing: pack[start..<offsets[entry + 1]])
    }
}

/// An entry's header as packed: type and inflated size, then for a delta its base (a distance
/// back, or an object id), then the zlib stream.
private struct EntryHeader {
    var kind: UInt8
    var size: Int
    /// How far back the base starts, for a delta on an offset (0 otherwise).
    var distance = 0
    var streamStart: Int

    /// What is wrong with bytes that are no header (cheap to throw: the search for an entry
    /// start tries nearly every offset).
    enum Problem: Error {
        case malformed, malformedOffset, baseOutside, unknownType(UInt8)
        var description: String {
            switch self {
            case .malformed: "has a malformed header"
            case .malformedOffset: "has a malformed delta offset"
            case .baseOutside: "is a delta on a base outside the pack"
            case .unknownType(let kind): "has the unknown type \(kind)"
            }
        }
    }

    init(_ bytes: UnsafePointer<UInt8>, at start: Int, end: Int) throws(Problem) {
        var position = start
        var byte = bytes[position]
        position += 1
        kind = (byte >> 4) & 7
        size = Int(byte & 0x0f)
        var shift = 4
        while byte & 0x80 != 0 {
            guard position < end, shift < 57 else { throw .malformed }
            byte = bytes[position]
            position += 1
            size |= Int(byte & 0x7f) << shift
            shift += 7
        }
        switch kind {
        case 1, 2, 3, 4:
            break
        case 6:
            guard position < end else { throw .malformed }
            var c = bytes[position]
            position += 1
            distance = Int(c & 0x7f)
            while c & 0x80 != 0 {
                guard position < end, distance < Int.max >> 8 else { throw .malformedOffset }
                c = bytes[position]
                position += 1
                distance = ((distance + 1) << 7) | Int(c & 0x7f)
            }
            guard distance > 0, distance <= start - 12 else { throw .baseOutside }
        case 7:
            guard end - position >= 20 else { throw .malformed }
            position += 20
        default:
            throw .unknownType(kind)
        }
        streamStart = position
    }
}

/// The entries of one stretch of a pack, scanned from an entry start until `to` is reached
/// (or `limit` entries): the same reading as the whole pack's, with bases kept as offsets (a
/// base may lie in an earlier piece; `baseEntries` stays -1 until the pieces are joined).
private final class ScannedPiece: @unchecked Sendable {
    // Built by one thread, then only read (after the workers are joined).
    /// The entries, numbered from 0 within the piece, without the end bound.
    private(set) var entries = PackLayout()
    /// For a delta on an offset, where its base starts; -1 for anything else.
    private(set) var baseOffsets: [Int] = []
    let kept = InflatedEntries()
    /// Where the scan ended: the end of its last entry.
    private(set) var stop = 0
    var count: Int { entries.count }

    init(_ bytes: UnsafePointer<UInt8>, from: Int, to: Int, end: Int, limit: Int, budget total: Int) throws(PackFailure) {
        // The count is the sender's word: reserve no more than the bytes could hold, and for a
        // piece its share of the count.
        let share = Int((Double(limit) * Double(to - from) / Double(max(end - 12, 1)) * 1.25).rounded(.up)) + 16
        let expected = min(limit, share, (to - from) / 3 + 1)
        entries.reserve(expected)
        baseOffsets.reserveCapacity(expected)
        kept.reserve(expected)
        let inflater = try Inflater()
        var position = from
        var budget = total
        while position < to && count < limit {
            let start = position
            func malformed(_ what: String) -> PackFailure { PackFailure("the object at offset \(start) \(what)") }
            let header: EntryHeader
            do throws(EntryHeader.Problem) { header = try EntryHeader(bytes, at: start, end: end) } catch { throw malformed(error.description) }
            if header.kind == 7 { entries.idDeltas.append((Int32(count), ObjectID(git_oid(rawBytes: bytes + header.streamStart - 20)))) }
            position = header.streamStart
            let size = header.size
            let input = UnsafeRawBufferPointer(start: bytes + position, count: end - position)
            let consumed: Int?
            if size <= budget, let memory = malloc(max(size, 1)) {
                // Inflated now, kept for the resolution: each entry is inflated once.
                consumed = inflater.inflate(input, into: UnsafeMutableRawBufferPointer(start: memory, count: size))
                kept.append(memory)
                budget -= size
            } else {
                consumed = inflater.measure(input, expected: size)
                kept.append(nil)
            }
            guard let consumed else { throw malformed("does not inflate to the \(size) bytes it declares") }
            entries.offsets.append(start)
            entries.headerLengths.append(UInt8(position - start))
            entries.kinds.append(header.kind)
            entries.sizes.append(size)
            entries.baseEntries.append(-1)
            baseOffsets.append(header.kind == 6 ? start - header.distance : -1)
            position += consumed
            entries.crcs.append(UInt32(crc32_z(0, bytes + start, position - start)))
        }
        stop = position
    }
}

@inline(__always) private func bigEndian32(_ p: UnsafePointer<UInt8>) -> UInt32 {
    UInt32(p[0]) << 24 | UInt32(p[1]) << 16 | UInt32(p[2]) << 8 | UInt32(p[3])
}

/// The entries the scan inflated and kept (all of them, up to `budget` bytes in all), so the
/// resolution does not inflate them again; freed with the indexing.
final class InflatedEntries: @unchecked Sendable {
    // Written by the scan alone, then only read by the workers.
    private(set) var buffers: [UnsafeMutableRawPointer?] = []
    /// Beyond this many inflated bytes (a pack of a large history), entries are inflated again
    /// when resolved rather than held.
    static let budget = 128 << 20

    func reserve(_ count: Int) { buffers.reserveCapacity(count) }
    func append(_ buffer: UnsafeMutableRawPointer?) { buffers.append(buffer) }
    /// Moves `other`'s buffers (and their ownership) to the end of these.
    func take(from other: InflatedEntries) {
        buffers += other.buffers
        other.buffers = []
    }
    deinit { for buffer in buffers { free(buffer) } }
}
