import Foundation

/// A stored object's name and age (for the garbage collector's grace period).
public struct StoredObject: Sendable {
    public var key: String
    public var size: UInt64
    public var modified: Date
}

/// The few operations an object-store remote needs, over S3 or a directory.
/// Keys are relative to the remote's root (`refs.json`, `packs/pack-<name>.pack`).
public protocol ObjectStore: Sendable {
    /// `s3://bucket/prefix` or the directory, for messages.
    var location: String { get }
    /// The current manifest and an opaque version for compare-and-swap; nil when there is none.
    func readManifest() throws(RemoteError) -> (bytes: [UInt8], version: String)?
    /// Replaces the manifest only if its version is still `expected` (nil: only if there is
    /// none). Returns false when another writer changed it first.
    func replaceManifest(with bytes: [UInt8], expected: String?) throws(RemoteError) -> Bool
    /// Stores an immutable object from a file, streamed (multipart on S3 above its threshold);
    /// writing the same key twice writes the same bytes.
    func put(_ key: String, file path: String) throws(RemoteError)
    /// Streams an object into `consume` piece by piece, never whole in memory (packs can be
    /// large, and a consumer such as the pack indexer works while the rest is still arriving).
    /// `restart` runs before the first piece and again before a retried transfer starts over, so
    /// the consumer drops what it received. Returns false when the object does not exist.
    /// An error thrown by `consume` ends the read and is rethrown as it is.
    func stream(_ key: String, restart: () throws(RemoteError) -> Void,
              consume: (UnsafeRawBufferPointer) throws(RemoteError) -> Void) throws(RemoteError) -> Bool
    func list(prefix: String) throws(RemoteError) -> [StoredObject]
    func delete(_ key: String) throws(RemoteError)
    /// Refuses a store that cannot make compare-and-swap safe (run once, when the remote is created).
    func checkSafety() throws(RemoteError)
}

/// Opens the store an URL names.
public enum ObjectStores {
    public static func open(_ location: RemoteLocation, environment: [String: String]) throws(RemoteError) -> (any ObjectStore)? {
        switch location {
        case .git: return nil
        case .directory(let path, let unsafe): return DirectoryObjectStore(root: path, unsafe: unsafe)
        case .s3(let s3): return try S3ObjectStore(s3, environment: environment)
        }
    }
}
