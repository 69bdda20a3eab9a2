import Crypto
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Versions of keys in a directory, shared by `LocalBlobStore` and `NFSBlobStore`.
///
/// Layout: with d = sha256(key), `<root>/keys/<d[0..2]>/<d>.<sha256 of content>` is one version,
/// and the key's text is in a journal of names (`KeyNameJournal`, `<root>/names/`). The version id is the
/// content's sha256, so writers on different machines that store the same bytes produce the
/// same name, and a version file, once in place, never changes. Copies go to a unique temporary
/// name, are fsynced, renamed into place, and the directory is fsynced: a reader never sees a
/// partial version, even on NFS, where rename is atomic on the server.
///
/// No directory per key: directories are the dearest inodes to allocate (ext4 spreads them over
/// block groups), and two per key (`<d>/versions/`, the layout before 2026-12-07) were most of
/// the time a push of a thousand small artifacts spent in the store. Stores written in that
/// layout are still read, listed and deleted from; new versions always go to the flat names.
struct DirectoryBlobStore: Sendable {
    let root: String
    let storageName: String

    private func digest(_ key: String) -> String {
        ContentDigest.sha256Hex(of: Array(key.utf8))
    }

    /// A key's place: the bucket directory and the prefix of its files' names (its digest).
    struct Location {
        let bucket: String
        let digest: String
        func version(_ id: String) -> String { "\(bucket)/\(digest).\(id)" }
        /// Where the layout before 2026-12-07 kept versions.
        var legacyVersions: String { "\(bucket)/\(digest)/versions" }
        func legacyVersion(_ id: String) -> String { "\(legacyVersions)/\(id)" }

        /// The stored file of a version, in either layout, or nil.
        func stored(_ id: String) -> String? {
            let path = version(id)
            if access(path, F_OK) == 0 { return path }
            let legacy = legacyVersion(id)
            return access(legacy, F_OK) == 0 ? legacy : nil
        }
    }

    func location(_ key: String) -> Location {
        let d = digest(key)
        return Location(bucket: "\(root)/keys/\(d.prefix(2))", digest: d)
    }

    func bucket(_ key: String) -> String { location(key).bucket }

    func versionPath(key: String, versionId: String) -> String { location(key).version(versionId) }

    /// Where the layout before 2026-12-07 kept the version.
    func legacyVersionPath(key: String, versionId: String) -> String { location(key).legacyVersion(versionId) }

