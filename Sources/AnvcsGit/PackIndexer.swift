import CLibgit2
import CZlib
import Crypto
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Verifies a pack received in pieces and, only when every object in it checks out, writes it
/// with its index into a directory (a repository's `packDirectory`, or a staging directory
/// whose files are moved there once every pack of a fetch checked out). Nothing is left
/// behind on failure.
///
/// Ours rather than libgit2's indexer, for speed: a clone from a store is bounded by this
/// step, and libgit2's inflates, resolves deltas and hashes on one thread (about 250 ms for the
/// remote benchmark's 40,000 objects, where `git index-pack` takes 170 ms). Here the pack
/// arrives into a file with its checksum computed on the way; one pass finds where each entry
/// ends (a zlib stream carries no length, so that pass inflates; on a large pack in pieces side
/// by side, see PackLayout); then every core
/// takes its share of the delta trees: inflate, apply the deltas, hash. Object ids are SHA-1DC,
/// the collision-detecting SHA-1 git uses, through libgit2's `git_odb_hash`; the index is
/// version 2, byte for byte what `git index-pack` writes for the same pack.
public final class PackIndexer {
    private let directory: String
    private let label: String
    private let requireConnected: Bool
    private let scanPieces: Int?
    private let temporaryPath: String
    private var fd: Int32
    private var size = 0
    private var checksum = Insecure.SHA1()
    /// The last 20 bytes received, not hashed yet: they may be the trailer.
    private var held: [UInt8] = []
    private var finished = false

    /// Writes into `directory`; `label` names the pack in errors. With `requireConnected`,
    /// `commit()` also fails unless every object named by an object of the pack (parents,
    /// trees, entries, tag targets) is in the pack itself: the pack alone is a complete
    /// history, which is what lets git skip its connectivity walk after a clone.
    /// `scanPieces` forces how many pieces the scan is split into (for tests: the parallel scan
    /// on packs below its size threshold); nil lets the indexer choose.
    public init(directory: String, label: String, requireConnected: Bool = false, scanPieces: Int? = nil) throws(GitError) {
        ensureLibgit2()
        self.directory = directory
        self.label = label
        self.requireConnected = requireConnected
        self.scanPieces = scanPieces
        (fd, temporaryPath) = try Self.temporaryFile(in: directory, prefix: "tmp_pack_")
    }

    deinit {
        if fd >= 0 { close(fd) }
        if !finished { unlink(temporaryPath) }
    }

