import AnvcsGit
import AnvcsStorage
import Crypto
import Foundation

/// The local content-addressed store of artifact bytes: `<objects>/ab/<sha256>`, shared by
/// every work tree. Files enter only through `Ingest`, which hashes while writing to a temporary
/// file and renames it into place, so a name always matches its bytes; readers verify anyway.
public final class ContentCache: @unchecked Sendable {
    public let root: String

    public init(stateDirectory: String) {
        root = stateDirectory + "/objects"
    }

    /// Digests this process wrote or checked itself: reading them again needs no second hash.
    private let lock = NSLock()
    private var verified: Set<String> = []

    func markVerified(_ sha256: String) {
        lock.lock()
        verified.insert(sha256)
        lock.unlock()
    }

    public func isVerified(_ sha256: String) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return verified.contains(sha256)
    }

    /// Where the entry `sha256` lives: `<objects>/ab/<sha256>`. One directory level, because
    /// creating directories is most of what storing a thousand small artifacts costs (ext4
    /// allocates an inode for each); 256 directories hold millions of entries.
    public func path(for sha256: String) -> String {
        "\(root)/\(sha256.prefix(2))/\(sha256)"
    }

    /// `<objects>/tmp`, created when missing (one `mkdir` when it exists: this runs per ingest).
    func temporaryDirectory() throws(ArtifactError) -> String {
        let dir = root + "/tmp"
        if mkdir(dir, 0o777) == 0 || errno == EEXIST { return dir }
        do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
            throw .io("cannot create \(dir): \(error.localizedDescription)")
        }
        return dir
    }

    /// `mkdir` of the directory that holds `file` (its parent exists or is `root`'s child).
    func makeParent(of file: String) {
        let parent = (file as NSString).deletingLastPathComponent
        if mkdir(parent, 0o777) == 0 || errno == EEXIST { return }
        try? FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
    }

    /// Whether the entry is cached. An entry still in the older `<objects>/ab/cd/<sha256>` layout
    /// is moved to `path(for:)` here (one rename), so every reader that asks first finds it there.
    public func contains(_ sha256: String) -> Bool {
        let current = path(for: sha256)
        if access(current, F_OK) == 0 { return true }
        let legacy = "\(root)/\(sha256.prefix(2))/\(sha256.dropFirst(2).prefix(2))/\(sha256)"
        return access(legacy, F_OK) == 0 && rename(legacy, current) == 0
    }

    /// A file being written into the cache.
    ///
    /// `compare(with:)` names the entry the content is expected to be (git cleans a racily clean
    /// work tree file again, a gigabyte whose pointer is already staged): bytes that equal that
    /// entry are only hashed, not written, and are copied from it into the file if the content
    /// diverges after all. Nothing is trusted without the hash: the entry stands for the content
    /// only when all of it matched and it hashed to the entry's name.
    public final class Ingest {
        let cache: ContentCache
        let tempPath: String
        let fd: Int32
        var hasher = SHA256()
        public private(set) var size: UInt64 = 0
        /// Bytes in the temporary file; less than `size` while content matches the expected entry.
        var written: UInt64 = 0
        /// The entry being compared with; `trusted` when its bytes are known to hash to its name
        /// (checked in this process, or a valid verification stamp), so matching bytes need no hash.
        var expected: (sha256: String, fd: Int32, trusted: Bool)?
        var finished = false

        init(cache: ContentCache) throws(ArtifactError) {
            self.cache = cache
            let dir = try cache.temporaryDirectory()
            tempPath = "\(dir)/ingest-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
            fd = open(tempPath, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw .io("cannot create \(tempPath): \(String(cString: strerror(errno)))") }
        }

        deinit {
            if let expected { close(expected.fd) }
            if let writer {
                _ = writer.drain()
                writer.stop()
            }
            if !finished {
                close(fd)
                unlink(tempPath)
            }
        }

        /// From here on, compares the content with the cache entry `sha256` instead of writing it
        /// (nothing happens if the entry cannot be opened).
        public func compare(with sha256: String) {
            guard expected == nil else { return }
            let path = cache.path(for: sha256)
            let entry = open(path, O_RDONLY | O_CLOEXEC)
            guard entry >= 0 else { return }
            expected = (sha256, entry, cache.isVerified(sha256) || VerificationStamp.confirms(path: path, sha256: sha256))
        }

        public func append(_ bytes: some Collection<UInt8>) throws(ArtifactError) {
            let chunk = Array(bytes)
            if let entry = expected, matches(chunk) {
                if !entry.trusted { hasher.update(data: chunk) }
                size += UInt64(chunk.count)
                return
            }
            try materialize()
            hasher.update(data: chunk)
            try write(chunk)
            size += UInt64(chunk.count)
        }

        /// True when the expected entry holds `chunk` at the current offset.
        private func matches(_ chunk: [UInt8]) -> Bool {
            guard let expected else { return false }
            var theirs = [UInt8](repeating: 0, count: chunk.count)
            var got = 0
            while got < chunk.count {
                let n = theirs.withUnsafeMutableBytes { pread(expected.fd, $0.baseAddress! + got, chunk.count - got, off_t(size) + off_t(got)) }
                if n < 0, errno == EINTR { continue }
                if n <= 0 { return false }
                got += n
            }
            return theirs == chunk
        }

        /// Stops comparing: copies the matched bytes from the expected entry into the file (and
        /// hashes them, when matching a trusted entry skipped that).
        private func materialize() throws(ArtifactError) {
            guard let entry = expected else { return }
            expected = nil
            defer { close(entry.fd) }
            var buffer = [UInt8](repeating: 0, count: 1 << 20)
            while written < size {
                let want = Int(min(UInt64(buffer.count), size - written))
                let n = buffer.withUnsafeMutableBytes { pread(entry.fd, $0.baseAddress!, want, off_t(written)) }
                if n < 0, errno == EINTR { continue }
                guard n > 0 else { throw .io("cannot read the artifact cache entry \(entry.sha256.prefix(12))…: \(n < 0 ? String(cString: strerror(errno)) : "it shrank")") }
                if entry.trusted { buffer.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[0..<n])) } }
                try write(buffer[0..<n])
            }
        }

        /// Bytes not yet handed to the file (collected to `batchSize`, then written).
        var pending: [UInt8] = []
        /// Writes batches on its own thread once the content passes one batch, so that the copy
        /// into the page cache overlaps hashing here instead of following it (a gigabyte cleaned
        /// by `git add` used one of two cores; git waits on a full pipe while this process works).
        var writer: BackgroundWriter?
        static let batchSize = 1 << 20

        private func write(_ chunk: some Collection<UInt8>) throws(ArtifactError) {
            if pending.isEmpty { pending.reserveCapacity(Self.batchSize) }
            pending.append(contentsOf: chunk)
            written += UInt64(chunk.count)
            if pending.count >= Self.batchSize { try flush(wait: false) }
        }

        /// Hands the pending bytes to the file; with `wait`, returns once all of them are written.
        func flush(wait: Bool) throws(ArtifactError) {
            if !pending.isEmpty {
                if writer == nil && !wait { writer = BackgroundWriter(fd: fd) }
                if let writer {
                    writer.submit(pending)
                    // A written batch's storage comes back: no fresh pages to fault in per megabyte.
                    pending = writer.spare() ?? []
                } else {
                    try Self.writeAll(fd, pending)
                    pending.removeAll(keepingCapacity: true)
                }
            }
            if wait, let writer {
                let code = writer.drain()
                writer.stop()
                self.writer = nil
                if let code { throw .io("cannot write to the artifact cache: \(String(cString: strerror(code)))") }
            } else if let code = writer?.failed() {
                throw .io("cannot write to the artifact cache: \(String(cString: strerror(code)))")
            }
        }

        static func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws(ArtifactError) {
            // ENOSPC and friends: the partial file is removed by deinit.
            if let code = bytes.withUnsafeBytes({ writeFully(fd, $0) }) {
                throw .io("cannot write to the artifact cache: \(String(cString: strerror(code)))")
            }
        }

        /// Moves the file into place under its hash; returns the hex sha256.
        public func finish() throws(ArtifactError) -> String {
            if let entry = expected {
                var info = stat()
                // Every byte matched the entry, and the entry's bytes are known to hash to its
                // name or these did: the entry is this content.
                if fstat(entry.fd, &info) == 0, UInt64(info.st_size) == size,
                   entry.trusted || ContentDigest.hex(hasher.finalize()) == entry.sha256 {
                    finished = true
                    close(fd)
                    unlink(tempPath)
                    cache.markVerified(entry.sha256)
                    return entry.sha256
                }
                // A prefix of the entry, or an entry whose bytes are not its name: keep a real copy.
                try materialize()
            }
            do throws(ArtifactError) { try flush(wait: true) } catch {
                finished = true
                close(fd)
                unlink(tempPath)
                throw error
            }
            let digest = ContentDigest.hex(hasher.finalize())
            // No fsync: a cache entry a crash left short fails the hash every reader checks
            // (once per process) and counts as missing; the work tree still has the bytes.
            // (A stamp cannot hide that: it names the size, and ext4's ordered mode commits the
            // size only after the data.)
            VerificationStamp.recordWritten(descriptor: fd, sha256: digest)
            guard close(fd) == 0 else {
                unlink(tempPath)
                finished = true
                throw .io("cannot write to the artifact cache: \(String(cString: strerror(errno)))")
            }
            finished = true
            let final = cache.path(for: digest)
            if cache.contains(digest) {
                unlink(tempPath)
            } else {
                cache.makeParent(of: final)
                guard rename(tempPath, final) == 0 else {
                    let why = String(cString: strerror(errno))
                    unlink(tempPath)
                    throw .io("cannot store artifact in the cache: \(why)")
                }
            }
            cache.markVerified(digest)
            return digest
        }
    }

    public func ingest() throws(ArtifactError) -> Ingest { try Ingest(cache: self) }

    /// Streams a cached artifact to `body` in chunks after checking its hash and size;
    /// a cached file whose bytes do not match is deleted and reported as corrupt.
    public func read(_ sha256: String, size: UInt64, path displayPath: String, _ body: (ArraySlice<UInt8>) throws(ArtifactError) -> Void) throws(ArtifactError) {
        try verify(sha256, size: size, path: displayPath)
        try stream(sha256, body)
    }

    /// Hashes the entry unless this process already did (or wrote it) or its verification stamp
    /// vouches for it; an entry whose bytes do not match is deleted and reported as corrupt.
    public func verify(_ sha256: String, size: UInt64, path displayPath: String) throws(ArtifactError) {
        if isVerified(sha256) { return }
        let file = path(for: sha256)
        let actual = try verifiedDigest(of: file, expected: sha256, size: size)
        guard actual.sha256 == sha256, actual.size == size else {
            unlink(file)
            throw .corrupt(sha256: sha256, actual: actual.sha256, path: displayPath)
        }
        markVerified(sha256)
    }

    /// Streams a cached artifact to `body` without checking it (the caller just did).
    public func stream(_ sha256: String, _ body: (ArraySlice<UInt8>) throws(ArtifactError) -> Void) throws(ArtifactError) {
        let file = path(for: sha256)
        let fd = open(file, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .io("cannot read \(file): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBufferPointer { Glibc.read(fd, $0.baseAddress!, $0.count) }
            if n < 0 { if errno == EINTR { continue }; throw .io("cannot read \(file): \(String(cString: strerror(errno)))") }
            if n == 0 { return }
            try body(buffer[0..<n])
        }
    }

    /// sha256 and size of a cache entry (or of a file about to become one): from its verification
    /// stamp when another process already hashed these very bytes, otherwise hashed (then stamped).
    public func verifiedDigest(of file: String, expected: String, size: UInt64) throws(ArtifactError) -> (sha256: String, size: UInt64) {
        do { return try VerificationStamp.digest(of: file, expected: expected, size: size) } catch {
            throw .io(error.description)
        }
    }
}