    /// 64 lowercase hex digits, ASCII only: what a version id here is (the content's sha256).
    private static func isDigest(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    /// A version id becomes part of a path: anything but a sha256 (a pin naming `../x`) is refused
    /// before it does.
    private static func validate(versionId: String, key: String) throws {
        guard isDigest(versionId) else {
            throw StorageError.invalidKey(key: key, reason: "version '\(versionId)' is not a lowercase sha256")
        }
    }

    func upload(localPath: String, key: String) throws -> ArtifactPin {
        try BlobKey.validate(key)
        let place = location(key)
        try makeDirectories(place.bucket)
        let temporary = "\(place.bucket)/.incoming-\(DirectoryBlobStore.writerTag())"
        let (sha256, size) = try copyHashing(from: localPath, to: temporary)
        let final = place.version(sha256)
        if place.stored(sha256) != nil {
            // Same content already stored (by us or another writer): keep the existing file.
            unlink(temporary)
        } else {
            guard rename(temporary, final) == 0 else {
                let code = errno
                unlink(temporary)
                throw StorageError.fileSystem(operation: "rename into place", path: final, errno: code)
            }
            fsyncDirectory(place.bucket)
            try KeyNameJournal.shared(root: root).record(key)
        }
        return ArtifactPin(key: key, storage: storageName, versionId: sha256, sha256: sha256, size: size)
    }

    /// A verified, content-named file: when this version is stored already nothing is read; on
    /// the same file system the file is hard-linked into place instead of copied and hashed
    /// again (git-lfs's local store does no more). A link is atomic and never partial, so it goes
    /// straight to the version's name (EEXIST: stored already). It shares the cache's inode and
    /// is not fsynced: a crash can lose no more than the cache itself would, and every download
    /// verifies the sha256. Across file systems (NFS) it is an ordinary, fsynced upload.
    func upload(verifiedPath: String, key: String, sha256: String, size: UInt64) throws -> ArtifactPin {
        try BlobKey.validate(key)
        let digest = sha256.lowercased()
        guard Self.isDigest(digest) else {
            throw StorageError.invalidKey(key: key, reason: "'\(sha256)' is not a sha256")
        }
        let place = location(key)
        try makeDirectories(place.bucket)
        let pin = ArtifactPin(key: key, storage: storageName, versionId: digest, sha256: digest, size: size)
        if link(verifiedPath, place.version(digest)) == 0 {
            try KeyNameJournal.shared(root: root).record(key)
            return pin
        }
        if errno == EEXIST { return pin }
        let stored = try upload(localPath: verifiedPath, key: key)
        guard stored.sha256 == digest else { throw StorageError.digestMismatch(key: key, expected: digest, actual: stored.sha256) }
        return stored
    }

    func download(key: String, versionId: String, to destinationPath: String, expectedSHA256: String?, mode: DownloadMode) throws {
        try BlobKey.validate(key)
        try Self.validate(versionId: versionId, key: key)
        let place = location(key)
        let source = place.stored(versionId) ?? place.version(versionId)
        if mode == .cacheEntry, try linkVerified(source, key: key, versionId: versionId, to: destinationPath, expectedSHA256: expectedSHA256) {
            return
        }
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else {
            if errno == ENOENT { throw StorageError.notFound(key: key, versionId: versionId, store: "\(storageName):\(root)") }
            throw StorageError.fileSystem(operation: "open", path: source, errno: errno)
        }
        defer { close(input) }
        let writer = try VerifiedFileWriter(destinationPath: destinationPath, mode: mode)
        try DirectoryBlobStore.pump(from: input, path: source) { try writer.write($0) }
        // The version id is the content's sha256: what was stored is checked too, not only the pin.
        if let expectedSHA256, expectedSHA256.lowercased() != versionId.lowercased() {
            writer.discard()
            throw StorageError.digestMismatch(key: key, expected: expectedSHA256, actual: versionId)
        }
        try writer.commit(key: key, expectedSHA256: versionId)
    }

    /// A cache on the same file system gets the version hard-linked (versions are read-only and
    /// never change in place), hashed where it lies before it is renamed over the destination:
    /// a read instead of a read and a write. False when linking is not possible (another file
    /// system, a store that forbids links), and the caller copies.
    private func linkVerified(_ source: String, key: String, versionId: String, to destinationPath: String,
                              expectedSHA256: String?) throws -> Bool {
        if let expectedSHA256, expectedSHA256.lowercased() != versionId.lowercased() {
            throw StorageError.digestMismatch(key: key, expected: expectedSHA256, actual: versionId)
        }
        let directory = (destinationPath as NSString).deletingLastPathComponent
        let temporary = (directory.isEmpty ? "." : directory) + "/.link-\(DirectoryBlobStore.writerTag())"
        guard link(source, temporary) == 0 else {
            if errno == ENOENT, access(source, F_OK) != 0 {
                throw StorageError.notFound(key: key, versionId: versionId, store: "\(storageName):\(root)")
            }
            return false
        }
        let actual: String
        do { actual = try VerificationStamp.digest(of: temporary, expected: versionId).sha256 } catch {
            unlink(temporary)
            throw error
        }
        guard actual == versionId.lowercased() else {
            unlink(temporary)
            throw StorageError.digestMismatch(key: key, expected: versionId, actual: actual)
        }
        guard rename(temporary, destinationPath) == 0 else {
            let code = errno
            unlink(temporary)
            throw StorageError.fileSystem(operation: "rename to \(destinationPath)", path: temporary, errno: code)
        }
        return true
    }

    func exists(key: String, versionId: String) throws -> Bool {
        try BlobKey.validate(key)
        try Self.validate(versionId: versionId, key: key)
        return location(key).stored(versionId) != nil
    }

    /// Removes the version in both layouts (a store written by both holds it twice, as links).
    func deleteVersion(key: String, versionId: String) throws {
        try BlobKey.validate(key)
        try Self.validate(versionId: versionId, key: key)
        let place = location(key)
        var removed = false
        for path in [place.version(versionId), place.legacyVersion(versionId)] {
            if unlink(path) == 0 { removed = true; continue }
            guard errno == ENOENT || errno == ENOTDIR else {
                throw StorageError.fileSystem(operation: "unlink", path: path, errno: errno)
            }
        }
        guard removed else { throw StorageError.notFound(key: key, versionId: versionId, store: "\(storageName):\(root)") }
    }

    /// Every stored version of `key`, oldest first by modification time.
    func versions(of key: String) throws -> [String] {
        try BlobKey.validate(key)
        let place = location(key)
        var paths: [String: String] = [:]
        let prefix = place.digest + "."
        for name in (try? FileManager.default.contentsOfDirectory(atPath: place.bucket)) ?? [] where name.hasPrefix(prefix) {
            let version = String(name.dropFirst(prefix.count))
            if Self.isDigest(version) { paths[version] = place.version(version) }
        }
        for name in (try? FileManager.default.contentsOfDirectory(atPath: place.legacyVersions)) ?? [] where !name.hasPrefix(".") {
            if paths[name] == nil { paths[name] = place.legacyVersion(name) }
        }
        return paths.keys.sorted { left, right in
            (modificationTime(paths[left]!), left) < (modificationTime(paths[right]!), right)
        }
    }

    // MARK: helpers

    private func modificationTime(_ path: String) -> Double {
        var info = stat()
        guard stat(path, &info) == 0 else { return 0 }
        return Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9
    }

    /// A temporary-name component unique across machines and processes sharing a directory.
    /// Unique among writers on every machine sharing the store (NFS): host, process, random.
    static func writerTag() -> String {
        "\(hostName)-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
    }

    private static let hostName: String = {
        var name = [CChar](repeating: 0, count: 256)
        gethostname(&name, name.count - 1)
        return String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }()

    /// `mkdir -p`, from the leaf up: a directory that exists costs one call, not one per level.
    private func makeDirectories(_ path: String) throws {
        if mkdir(path, 0o777) == 0 || errno == EEXIST { return }
        let code = errno
        let parent = (path as NSString).deletingLastPathComponent
        guard code == ENOENT, !parent.isEmpty, parent != path else {
            throw StorageError.fileSystem(operation: "mkdir -p", path: path, errno: code)
        }
        try makeDirectories(parent)
        guard mkdir(path, 0o777) == 0 || errno == EEXIST else {
            throw StorageError.fileSystem(operation: "mkdir -p", path: path, errno: errno)
        }
    }

    /// Every key name this store has recorded (the journals, and the `<d>.key` files stores
    /// written before 2026-12-07 kept beside the versions), for listing and garbage collection.
    func keyNames() -> Set<String> {
        var names = KeyNameJournal.names(root: root)
        let keys = root + "/keys"
        for bucket in (try? FileManager.default.contentsOfDirectory(atPath: keys)) ?? [] {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: keys + "/" + bucket)) ?? [] where name.hasSuffix(".key") {
                if let data = FileManager.default.contents(atPath: "\(keys)/\(bucket)/\(name)") {
                    names.insert(String(decoding: data, as: UTF8.self))
                }
            }
        }
        return names
    }

    private func copyHashing(from source: String, to temporary: String) throws -> (String, UInt64) {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw StorageError.fileSystem(operation: "open", path: source, errno: errno) }
        defer { close(input) }
        let output = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o444)
        guard output >= 0 else { throw StorageError.fileSystem(operation: "create", path: temporary, errno: errno) }
        var hasher = SHA256()
        var size: UInt64 = 0
        do {
            try DirectoryBlobStore.pump(from: input, path: source) { chunk in
                hasher.update(bufferPointer: chunk)
                size += UInt64(chunk.count)
                try writeFully(output, chunk, path: temporary)
            }
            guard fsync(output) == 0 else { throw StorageError.fileSystem(operation: "fsync", path: temporary, errno: errno) }
        } catch {
            close(output)
            unlink(temporary)
            throw error
        }
        close(output)
        return (ContentDigest.hex(hasher.finalize()), size)
    }

    static func pump(from descriptor: Int32, path: String, into consume: (UnsafeRawBufferPointer) throws -> Void) throws {
        let size = 1 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 64)
        defer { buffer.deallocate() }
        while true {
            let count = read(descriptor, buffer.baseAddress, size)
            if count < 0 {
                if errno == EINTR { continue }
                throw StorageError.fileSystem(operation: "read", path: path, errno: errno)
            }
            if count == 0 { return }
            try consume(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        }
    }

    private func fsyncDirectory(_ path: String) {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        _ = fsync(descriptor)
        close(descriptor)
    }
}

