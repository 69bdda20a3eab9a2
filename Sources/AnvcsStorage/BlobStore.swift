/// A place that keeps versions of blobs under keys. Adapters: `LocalBlobStore`, `NFSBlobStore`,
/// `S3VersionedBlobStore`, `IPFSBlobStore`, and `CompositeBlobStore` over two of them.
///
/// Every adapter verifies downloaded bytes against a sha256 (the caller's, or the one the store
/// recorded at upload) before they replace the destination: a temporary file beside the
/// destination is renamed over it only once the digest matches.
public protocol BlobStore: Sendable {
    /// `local`, `nfs`, `s3`, `ipfs`: the pin's `storage` field.
    var storageName: String { get }
    /// Stores the file's current bytes under `key` and returns the pin that finds exactly them.
    func upload(localPath: String, key: String) throws -> ArtifactPin
    /// Writes the pinned version to `destinationPath` once its sha256 is verified; a mismatch throws
    /// `StorageError.digestMismatch` and leaves the destination as it was. `mode` says whether the
    /// destination must be durable when this returns (see `DownloadMode`).
    func download(key: String, versionId: String, to destinationPath: String, expectedSHA256: String?, mode: DownloadMode) throws
    func exists(key: String, versionId: String) throws -> Bool
    func deleteVersion(key: String, versionId: String) throws
    /// Stores a file whose sha256 and size the caller has already verified (an entry of a
    /// content-addressed cache, named by its digest and never changed in place). Stores that can
    /// use that knowledge override it; by default it is an ordinary upload whose digest must match.
    func upload(verifiedPath: String, key: String, sha256: String, size: UInt64) throws -> ArtifactPin
}

/// What a download's destination is. `.durable` (a file a user asked for): fsynced before it is
/// renamed into place. `.cacheEntry` (a content-addressed cache whose readers verify entries they
/// did not write): not fsynced, since a crash that leaves it short fails that check; and a store on
/// the same file system may hard-link its read-only, content-named version instead of copying it.
/// The sha256 is verified before the rename either way.
public enum DownloadMode: Sendable {
    case durable
    case cacheEntry
}

extension BlobStore {
    public func download(key: String, versionId: String, to destinationPath: String, expectedSHA256: String?) throws {
        try download(key: key, versionId: versionId, to: destinationPath, expectedSHA256: expectedSHA256, mode: .durable)
    }

    public func upload(verifiedPath: String, key: String, sha256: String, size: UInt64) throws -> ArtifactPin {
        let pin = try upload(localPath: verifiedPath, key: key)
        guard pin.sha256 == sha256.lowercased() else {
            throw StorageError.digestMismatch(key: key, expected: sha256, actual: pin.sha256)
        }
        return pin
    }

    public func download(pin: ArtifactPin, to destinationPath: String) throws {
        try download(key: pin.key, versionId: pin.versionId, to: destinationPath, expectedSHA256: pin.sha256)
    }
}

/// Keys are relative slash-separated names. A key that could escape a directory store
/// (absolute, `..`, empty segments, NUL) is refused everywhere, so a pin is portable between stores.
public enum BlobKey {
    public static func validate(_ key: String) throws {
        if key.isEmpty { throw StorageError.invalidKey(key: key, reason: "empty") }
        if key.hasPrefix("/") { throw StorageError.invalidKey(key: key, reason: "absolute") }
        if key.utf8.contains(0) { throw StorageError.invalidKey(key: key, reason: "contains NUL") }
        if key.utf8.count > 1024 { throw StorageError.invalidKey(key: key, reason: "longer than 1024 bytes") }
        for segment in key.split(separator: "/", omittingEmptySubsequences: false) {
            if segment.isEmpty || segment == "." || segment == ".." {
                throw StorageError.invalidKey(key: key, reason: "segment '\(segment)' is empty, '.' or '..'")
            }
        }
    }
}
