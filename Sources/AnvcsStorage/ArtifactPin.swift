/// What a blob store hands back for stored bytes: enough to fetch exactly them again.
/// The JSON form is DESIGN.md's artifact pin; field names are a contract.
public struct ArtifactPin: Codable, Sendable, Equatable, Hashable {
    /// The kind of artifact (`model`, `dataset`, `image`, ...); `blob` when unknown.
    public var type: String
    public var key: String
    /// The adapter that holds the bytes: `s3`, `ipfs`, `nfs` or `local`.
    public var storage: String
    public var bucket: String?
    public var region: String?
    /// The store's version of `key`: an S3 VersionId, an IPFS CID, a local version id.
    public var versionId: String
    /// Lower-case hex sha256 of the content.
    public var sha256: String
    public var size: UInt64
    /// The file's path in the working tree, relative to its root, when the caller knows it.
    public var path: String?

    public init(type: String = "blob", key: String, storage: String, bucket: String? = nil, region: String? = nil,
                versionId: String, sha256: String, size: UInt64, path: String? = nil) {
        self.type = type
        self.key = key
        self.storage = storage
        self.bucket = bucket
        self.region = region
        self.versionId = versionId
        self.sha256 = sha256
        self.size = size
        self.path = path
    }

    enum CodingKeys: String, CodingKey {
        case type, key, storage, bucket, region
        case versionId = "version_id"
        case sha256, size, path
    }
}