/// The embedded default: versions kept in a directory on this machine (`adapters.local.path`).
public struct LocalBlobStore: BlobStore {
    let store: DirectoryBlobStore
    public var storageName: String { store.storageName }
    public var root: String { store.root }

    public init(root: String) {
        store = DirectoryBlobStore(root: root, storageName: "local")
    }

    public func upload(localPath: String, key: String) throws -> ArtifactPin {
        var pin = try store.upload(localPath: localPath, key: key)
        pin.path = nil
        return pin
    }

    public func upload(verifiedPath: String, key: String, sha256: String, size: UInt64) throws -> ArtifactPin {
        try store.upload(verifiedPath: verifiedPath, key: key, sha256: sha256, size: size)
    }

    public func download(key: String, versionId: String, to destinationPath: String, expectedSHA256: String?, mode: DownloadMode) throws {
        try store.download(key: key, versionId: versionId, to: destinationPath, expectedSHA256: expectedSHA256, mode: mode)
    }

    public func exists(key: String, versionId: String) throws -> Bool { try store.exists(key: key, versionId: versionId) }
    public func deleteVersion(key: String, versionId: String) throws { try store.deleteVersion(key: key, versionId: versionId) }
    public func versions(of key: String) throws -> [String] { try store.versions(of: key) }
}

