/// Where and how an `S3Client` talks to S3 or an S3-compatible server.
public struct S3Configuration: Sendable {
    public enum AddressingStyle: String, Sendable, Codable {
        /// `https://host/bucket/key`: works everywhere, required by most self-hosted servers.
        case path
        /// `https://bucket.host/key`: AWS's default.
        case virtualHosted = "virtual"
        /// Virtual-hosted on AWS when the bucket name allows it, path-style on a custom endpoint.
        case automatic = "auto"
    }

    public var region: String
    /// `http(s)://host[:port][/base]` of an S3-compatible server (MinIO, SeaweedFS, R2, moto);
    /// nil for AWS (`https://s3.<region>.amazonaws.com`).
    public var endpointURL: String?
    public var addressingStyle: AddressingStyle
    public var retry: RetryPolicy
    /// Files at least this large are sent as multipart uploads.
    public var multipartThreshold: UInt64
    public var partSize: UInt64
    /// Parts in flight at once.
    public var maximumConcurrentParts: Int
    /// Presigned URLs and the skew guard: a signature refused while clocks differ by more than
    /// this many seconds is reported as clock skew.
    public var clockSkewTolerance: Double

    public static let mebibyte: UInt64 = 1 << 20

    /// The part size for a file of `size` bytes: the configured one, raised (to whole MiB) where
    /// the file would otherwise need more than S3's 10,000 parts.
    public func partSize(forFileOfSize size: UInt64) -> UInt64 {
        let least = (size + 9_999) / 10_000
        return max(partSize, (least + S3Configuration.mebibyte - 1) / S3Configuration.mebibyte * S3Configuration.mebibyte)
    }

    public init(region: String = "us-east-1", endpointURL: String? = nil, addressingStyle: AddressingStyle = .automatic,
                retry: RetryPolicy = RetryPolicy(), multipartThreshold: UInt64 = 64 * mebibyte,
                partSize: UInt64 = 8 * mebibyte, maximumConcurrentParts: Int = 8, clockSkewTolerance: Double = 300) {
        self.region = region
        self.endpointURL = endpointURL
        self.addressingStyle = addressingStyle
        self.retry = retry
        self.multipartThreshold = multipartThreshold
        self.partSize = partSize
        self.maximumConcurrentParts = maximumConcurrentParts
        self.clockSkewTolerance = clockSkewTolerance
    }
}

/// An endpoint split into the parts signing and URL building need.
struct S3Endpoint: Sendable {
    var scheme: String
    var host: String
    var port: Int?
    var basePath: String

    init(_ url: String) throws {
        guard let schemeEnd = url.range(of: "://") else {
            throw StorageError.invalidConfiguration(detail: "endpoint_url \(url) has no scheme (http:// or https://)")
        }
        scheme = url[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "http" || scheme == "https" else {
            throw StorageError.invalidConfiguration(detail: "endpoint_url \(url): scheme must be http or https")
        }
        var rest = url[schemeEnd.upperBound...]
        var authority = rest
        if let slash = rest.firstIndex(of: "/") {
            authority = rest[..<slash]
            rest = rest[slash...]
        } else {
            rest = ""
        }
        var trimmedBase = String(rest)
        while trimmedBase.hasSuffix("/") { trimmedBase.removeLast() }
        basePath = trimmedBase
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            host = String(authority[...close])
            let after = authority[authority.index(after: close)...]
            port = after.hasPrefix(":") ? Int(after.dropFirst()) : nil
        } else if let colon = authority.lastIndex(of: ":") {
            host = String(authority[..<colon])
            port = Int(authority[authority.index(after: colon)...])
            if port == nil {
                throw StorageError.invalidConfiguration(detail: "endpoint_url \(url) has an invalid port")
            }
        } else {
            host = String(authority)
            port = nil
        }
        guard !host.isEmpty else {
            throw StorageError.invalidConfiguration(detail: "endpoint_url \(url) has no host")
        }
    }

    /// The Host header: the port only when it is not the scheme's default.
    func hostHeader(prefix: String?) -> String {
        let name = prefix.map { "\($0).\(host)" } ?? host
        guard let port, !(scheme == "http" && port == 80), !(scheme == "https" && port == 443) else { return name }
        return "\(name):\(port)"
    }
}
