import Crypto
import Foundation

/// The local content-addressed store of artifact bytes: `<objects>/ab/cd/<sha256>`, shared by
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

    public func path(for sha256: String) -> String {
        let u = Array(sha256.utf8)
        let a = String(decoding: u[0..<2], as: UTF8.self), b = String(decoding: u[2..<4], as: UTF8.self)
        return "\(root)/\(a)/\(b)/\(sha256)"
    }

    public func contains(_ sha256: String) -> Bool { FileManager.default.fileExists(atPath: path(for: sha256)) }

    /// A file being written into the cache.
    public final class Ingest {
        let cache: ContentCache
        let tempPath: String
        let fd: Int32
        var hasher = SHA256()
        public private(set) var size: UInt64 = 0
        var finished = false

        init(cache: ContentCache) throws(ArtifactError) {
            self.cache = cache
            let dir = cache.root + "/tmp"
            do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
                throw .io("cannot create \(dir): \(error.localizedDescription)")
            }
            tempPath = "\(dir)/ingest-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
            fd = open(tempPath, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw .io("cannot create \(tempPath): \(String(cString: strerror(errno)))") }
        }

        deinit {
            if !finished {
                close(fd)
                unlink(tempPath)
            }
        }

        public func append(_ bytes: some Collection<UInt8>) throws(ArtifactError) {
            let chunk = Array(bytes)
            hasher.update(data: chunk)
            var offset = 0
            while offset < chunk.count {
                let n = chunk.withUnsafeBufferPointer { write(fd, $0.baseAddress! + offset, $0.count - offset) }
                if n < 0 {
                    if errno == EINTR { continue }
                    // ENOSPC and friends: the partial file is removed by deinit.
                    throw .io("cannot write to the artifact cache: \(String(cString: strerror(errno)))")
                }
                offset += n
            }
            size += UInt64(chunk.count)
        }

        /// Moves the file into place under its hash; returns the hex sha256.
        public func finish() throws(ArtifactError) -> String {
            let digest = hexDigest(hasher.finalize())
            // No fsync: a cache entry a crash left short fails the hash every reader checks
            // (once per process) and counts as missing; the work tree still has the bytes.
            guard close(fd) == 0 else {
                unlink(tempPath)
                finished = true
                throw .io("cannot write to the artifact cache: \(String(cString: strerror(errno)))")
            }
            finished = true
            let final = cache.path(for: digest)
            try? FileManager.default.createDirectory(atPath: (final as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            if FileManager.default.fileExists(atPath: final) {
                unlink(tempPath)
            } else if rename(tempPath, final) != 0 {
                let why = String(cString: strerror(errno))
                unlink(tempPath)
                throw .io("cannot store artifact in the cache: \(why)")
            }
            cache.markVerified(digest)
            return digest
        }
    }

    public func ingest() throws(ArtifactError) -> Ingest { try Ingest(cache: self) }

    /// Streams a cached artifact to `body` in chunks after checking its hash and size;
    /// a cached file whose bytes do not match is deleted and reported as corrupt.
    public func read(_ sha256: String, size: UInt64, path displayPath: String, _ body: (ArraySlice<UInt8>) throws(ArtifactError) -> Void) throws(ArtifactError) {
        let file = path(for: sha256)
        if !isVerified(sha256) {
            let actual = try ContentCache.hash(file: file)
            guard actual.sha256 == sha256, actual.size == size else {
                unlink(file)
                throw .corrupt(sha256: sha256, actual: actual.sha256, path: displayPath)
            }
            markVerified(sha256)
        }
        try stream(sha256, body)
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

    /// sha256 and size of a file, read in 1 MiB chunks.
    public static func hash(file: String) throws(ArtifactError) -> (sha256: String, size: UInt64) {
        let fd = open(file, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .io("cannot read \(file): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var hasher = SHA256()
        var size: UInt64 = 0
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = buffer.withUnsafeMutableBufferPointer { Glibc.read(fd, $0.baseAddress!, $0.count) }
            if n < 0 { if errno == EINTR { continue }; throw .io("cannot read \(file): \(String(cString: strerror(errno)))") }
            if n == 0 { break }
            buffer.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            size += UInt64(n)
        }
        return (hexDigest(hasher.finalize()), size)
    }
}

/// Lower-case hex of a digest.
func hexDigest(_ digest: some Sequence<UInt8>) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    for b in digest { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
    return String(decoding: out, as: UTF8.self)
}
