import AnvcsStorage
import Foundation

/// Brings an artifact's bytes from the blob store into the local cache, verified.
///
/// It tries the pins recorded for the content (newest first), then the pointer's key with the
/// content's sha256 as version (what content-named stores such as the local one use). Whatever
/// arrives is hashed again before it is renamed into the cache: a store that returns different
/// bytes never gets them into a work tree.
public final class ArtifactFetcher: @unchecked Sendable {
    public typealias PinLookup = (_ sha256: String) -> [ArtifactPin]

    let cache: ContentCache
    let store: any BlobStore
    let lookup: PinLookup
    let lock = NSLock()

    /// `lookup` is called under a lock (it may read a database that is not thread-safe).
    public init(cache: ContentCache, store: any BlobStore, pins lookup: @escaping PinLookup) {
        self.cache = cache
        self.store = store
        self.lookup = lookup
    }

    func pins(_ sha256: String) -> [ArtifactPin] {
        lock.lock()
        defer { lock.unlock() }
        return lookup(sha256)
    }

    /// Ensures the pointer's content is in the cache; throws `.missing` or `.corrupt` when not.
    public func fetch(_ pointer: ArtifactPointer, path: String) throws(ArtifactError) {
        if cache.contains(pointer.sha256) { return }
        var candidates = pins(pointer.sha256).map { (key: $0.key, version: $0.versionId) }
        let fallback = (key: pointer.key, version: pointer.sha256)
        if !candidates.contains(where: { $0 == fallback }) { candidates.append(fallback) }
        var mismatch: String?
        var failures: [String] = []
        let temporary = try cache.temporaryPath("fetch")
        defer { unlink(temporary) }
        for candidate in candidates {
            do {
                try ArtifactKey.validate(candidate.key)
                try store.download(key: candidate.key, versionId: candidate.version, to: temporary, expectedSHA256: pointer.sha256,
                                   mode: .cacheEntry)
                // The store hashed what it wrote against the expected sha256 (BlobStore's contract).
                try cache.adopt(file: temporary, sha256: pointer.sha256, size: pointer.size, path: path, verifiedByStore: true)
                return
            } catch let error as ArtifactError {
                if case .corrupt(_, let actual, _) = error { mismatch = actual }
                failures.append(error.description)
            } catch let error as StorageError {
                switch error {
                case .digestMismatch(_, _, let actual): mismatch = actual
                case .notFound: break
                default: failures.append(error.description)
                }
            } catch {
                failures.append("\(error)")
            }
        }
        if let mismatch { throw .corrupt(sha256: pointer.sha256, actual: mismatch, path: path) }
        if !failures.isEmpty {
            throw .io("artifact \(path) (sha256 \(pointer.sha256.prefix(12))…) could not be fetched: \(failures.joined(separator: "; ")); the pointer file stays")
        }
        throw .missing(sha256: pointer.sha256, path: path)
    }
}

extension ContentCache {
    /// A fresh name in the cache's temporary directory (same file system as the cache).
    public func temporaryPath(_ purpose: String) throws(ArtifactError) -> String {
        let dir = try self.temporaryDirectory()
        return "\(dir)/\(purpose)-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
    }

    /// Moves `file` into the cache under `sha256` after hashing it; a mismatch removes it.
    /// With `verifiedByStore` only the size is checked (the store hashed the bytes as it wrote them).
    public func adopt(file: String, sha256: String, size: UInt64, path displayPath: String, verifiedByStore: Bool = false) throws(ArtifactError) {
        if verifiedByStore {
            var st = stat()
            guard stat(file, &st) == 0, UInt64(st.st_size) == size else {
                unlink(file)
                throw .corrupt(sha256: sha256, actual: "(a file of another size)", path: displayPath)
            }
        } else {
            let actual = try verifiedDigest(of: file, expected: sha256, size: size)
            guard actual.sha256 == sha256, actual.size == size else {
                unlink(file)
                throw .corrupt(sha256: sha256, actual: actual.sha256, path: displayPath)
            }
        }
        let final = self.path(for: sha256)
        makeParent(of: final)
        guard rename(file, final) == 0 else {
            throw .io("cannot store artifact \(displayPath) in the cache: \(String(cString: strerror(errno)))")
        }
        markVerified(sha256)
    }
}