    public func append(_ bytes: UnsafeRawBufferPointer) throws(GitError) {
        guard bytes.count > 0 else { return }
        if let code = writeFully(fd, bytes) { throw Repository.fileError("write", temporaryPath, code: code) }
        size += bytes.count
        if bytes.count >= 20 {
            held.withUnsafeBytes { checksum.update(bufferPointer: $0) }
            checksum.update(bufferPointer: UnsafeRawBufferPointer(rebasing: bytes[..<(bytes.count - 20)]))
            held = Array(bytes[(bytes.count - 20)...])
        } else {
            held.append(contentsOf: bytes)
            if held.count > 20 {
                held.withUnsafeBytes { checksum.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[..<(held.count - 20)])) }
                held.removeFirst(held.count - 20)
            }
        }
    }

    /// Checks the pack's checksum and every object, then moves pack and index into place
    /// (`pack-<checksum>.pack` and `.idx`, read-only, synced to disk).
    public func commit() throws(GitError) -> IndexedPack {
        precondition(!finished, "PackIndexer.commit called twice")
        guard fsync(fd) == 0 else { throw Repository.fileError("fsync", temporaryPath) }
        guard size >= 32 else { throw failure("the pack is truncated: \(size) bytes") }
        guard checksum.finalize().elementsEqual(held) else {
            throw failure("its trailing checksum does not match its content (truncated or damaged)")
        }
        guard let map = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), map != MAP_FAILED else {
            throw Repository.fileError("mmap", temporaryPath)
        }
        defer { munmap(map, size) }
        let pack = MappedPack(bytes: UnsafeRawBufferPointer(start: map, count: size))
        let index: [UInt8], objectCount: Int, pieces: Int
        do throws(PackFailure) {
            let kept = InflatedEntries()
            let layout = try PackLayout.scan(pack.bytes, keeping: kept, pieces: scanPieces)
            let resolved = try DeltaResolution.resolve(pack, layout, kept: kept, collectLinks: requireConnected)
            let sorted = try SortedObjects(resolved.objects)
            if requireConnected { try sorted.checkContains(resolved.links) }
            index = PackIndexFile.encode(sorted, layout: layout, packChecksum: held)
            objectCount = layout.count
            pieces = layout.pieces
        } catch {
            throw failure(error.message)
        }

        let name = held.withUnsafeBytes { ObjectID(git_oid(rawBytes: $0.baseAddress!)) }.hex
        let (indexFD, indexTemporary) = try Self.temporaryFile(in: directory, prefix: "tmp_idx_")
        let written = index.withUnsafeBytes { writeFully(indexFD, $0) }
        let synced = written == nil && fchmod(indexFD, 0o444) == 0 && fsync(indexFD) == 0
        let syncError = errno
        close(indexFD)
        guard synced else {
            unlink(indexTemporary)
            throw Repository.fileError("write", indexTemporary, code: written ?? syncError)
        }
        guard fchmod(fd, 0o444) == 0 else { unlink(indexTemporary); throw Repository.fileError("chmod", temporaryPath) }
        close(fd)
        fd = -1
        // The pack before its index: git only looks at a pack once its .idx exists.
        let packPath = "\(directory)/pack-\(name).pack", indexPath = "\(directory)/pack-\(name).idx"
        guard rename(temporaryPath, packPath) == 0 else { unlink(indexTemporary); throw Repository.fileError("rename", packPath) }
        finished = true
        guard rename(indexTemporary, indexPath) == 0 else {
            let error = Repository.fileError("rename", indexPath)
            unlink(indexTemporary)
            unlink(packPath)
            throw error
        }
        return IndexedPack(name: name, objectCount: objectCount, scanPieces: pieces)
    }

    private func failure(_ message: String) -> GitError {
        GitError(call: "index-pack(\(label))", code: .other(-1), message: message)
    }

    private static func temporaryFile(in directory: String, prefix: String) throws(GitError) -> (Int32, String) {
        var template = Array("\(directory)/\(prefix)XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        let path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        guard fd >= 0 else { throw Repository.fileError("mkstemp", path) }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        return (fd, path)
    }
}

/// Why a pack was refused, in words for the user.
struct PackFailure: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

/// The read-only mapping of the pack file, shared by the workers (which only read it).
final class MappedPack: @unchecked Sendable {
    let bytes: UnsafeRawBufferPointer
    init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }
}

/// Every object of a pack, resolved: its id and type per entry, and (when asked) the ids its
/// content names, for the connectivity check.
struct ResolvedObjects {
    let objects: ObjectTable
    let links: [[git_oid]]
}

/// Each entry's id and type. Workers write disjoint slots (an entry is resolved by the one
/// worker that resolved its base) and nothing reads a slot before the workers are joined,
/// which is what makes the unchecked Sendable sound.
final class ObjectTable: @unchecked Sendable {
    let count: Int
    let ids: UnsafeMutablePointer<git_oid>
    /// git_object_t of each entry; 0 while unresolved.
    let types: UnsafeMutablePointer<UInt8>

    init(count: Int) {
        self.count = count
        ids = .allocate(capacity: max(count, 1))
        types = .allocate(capacity: max(count, 1))
        types.initialize(repeating: 0, count: max(count, 1))
    }
    deinit {
        ids.deallocate()
        types.deallocate()
    }
}

