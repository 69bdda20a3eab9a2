import Crypto
import Foundation

/// An object-store remote in a directory (local disk or a shared file system).
///
/// Objects are written to a temporary name and renamed into place, so a reader never sees a
/// partial one. The manifest's compare-and-swap holds an exclusive `flock` on `refs.lock`
/// while it compares the current manifest's digest and renames the new one over it; the kernel
/// drops the lock when its holder dies, so a killed pusher never blocks the others.
public struct DirectoryObjectStore: ObjectStore {
    public let root: String
    public let unsafe: Bool
    public var location: String { "file://" + root }

    public init(root: String, unsafe: Bool = false) {
        var root = root
        while root.count > 1 && root.hasSuffix("/") { root.removeLast() }
        self.root = root
        self.unsafe = unsafe
    }

    var manifestPath: String { root + "/refs.json" }

    public func readManifest() throws(RemoteError) -> (bytes: [UInt8], version: String)? {
        guard let bytes = try readFile(manifestPath) else { return nil }
        return (bytes, Self.digest(bytes))
    }

    public func replaceManifest(with bytes: [UInt8], expected: String?) throws(RemoteError) -> Bool {
        try makeDirectory(root)
        let lockPath = root + "/refs.lock"
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .fileSystem(operation: "open", path: lockPath, errno: errno) }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw .fileSystem(operation: "flock", path: lockPath, errno: errno) }
        }
        defer { flock(fd, LOCK_UN) }
        let current = try readFile(manifestPath).map(Self.digest)
        guard current == expected else { return false }
        try writeAtomically(manifestPath, bytes)
        return true
    }

    /// A hard link when the file is on the store's file system, a streamed copy otherwise; either
    /// way synced under a temporary name and renamed into place.
    public func put(_ key: String, file source: String) throws(RemoteError) {
        let path = root + "/" + key
        let directory = (path as NSString).deletingLastPathComponent
        try makeDirectory(directory)
        let temporary = directory + "/.tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        if link(source, temporary) != 0 {
            try copyFile(source, to: temporary)
        }
        let fd = open(temporary, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { let code = errno; unlink(temporary); throw .fileSystem(operation: "open", path: temporary, errno: code) }
        let synced = fsync(fd) == 0
        let code = errno
        close(fd)
        guard synced else { unlink(temporary); throw .fileSystem(operation: "fsync", path: temporary, errno: code) }
        try publish(temporary, as: path, in: directory)
    }

    private func copyFile(_ source: String, to target: String) throws(RemoteError) {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw .fileSystem(operation: "open", path: source, errno: errno) }
        defer { close(input) }
        let output = open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard output >= 0 else { throw .fileSystem(operation: "create", path: target, errno: errno) }
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { chunk.deallocate() }
        do {
            try readChunks(input, path: source, into: chunk) { (piece) throws(RemoteError) in try Self.writeAll(piece, to: output, path: target) }
        } catch {
            close(output); unlink(target)
            throw error
        }
        guard close(output) == 0 else { let code = errno; unlink(target); throw .fileSystem(operation: "close", path: target, errno: code) }
    }

    public func stream(_ key: String, restart: () throws(RemoteError) -> Void,
                     consume: (UnsafeRawBufferPointer) throws(RemoteError) -> Void) throws(RemoteError) -> Bool {
        let path = root + "/" + key
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return false }
            throw .fileSystem(operation: "open", path: path, errno: errno)
        }
        defer { close(fd) }
        try restart()
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { chunk.deallocate() }
        try readChunks(fd, path: path, into: chunk, consume)
        return true
    }

    public func list(prefix: String) throws(RemoteError) -> [StoredObject] {
        let directory = root + "/" + prefix
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        var out: [StoredObject] = []
        for name in names where !name.hasPrefix(".") {
            var info = stat()
            guard stat(directory + "/" + name, &info) == 0 else { continue }
            out.append(StoredObject(key: prefix + "/" + name, size: UInt64(info.st_size),
                                    modified: Date(timeIntervalSince1970: TimeInterval(info.st_mtim.tv_sec))))
        }
        return out
    }

    public func delete(_ key: String) throws(RemoteError) {
        let path = root + "/" + key
        if unlink(path) != 0 && errno != ENOENT { throw .fileSystem(operation: "unlink", path: path, errno: errno) }
    }

    /// Rename is atomic and flock is honoured on local file systems and NFSv4; nothing else to probe.
    public func checkSafety() throws(RemoteError) {
        var info = stat()
        if stat(root, &info) == 0, (info.st_mode & S_IFMT) != S_IFDIR {
            throw .invalidURL(url: location, reason: "\(root) exists and is not a directory")
        }
    }

    static func digest(_ bytes: [UInt8]) -> String {
        SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }

    private func readFile(_ path: String) throws(RemoteError) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw .fileSystem(operation: "open", path: path, errno: errno)
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var info = stat()
        if fstat(fd, &info) == 0 { bytes.reserveCapacity(Int(info.st_size)) }
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { chunk.deallocate() }
        try readChunks(fd, path: path, into: chunk) { (piece) throws(RemoteError) in bytes.append(contentsOf: piece) }
        return bytes
    }

    /// Reads `fd` to its end through `chunk`, handing each piece to `body` (retries EINTR).
    private func readChunks(_ fd: Int32, path: String, into chunk: UnsafeMutableRawBufferPointer,
                            _ body: (UnsafeRawBufferPointer) throws(RemoteError) -> Void) throws(RemoteError) {
        while true {
            let n = read(fd, chunk.baseAddress, chunk.count)
            if n < 0 {
                if errno == EINTR { continue }
                throw .fileSystem(operation: "read", path: path, errno: errno)
            }
            if n == 0 { return }
            try body(UnsafeRawBufferPointer(rebasing: chunk[0..<n]))
        }
    }

    /// Writes all of `bytes` to `fd` (short writes continued, EINTR retried).
    private static func writeAll(_ bytes: UnsafeRawBufferPointer, to fd: Int32, path: String) throws(RemoteError) {
        var written = 0
        while written < bytes.count {
            let n = write(fd, bytes.baseAddress! + written, bytes.count - written)
            if n < 0 {
                if errno == EINTR { continue }
                throw .fileSystem(operation: "write", path: path, errno: errno)
            }
            written += n
        }
    }

    /// Temporary file in the same directory, fsync, rename over the target, fsync the directory.
    private func writeAtomically(_ path: String, _ bytes: [UInt8]) throws(RemoteError) {
        let directory = (path as NSString).deletingLastPathComponent
        let temporary = directory + "/.tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .fileSystem(operation: "create", path: temporary, errno: errno) }
        let written = bytes.withUnsafeBytes { all in
            Result { () throws(RemoteError) in try Self.writeAll(all, to: fd, path: temporary) }
        }
        if case .failure(let error) = written {
            close(fd); unlink(temporary)
            throw error
        }
        if fsync(fd) != 0 {
            let code = errno
            close(fd); unlink(temporary)
            throw .fileSystem(operation: "fsync", path: temporary, errno: code)
        }
        close(fd)
        try publish(temporary, as: path, in: directory)
    }

    /// Renames a synced temporary file over `path`, then syncs the directory so the rename lasts.
    private func publish(_ temporary: String, as path: String, in directory: String) throws(RemoteError) {
        guard rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw .fileSystem(operation: "rename", path: path, errno: code)
        }
        let dfd = open(directory, O_RDONLY | O_CLOEXEC)
        if dfd >= 0 { fsync(dfd); close(dfd) }
    }

    private func makeDirectory(_ path: String) throws(RemoteError) {
        do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
            throw .fileSystem(operation: "mkdir", path: path, errno: errno)
        }
    }
}