/// One thread writing byte batches to a file in the order given, at most `limit` bytes queued
/// (a producer that gets ahead waits). The first write error stops it; `drain` reports it.
final class BackgroundWriter: @unchecked Sendable {
    let fd: Int32
    let condition = NSCondition()
    var queue: [[UInt8]] = []
    var queued = 0
    var busy = false
    var stopping = false
    /// errno of the first failed write; later batches are dropped.
    private var failure: Int32?
    /// Written batches, emptied, for the producer to fill again.
    private var spares: [[UInt8]] = []
    let limit = 8 << 20

    init(fd: Int32) {
        self.fd = fd
        Thread.detachNewThread { [self] in run() }
    }

    func submit(_ batch: [UInt8]) {
        condition.lock()
        while queued >= limit && failure == nil { condition.wait() }
        queue.append(batch)
        queued += batch.count
        condition.broadcast()
        condition.unlock()
    }

    /// Waits until every submitted batch is written (or dropped after a failure); the error, if any.
    func drain() -> Int32? {
        condition.lock()
        defer { condition.unlock() }
        while !queue.isEmpty || busy { condition.wait() }
        return failure
    }

    func failed() -> Int32? {
        condition.lock()
        defer { condition.unlock() }
        return failure
    }

    /// An emptied batch buffer to fill, if one came back.
    func spare() -> [UInt8]? {
        condition.lock()
        defer { condition.unlock() }
        return spares.popLast()
    }

    /// Lets the thread end once the queue is empty (no batch may follow).
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            while queue.isEmpty && !stopping { condition.wait() }
            if queue.isEmpty {
                condition.unlock()
                return
            }
            var batch = queue.removeFirst()
            busy = true
            let failed = failure != nil
            condition.unlock()
            let code = failed ? nil : batch.withUnsafeBytes { writeFully(fd, $0) }
            condition.lock()
            queued -= batch.count
            busy = false
            if spares.count < 4 {
                batch.removeAll(keepingCapacity: true)
                spares.append(batch)
            }
            if let code, failure == nil { failure = code }
            condition.broadcast()
            condition.unlock()
        }
    }
}