/// The deltas of each base: by entry for deltas on an offset (compressed rows), by id for
/// deltas on an object id.
struct DeltaChildren: Sendable {
    var firstChild: [Int32]
    var children: [Int32]
    var byBaseID: [ObjectID: [Int32]]
    /// The entries that are not deltas: the roots of the delta trees.
    var roots: [Int32]

    init(_ layout: PackLayout) {
        let n = layout.count
        var counts = [Int32](repeating: 0, count: n + 1)
        roots = []
        for i in 0..<n {
            if layout.baseEntries[i] >= 0 { counts[Int(layout.baseEntries[i]) + 1] += 1 } else if layout.kinds[i] < 6 { roots.append(Int32(i)) }
        }
        for i in 0..<n { counts[i + 1] += counts[i] }
        firstChild = counts
        var fill = counts
        children = [Int32](repeating: 0, count: Int(counts[n]))
        for i in 0..<n where layout.baseEntries[i] >= 0 {
            let base = Int(layout.baseEntries[i])
            children[Int(fill[base])] = Int32(i)
            fill[base] += 1
        }
        byBaseID = [:]
        for (entry, base) in layout.idDeltas { byBaseID[base, default: []].append(entry) }
    }
}

/// Resolves every entry on every core: a worker takes the next root (an entry that is not a
/// delta), inflates and hashes it, then walks the deltas on it depth first, keeping only the
/// chain it is on in memory.
enum DeltaResolution {
    /// Shared by the workers: the next root to take and the first failure.
    private final class Progress: Sendable {
        let nextRoot = Atomic<Int>(0)
        let stop = Atomic<Bool>(false)
        let failure = Mutex<PackFailure?>(nil)
        let links = Mutex<[[git_oid]]>([])
    }

