import AnvcsHTTP

/// Builds the store `StorageSettings` describe. No network call happens here: a wrong bucket
/// or unreachable server shows on first use (and in `git anvcs storage check`); what can be
/// known without the network (a missing bucket name or path) throws at once.
public enum BlobStoreFactory {
    public static func make(_ settings: StorageSettings) throws -> any BlobStore {
        switch settings.mode {
        case .local: return try make(.local, settings)
        case .nfs: return try make(.nfs, settings)
        case .s3: return try make(.s3, settings)
        case .ipfs: return try make(.ipfs, settings)
        case .hybrid:
            guard let fallback = settings.fallback else {
                throw StorageError.invalidConfiguration(
                    detail: "storage.mode is hybrid but storage.fallback is not set; name the store to use when "
                        + "storage.primary (\(settings.primary.rawValue)) fails, e.g. storage.fallback: local")
            }
            guard fallback != settings.primary else {
                throw StorageError.invalidConfiguration(
                    detail: "storage.mode is hybrid but storage.primary and storage.fallback are both \(fallback.rawValue)")
            }
            return CompositeBlobStore(primary: try make(settings.primary, settings), fallback: try make(fallback, settings),
                                      queueDirectory: settings.hybridQueuePath)
        }
    }

    /// One store of the given kind.
    public static func make(_ kind: StorageSettings.StoreKind, _ settings: StorageSettings) throws -> any BlobStore {
        switch kind {
        case .local:
            return LocalBlobStore(root: settings.localPath)
        case .nfs:
            guard let path = settings.nfsPath else {
                throw StorageError.invalidConfiguration(detail: "the nfs store needs adapters.nfs.path (the mounted directory)")
            }
            return NFSBlobStore(mountPath: path)
        case .s3:
            guard let bucket = settings.s3.bucket else {
                throw StorageError.invalidConfiguration(detail: "the s3 store needs adapters.s3.bucket")
            }
            return S3VersionedBlobStore(client: try makeS3Client(settings), bucket: bucket, prefix: settings.s3.prefix)
        case .ipfs:
            return try IPFSBlobStore(api: settings.ipfsAPI, http: makeHTTPClient(settings))
        }
    }

    /// The S3 client for `adapters.s3.*`, with the standard credential chain (the profile of
    /// `adapters.s3.profile` when set, else `AWS_PROFILE`).
    public static func makeS3Client(_ settings: StorageSettings) throws -> S3Client {
        var environment = settings.environment
        if let profile = settings.s3.profile { environment["AWS_PROFILE"] = profile }
        let http = makeHTTPClient(settings)
        let region = settings.s3.region
            ?? nonEmpty(environment["AWS_REGION"]) ?? nonEmpty(environment["AWS_DEFAULT_REGION"])
            ?? SharedFileCredentialsProvider(environment: environment).settings()["region"]
            ?? "us-east-1"
        let endpoint = settings.s3.endpointURL
            ?? nonEmpty(environment["AWS_ENDPOINT_URL_S3"]) ?? nonEmpty(environment["AWS_ENDPOINT_URL"])
        let configuration = S3Configuration(
            region: region, endpointURL: endpoint, addressingStyle: settings.s3.addressingStyle,
            multipartThreshold: settings.s3.multipartThreshold, partSize: settings.s3.partSize,
            maximumConcurrentParts: settings.s3.maximumConcurrentParts)
        return try S3Client(configuration: configuration,
                            credentials: CredentialChain.standard(environment: environment, http: http), http: http)
    }

    /// An HTTP client honouring the proxy variables of the settings' environment.
    public static func makeHTTPClient(_ settings: StorageSettings) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.proxy = ProxySettings(environment: settings.environment)
        if let bundle = nonEmpty(settings.environment["AWS_CA_BUNDLE"]) { configuration.caBundlePath = bundle }
        return HTTPClient(configuration: configuration)
    }

    static func nonEmpty(_ value: String?) -> String? {
        guard let value, !value.isEmpty else { return nil }
        return value
    }
}