/// The same layout on a mounted network file system (`adapters.nfs.path`), shared by writers on
/// several machines: unique temporary names, fsync before rename, content-named versions.
public struct NFSBlobStore: BlobStore {
    let store: DirectoryBlobStore
    public var storageName: String { store.storageName }
    public var root: String { store.root }

    public init(mountPath: String) {
        store = DirectoryBlobStore(root: mountPath, storageName: "nfs")
    }

    public func upload(localPath: String, key: String) throws -> ArtifactPin { try store.upload(localPath: localPath, key: key) }

    public func download(key: String, versionId: String, to destinationPath: String, expectedSHA256: String?, mode: DownloadMode) throws {
        try store.download(key: key, versionId: versionId, to: destinationPath, expectedSHA256: expectedSHA256, mode: mode)
    }

    public func exists(key: String, versionId: String) throws -> Bool { try store.exists(key: key, versionId: versionId) }
    public func deleteVersion(key: String, versionId: String) throws { try store.deleteVersion(key: key, versionId: versionId) }
    public func versions(of key: String) throws -> [String] { try store.versions(of: key) }
}

/// The names of stored keys, for listing and garbage collection; reads never need them (a key's
/// files are found by its digest). One append-only file per writing process,
/// `<root>/names/<host>-<pid>-<random>`, a NUL-terminated name per newly stored version (keys
/// cannot hold NUL): one inode per process instead of one per key, since on ext4 allocating
/// inodes was most of what storing a thousand small artifacts cost. Only this process appends to
/// its file, so it is safe on NFS with several writers. Not fsynced: a name lost in a crash only
/// leaves its versions unnamed in listings.
final class KeyNameJournal: @unchecked Sendable {
    let directory: String
    private let lock = NSLock()
    private var descriptor: Int32 = -1

    private static let journals = Mutex<[String: KeyNameJournal]>([:])

    static func shared(root: String) -> KeyNameJournal {
        journals.withLock { all in
            if let journal = all[root] { return journal }
            let journal = KeyNameJournal(directory: root + "/names")
            all[root] = journal
            return journal
        }
    }

    private init(directory: String) { self.directory = directory }

    func record(_ key: String) throws {
        lock.lock()
        defer { lock.unlock() }
        if descriptor < 0 {
            if mkdir(directory, 0o777) != 0 && errno != EEXIST {
                throw StorageError.fileSystem(operation: "mkdir", path: directory, errno: errno)
            }
            let path = directory + "/" + DirectoryBlobStore.writerTag()
            descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0o444)
            guard descriptor >= 0 else { throw StorageError.fileSystem(operation: "create", path: path, errno: errno) }
        }
        let bytes = Array(key.utf8) + [0]
        try bytes.withUnsafeBytes { try writeFully(descriptor, $0, path: directory) }
    }

    /// The names in every journal of the store at `root`.
    static func names(root: String) -> Set<String> {
        let directory = root + "/names"
        var names: Set<String> = []
        for file in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
            guard let data = FileManager.default.contents(atPath: directory + "/" + file) else { continue }
            for name in data.split(separator: 0) { names.insert(String(decoding: name, as: UTF8.self)) }
        }
        return names
    }
}