    static func resolve(_ pack: MappedPack, _ layout: PackLayout, kept: InflatedEntries, collectLinks: Bool) throws(PackFailure) -> ResolvedObjects {
        let table = ObjectTable(count: layout.count)
        let children = DeltaChildren(layout)
        let progress = Progress()
        let cores = max(1, min(8, sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        // Below a few hundred objects a second thread costs more than it saves.
        let workers = layout.count < 512 ? 1 : cores
        onThreads(workers) {
            var links: [git_oid] = []
            do throws(PackFailure) {
                try work(pack, layout, kept, children, table, progress, collectLinks: collectLinks, links: &links)
            } catch {
                progress.stop.store(true, ordering: .relaxed)
                progress.failure.withLock { if $0 == nil { $0 = error } }
            }
            if collectLinks { progress.links.withLock { $0.append(links) } }
        }
        if let failure = progress.failure.withLock({ $0 }) { throw failure }
        for entry in 0..<layout.count where table.types[entry] == 0 {
            if let delta = layout.idDeltas.first(where: { $0.entry == entry }) {
                throw PackFailure("the object at offset \(layout.offsets[entry]) is a delta on \(delta.base.hex), which the pack does not hold")
            }
            throw PackFailure("the object at offset \(layout.offsets[entry]) is a delta whose base never resolves")
        }
        return ResolvedObjects(objects: table, links: progress.links.withLock { $0 })
    }

    private struct Frame {
        let data: UnsafeMutableRawBufferPointer
        /// Whether this frame allocated `data` (else the kept entries own it).
        let owned: Bool
        let type: UInt8
        var nextChild: Int
        let endChild: Int
        let byID: [Int32]
        var nextByID = 0
    }

    private static func work(_ pack: MappedPack, _ layout: PackLayout, _ kept: InflatedEntries, _ children: DeltaChildren, _ table: ObjectTable,
                             _ progress: Progress, collectLinks: Bool, links: inout [git_oid]) throws(PackFailure) {
        let inflater = try Inflater()
        var stack: [Frame] = []
        defer { for frame in stack where frame.owned { free(frame.data.baseAddress) } }
        let hasIDDeltas = !children.byBaseID.isEmpty

        /// Entry i's inflated bytes: those the scan kept, or inflated again (then owned).
        func inflate(_ entry: Int) throws(PackFailure) -> (UnsafeMutableRawBufferPointer, owned: Bool) {
            let size = layout.sizes[entry]
            if let memory = kept.buffers[entry] { return (UnsafeMutableRawBufferPointer(start: memory, count: size), false) }
            guard let memory = malloc(max(size, 1)) else { throw PackFailure("out of memory for an object of \(size) bytes") }
            let buffer = UnsafeMutableRawBufferPointer(start: memory, count: size)
            guard inflater.inflate(layout.stream(entry, in: pack.bytes), into: buffer) != nil else {
                free(memory)
                throw PackFailure("the object at offset \(layout.offsets[entry]) does not inflate")
            }
            return (buffer, true)
        }
        func finish(_ entry: Int, _ type: UInt8, _ data: UnsafeMutableRawBufferPointer, owned: Bool) throws(PackFailure) -> Frame {
            guard git_odb_hash(table.ids + entry, data.baseAddress, data.count, git_object_t(rawValue: Int32(type))) == 0 else {
                let message = git_error_last().flatMap { $0.pointee.message.map { String(cString: $0) } } ?? "it cannot be hashed"
                if owned { free(data.baseAddress) }
                throw PackFailure("the object at offset \(layout.offsets[entry]): \(message)")
            }
            table.types[entry] = type
            if collectLinks {
                do throws(PackFailure) { try ObjectLinks.read(type, UnsafeRawBufferPointer(data), into: &links) } catch {
                    if owned { free(data.baseAddress) }
                    throw PackFailure("\(ObjectID(table.ids[entry]).hex) (at offset \(layout.offsets[entry])) \(error.message)")
                }
            }
            let byID = hasIDDeltas ? children.byBaseID[ObjectID(table.ids[entry])] ?? [] : []
            return Frame(data: data, owned: owned, type: type, nextChild: Int(children.firstChild[entry]),
                         endChild: Int(children.firstChild[entry + 1]), byID: byID)
        }

        while !progress.stop.load(ordering: .relaxed) {
            let taken = progress.nextRoot.wrappingAdd(1, ordering: .relaxed).oldValue
            guard taken < children.roots.count else { return }
            let root = Int(children.roots[taken])
            let (data, owned) = try inflate(root)
            stack.append(try finish(root, layout.kinds[root], data, owned: owned))
            while let top = stack.last {
                let child: Int
                if top.nextChild < top.endChild {
                    child = Int(children.children[top.nextChild])
                    stack[stack.count - 1].nextChild += 1
                } else if top.nextByID < top.byID.count {
                    child = Int(top.byID[top.nextByID])
                    stack[stack.count - 1].nextByID += 1
                } else {
                    if top.owned { free(top.data.baseAddress) }
                    stack.removeLast()
                    continue
                }
                let (delta, owned) = try inflate(child)
                defer { if owned { free(delta.baseAddress) } }
                let result: UnsafeMutableRawBufferPointer
                do throws(PackDelta.Failure) { result = try PackDelta.apply(UnsafeRawBufferPointer(delta), to: UnsafeRawBufferPointer(top.data)) } catch {
                    switch error {
                    case .malformed(let why): throw PackFailure("the object at offset \(layout.offsets[child]): \(why)")
                    case .outOfMemory(let size): throw PackFailure("out of memory for an object of \(size) bytes")
                    }
                }
                stack.append(try finish(child, top.type, result, owned: true))
            }
        }
    }
}

/// Runs `body` on `count` threads (this one and count - 1 new ones) and returns when all are
/// done. Plain threads rather than Dispatch: the indexer runs inside processes (the test runner,
/// a helper) whose Dispatch pool other work may be holding, and it needs the cores now.
func onThreads(_ count: Int, _ body: @escaping @Sendable () -> Void) {
    final class Job: Sendable {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
    var threads: [pthread_t] = []
    for _ in 1..<max(count, 1) {
        var thread = pthread_t()
        let job = Unmanaged.passRetained(Job(body)).toOpaque()
        let started = pthread_create(&thread, nil, { context in
            let job = Unmanaged<Job>.fromOpaque(context!).takeRetainedValue()
            job.body()
            return nil
        }, job)
        if started == 0 { threads.append(thread) } else { Unmanaged<Job>.fromOpaque(job).release() }
    }
    // The calling thread works too; a thread that could not start leaves its share to the others
    // (the workers take roots from a shared counter).
    body()
    for thread in threads { pthread_join(thread, nil) }
}

/// The ids an object's content names: a commit's tree and parents, a tree's entries (but not
/// submodule commits), a tag's target.
enum ObjectLinks {
    static func read(_ type: UInt8, _ data: UnsafeRawBufferPointer, into links: inout [git_oid]) throws(PackFailure) {
        switch Int32(type) {
        case GIT_OBJECT_COMMIT.rawValue:
            var position = 0
            guard let tree = hexLine(data, &position, "tree ") else { throw PackFailure("is a commit without a tree line") }
            links.append(tree)
            while let parent = hexLine(data, &position, "parent ") { links.append(parent) }
        case GIT_OBJECT_TREE.rawValue:
            guard let bytes = data.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
            var position = 0
            while position < data.count {
                let modeStart = position
                while position < data.count, bytes[position] != 0x20 { position += 1 }
                let isSubmodule = position - modeStart == 6 && memcmp(bytes + modeStart, "160000", 6) == 0
                while position < data.count, bytes[position] != 0 { position += 1 }
                guard position > modeStart, data.count - position >= 21 else { throw PackFailure("is a malformed tree") }
                if !isSubmodule { links.append(git_oid(rawBytes: bytes + position + 1)) }
                position += 21
            }
        case GIT_OBJECT_TAG.rawValue:
            var position = 0
            guard let target = hexLine(data, &position, "object ") else { throw PackFailure("is a tag without an object line") }
            links.append(target)
        default:
            break
        }
    }

    /// `<keyword><40 hex digits>\n` at `position`, advancing past it.
    private static func hexLine(_ data: UnsafeRawBufferPointer, _ position: inout Int, _ keyword: StaticString) -> git_oid? {
        let length = keyword.utf8CodeUnitCount
        guard data.count - position >= length + 41, memcmp(data.baseAddress! + position, keyword.utf8Start, length) == 0,
              data[position + length + 40] == 0x0a else { return nil }
        var id = git_oid()
        let digits = data.baseAddress!.assumingMemoryBound(to: UInt8.self) + position + length
        let ok = withUnsafeMutableBytes(of: &id.id) { out -> Bool in
            for i in 0..<20 {
                guard let high = hexValue(digits[2 * i]), let low = hexValue(digits[2 * i + 1]) else { return false }
                out[i] = high << 4 | low
            }
            return true
        }
        guard ok else { return nil }
        position += length + 41
        return id
    }

    @inline(__always) private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: c - 0x30
        case 0x61...0x66: c - 0x61 + 10
        default: nil  // git writes ids in lower case
        }
    }
}

/// The entries in object id order, with the first-two-bytes table that both the index's
/// fan-out and the connectivity lookups come from.
struct SortedObjects {
    let table: ObjectTable
    /// Entry numbers in id order.
    let order: [Int32]
    /// `order[bucketStart[p] ..< bucketStart[p + 1]]` are the ids whose first two bytes are p.
    let bucketStart: [Int32]

