import Foundation

/// Blobs in a versioned S3 bucket: the pin's version is S3's VersionId, so a key can be
/// overwritten and every pinned version stays readable.
public struct S3VersionedBlobStore: BlobStore {
    public let client: S3Client
    public let bucket: String
    /// Prepended to every key (`team/artifacts/`), empty for none.
    public let prefix: String
    public var storageName: String { "s3" }

    public init(client: S3Client, bucket: String, prefix: String = "") {
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.isEmpty || prefix.hasSuffix("/") ? prefix : prefix + "/"
    }

    func objectKey(_ key: String) -> String { prefix + key }

    /// Hashes the file, and uploads it unless the key's current version already holds the same
    /// sha256 (then that version is the pin). A bucket without versioning is refused: a pin must
    /// keep meaning the same bytes.
    public func upload(localPath: String, key: String) throws -> ArtifactPin {
        try BlobKey.validate(key)
        let size = try client.fileSize(localPath)
        let multipart = size >= client.configuration.multipartThreshold
        // The parts of a multipart upload are hashed as they are sent, not here.
        let digest = try ContentDigest.hashFile(at: localPath)
        let objectKey = objectKey(key)
        if let current = try? client.headObject(bucket: bucket, key: objectKey),
           current.sha256 == digest.sha256, current.size == digest.size, let versionId = current.versionId {
            return pin(key: key, versionId: versionId, digest: digest)
        }
        let result = multipart
            ? try client.multipartUpload(bucket: bucket, key: objectKey, path: localPath, digest: digest, metadata: [:], condition: .none)
            : try client.putObject(bucket: bucket, key: objectKey, fileAt: localPath, digest: digest)
        guard let versionId = result.versionId else {
            throw StorageError.invalidConfiguration(
                detail: "bucket \(bucket) does not have versioning enabled, so s3://\(bucket)/\(objectKey) cannot be pinned; "
                    + "enable it (git anvcs storage check shows the state)")
        }
        return pin(key: key, versionId: versionId, digest: digest)
    }

    func pin(key: String, versionId: String, digest: FileDigest) -> ArtifactPin {
        ArtifactPin(key: key, storage: storageName, bucket: bucket, region: client.configuration.region,
                    versionId: versionId, sha256: digest.sha256, size: digest.size)
    }

    public func download(key: String, versionId: String, to destinationPath: String, expectedSHA256: String?, mode: DownloadMode) throws {
        try BlobKey.validate(key)
        let writer = try VerifiedFileWriter(destinationPath: destinationPath, mode: mode)
        let info = try client.getObject(bucket: bucket, key: objectKey(key), versionId: versionId,
                                        prepare: { try writer.restart() },
                                        consume: { try writer.write($0) })
        guard let expected = expectedSHA256 ?? info.sha256 else {
            writer.discard()
            throw StorageError.invalidResponse(operation: "GetObject s3://\(bucket)/\(objectKey(key))",
                                               detail: "no sha256 to verify against (no pin digest and no x-amz-meta-sha256)")
        }
        try writer.commit(key: key, expectedSHA256: expected, expectedSize: info.size)
    }

    public func exists(key: String, versionId: String) throws -> Bool {
        try BlobKey.validate(key)
        do {
            _ = try client.headObject(bucket: bucket, key: objectKey(key), versionId: versionId)
            return true
        } catch StorageError.notFound {
            return false
        } catch StorageError.s3(let status, _, _, _, _, _) where status == 400 || status == 404 {
            // An unknown version id is a 400 on some servers.
            return false
        }
    }

    public func deleteVersion(key: String, versionId: String) throws {
        try BlobKey.validate(key)
        try client.deleteObject(bucket: bucket, key: objectKey(key), versionId: versionId)
    }
}
