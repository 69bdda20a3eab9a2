import Crypto
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Receives a download into a temporary file beside the destination, hashing as it writes, and
/// renames it over the destination only when the sha256 matches. Restartable: a retried transfer
/// calls `restart()` and begins again. Not thread-safe: one transfer at a time.
final class VerifiedFileWriter {
    let destinationPath: String
    let temporaryPath: String
    private var descriptor: Int32
    private var hasher = SHA256()
    private(set) var written: UInt64 = 0
    private var finished = false
    private let durable: Bool

    init(destinationPath: String, mode: DownloadMode = .durable) throws {
        self.destinationPath = destinationPath
        durable = mode == .durable
        let directory = (destinationPath as NSString).deletingLastPathComponent
        let name = (destinationPath as NSString).lastPathComponent
        temporaryPath = (directory.isEmpty ? "." : directory) + "/.\(name).anvcs-\(UInt64.random(in: 0...UInt64.max))"
        descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw StorageError.fileSystem(operation: "create", path: temporaryPath, errno: errno)
        }
    }

    deinit {
        if !finished { discard() }
    }

    func restart() throws {
        guard ftruncate(descriptor, 0) == 0, lseek(descriptor, 0, SEEK_SET) == 0 else {
            throw StorageError.fileSystem(operation: "truncate", path: temporaryPath, errno: errno)
        }
        hasher = SHA256()
        written = 0
    }

    func write(_ chunk: UnsafeRawBufferPointer) throws {
        hasher.update(bufferPointer: chunk)
        try writeFully(descriptor, chunk, path: temporaryPath)
        written += UInt64(chunk.count)
    }

    /// Checks the digest (and size when known), then fsyncs (when durable) and renames over the destination.
    func commit(key: String, expectedSHA256: String, expectedSize: UInt64? = nil) throws {
        let actual = ContentDigest.hex(hasher.finalize())
        guard actual == expectedSHA256.lowercased() else {
            discard()
            throw StorageError.digestMismatch(key: key, expected: expectedSHA256, actual: actual)
        }
        if let expectedSize, expectedSize != written {
            discard()
            throw StorageError.sizeMismatch(key: key, expected: expectedSize, actual: written)
        }
        // A cache entry is stamped so the next process trusts it without hashing it again.
        if !durable { VerificationStamp.recordWritten(descriptor: descriptor, sha256: actual) }
        guard !durable || fsync(descriptor) == 0 else {
            let code = errno
            discard()
            throw StorageError.fileSystem(operation: "fsync", path: temporaryPath, errno: code)
        }
        close(descriptor)
        descriptor = -1
        guard rename(temporaryPath, destinationPath) == 0 else {
            let code = errno
            discard()
            throw StorageError.fileSystem(operation: "rename to \(destinationPath)", path: temporaryPath, errno: code)
        }
        finished = true
    }

    func discard() {
        if descriptor >= 0 { close(descriptor); descriptor = -1 }
        unlink(temporaryPath)
        finished = true
    }
}