    init(_ table: ObjectTable) throws(PackFailure) {
        self.table = table
        let n = table.count
        let ids = table.ids
        @inline(__always) func prefix(_ i: Int) -> Int { Self.prefix(ids + i) }
        var starts = [Int32](repeating: 0, count: 65537)
        for i in 0..<n { starts[prefix(i) + 1] += 1 }
        for p in 0..<65536 { starts[p + 1] += starts[p] }
        var fill = starts
        var order = [Int32](repeating: 0, count: n)
        for i in 0..<n {
            let p = prefix(i)
            order[Int(fill[p])] = Int32(i)
            fill[p] += 1
        }
        var duplicate: Int32?
        order.withUnsafeMutableBufferPointer { order in
            for p in 0..<65536 where starts[p + 1] - starts[p] > 1 {
                var bucket = UnsafeMutableBufferPointer(rebasing: order[Int(starts[p])..<Int(starts[p + 1])])
                bucket.sort { memcmp(ids + Int($0), ids + Int($1), 20) < 0 }
                for k in 1..<bucket.count where memcmp(ids + Int(bucket[k - 1]), ids + Int(bucket[k]), 20) == 0 {
                    duplicate = bucket[k]
                }
            }
        }
        if let duplicate { throw PackFailure("the pack holds \(ObjectID(ids[Int(duplicate)]).hex) twice") }
        self.order = order
        bucketStart = starts
    }

    /// The bucket of an id: its first two bytes.
    @inline(__always) private static func prefix(_ id: UnsafePointer<git_oid>) -> Int {
        let raw = UnsafeRawPointer(id)
        return Int(raw.load(as: UInt8.self)) << 8 | Int(raw.load(fromByteOffset: 1, as: UInt8.self))
    }

    func contains(_ id: UnsafePointer<git_oid>) -> Bool {
        let p = Self.prefix(id)
        var low = Int(bucketStart[p]), high = Int(bucketStart[p + 1])
        while low < high {
            let middle = (low + high) / 2
            let c = memcmp(table.ids + Int(order[middle]), id, 20)
            if c == 0 { return true }
            if c < 0 { low = middle + 1 } else { high = middle }
        }
        return false
    }

    /// Fails naming the first id in `links` that is not in the pack.
    func checkContains(_ links: [[git_oid]]) throws(PackFailure) {
        for group in links {
            let missing = group.withUnsafeBufferPointer { group in group.indices.first { !contains(group.baseAddress! + $0) } }
            if let missing {
                throw PackFailure("the pack is not a whole history: it names \(ObjectID(group[missing]).hex) but does not hold it")
            }
        }
    }
}

/// The pack index, version 2 (gitformat-pack(5)): fan-out, sorted ids, CRC-32s, offsets (those
/// past 2 GiB in a table of their own), the pack's checksum and the index's own.
enum PackIndexFile {
    static func encode(_ sorted: SortedObjects, layout: PackLayout, packChecksum: [UInt8]) -> [UInt8] {
        let n = sorted.order.count
        var out: [UInt8] = [0xff, 0x74, 0x4f, 0x63, 0, 0, 0, 2]
        out.reserveCapacity(8 + 1024 + n * 28 + 40)
        func append32(_ value: UInt32) { out.append(contentsOf: [UInt8(value >> 24), UInt8(truncatingIfNeeded: value >> 16), UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]) }
        for byte in 0..<256 { append32(UInt32(sorted.bucketStart[(byte + 1) << 8])) }
        for entry in sorted.order {
            withUnsafeBytes(of: sorted.table.ids[Int(entry)].id) { out.append(contentsOf: $0) }
        }
        for entry in sorted.order { append32(layout.crcs[Int(entry)]) }
        var large: [UInt64] = []
        for entry in sorted.order {
            let offset = layout.offsets[Int(entry)]
            if offset < 0x8000_0000 {
                append32(UInt32(offset))
            } else {
                append32(0x8000_0000 | UInt32(large.count))
                large.append(UInt64(offset))
            }
        }
        for offset in large {
            append32(UInt32(offset >> 32))
            append32(UInt32(truncatingIfNeeded: offset))
        }
        out.append(contentsOf: packChecksum)
        var checksum = Insecure.SHA1()
        out.withUnsafeBytes { checksum.update(bufferPointer: $0) }
        out.append(contentsOf: checksum.finalize())
        return out
    }
}
