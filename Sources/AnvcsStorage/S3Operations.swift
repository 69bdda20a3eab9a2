import AnvcsHTTP
import Crypto
import Foundation

/// Conditions on a write, for compare-and-swap: S3 refuses the write with 412 when they fail.
public enum WriteCondition: Sendable, Equatable {
    case none
    /// Only if no object has this key (`If-None-Match: *`).
    case ifAbsent
    /// Only if the current object's ETag is this one (`If-Match`).
    case ifMatch(etag: String)

    func apply(to headers: inout HTTPHeaders) {
        switch self {
        case .none: break
        case .ifAbsent: headers.set("If-None-Match", "*")
        case .ifMatch(let etag): headers.set("If-Match", etag)
        }
    }
}

/// What HeadObject and GetObject tell about an object version.
public struct S3ObjectInfo: Sendable, Equatable {
    public var size: UInt64
    public var etag: String?
    public var versionId: String?
    /// The `x-amz-meta-sha256` we write on upload.
    public var sha256: String?
    public var lastModified: Date?
    public var metadata: [String: String]

    init(headers: HTTPHeaders) {
        size = headers["Content-Length"].flatMap { UInt64($0) } ?? 0
        etag = headers["ETag"]
        versionId = headers["x-amz-version-id"].flatMap { $0 == "null" ? nil : $0 }
        lastModified = headers["Last-Modified"].flatMap(HTTPDate.parse)
        var metadata: [String: String] = [:]
        for field in headers where field.name.lowercased().hasPrefix("x-amz-meta-") {
            metadata[String(field.name.lowercased().dropFirst("x-amz-meta-".count))] = field.value
        }
        self.metadata = metadata
        sha256 = metadata["sha256"]
        if let range = headers["Content-Range"], let total = range.split(separator: "/").last.flatMap({ UInt64($0) }) {
            size = total
        }
    }
}

public struct S3PutResult: Sendable, Equatable {
    public var etag: String?
    /// nil when the bucket is not versioned.
    public var versionId: String?
}

/// One entry of ListObjectVersions (delete markers included, flagged).
public struct S3ObjectVersion: Sendable, Equatable {
    public var key: String
    public var versionId: String
    public var isLatest: Bool
    public var isDeleteMarker: Bool
    public var size: UInt64
    public var etag: String?
    public var lastModified: Date?
}

extension S3Client {
    // MARK: buckets

    public func createBucket(_ bucket: String) throws {
        var call = Call(operation: "CreateBucket", method: "PUT", bucket: bucket)
        if configuration.region != "us-east-1" {
            let body = "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                + "<LocationConstraint>\(XMLElementNode.escape(configuration.region))</LocationConstraint></CreateBucketConfiguration>"
            call.body = .bytes(Array(body.utf8))
            call.payloadSHA256 = ContentDigest.sha256Hex(of: Array(body.utf8))
        }
        _ = try send(call)
    }

    /// Whether the bucket exists and these credentials may use it.
    public func bucketExists(_ bucket: String) throws -> Bool {
        do {
            _ = try send(Call(operation: "HeadBucket", method: "HEAD", bucket: bucket))
            return true
        } catch StorageError.notFound {
            return false
        }
    }

    /// "Enabled", "Suspended", or nil for a bucket that never had versioning.
    public func bucketVersioning(_ bucket: String) throws -> String? {
        let response = try send(Call(operation: "GetBucketVersioning", method: "GET", bucket: bucket,
                                     query: [("versioning", "")]))
        let status = XMLElementNode.parse(response.body)?.text("Status")
        return status.flatMap { $0.isEmpty ? nil : $0 }
    }

    public func setBucketVersioning(_ bucket: String, enabled: Bool) throws {
        let body = "<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Status>"
            + (enabled ? "Enabled" : "Suspended") + "</Status></VersioningConfiguration>"
        var call = Call(operation: "PutBucketVersioning", method: "PUT", bucket: bucket, query: [("versioning", "")])
        call.body = .bytes(Array(body.utf8))
        call.payloadSHA256 = ContentDigest.sha256Hex(of: Array(body.utf8))
        call.headers.set("Content-MD5", ContentDigest.base64(Array(Insecure.MD5.hash(data: Array(body.utf8)))))
        _ = try send(call)
    }

    // MARK: objects

    /// Uploads a whole file in one PUT, signed over its sha256, with `x-amz-meta-sha256` and
    /// `x-amz-checksum-sha256` so S3 itself verifies the bytes it stores.
    public func putObject(bucket: String, key: String, fileAt path: String, digest: FileDigest,
                          metadata: [String: String] = [:], condition: WriteCondition = .none) throws -> S3PutResult {
        try putObject(bucket: bucket, key: key, body: .file(path: path, offset: 0, length: digest.size),
                      sha256: digest.sha256, metadata: metadata, condition: condition)
    }

    /// Uploads bytes in memory (small objects: manifests, probes).
    public func putObject(bucket: String, key: String, bytes: [UInt8], metadata: [String: String] = [:],
                          condition: WriteCondition = .none) throws -> S3PutResult {
        try putObject(bucket: bucket, key: key, body: .bytes(bytes), sha256: ContentDigest.sha256Hex(of: bytes),
                      metadata: metadata, condition: condition)
    }

    func putObject(bucket: String, key: String, body: HTTPRequestBody, sha256: String,
                   metadata: [String: String], condition: WriteCondition) throws -> S3PutResult {
        var call = Call(operation: "PutObject", method: "PUT", bucket: bucket, key: key)
        call.body = body
        call.payloadSHA256 = sha256
        call.headers.set("Content-Type", "application/octet-stream")
        call.headers.set("x-amz-checksum-sha256", ContentDigest.base64(fromHex: sha256))
        call.headers.set("x-amz-meta-sha256", sha256)
        for (name, value) in metadata.sorted(by: { $0.key < $1.key }) where name != "sha256" {
            call.headers.set("x-amz-meta-\(name)", value)
        }
        condition.apply(to: &call.headers)
        let response = try send(call)
        return S3PutResult(etag: response.headers["ETag"],
                           versionId: response.headers["x-amz-version-id"].flatMap { $0 == "null" ? nil : $0 })
    }

    public func headObject(bucket: String, key: String, versionId: String? = nil) throws -> S3ObjectInfo {
        let response = try send(Call(operation: "HeadObject", method: "HEAD", bucket: bucket, key: key,
                                     query: versionId.map { [("versionId", $0)] } ?? []))
        return S3ObjectInfo(headers: response.headers)
    }

    /// Streams an object (or a byte range of it) into `consume`. `prepare` runs before every
    /// attempt: a retried transfer starts over, so whatever `consume` wrote must be discarded there.
    public func getObject(bucket: String, key: String, versionId: String? = nil, range: ClosedRange<UInt64>? = nil,
                          prepare: () throws -> Void = {},
                          consume: @escaping (UnsafeRawBufferPointer) throws -> Void) throws -> S3ObjectInfo {
        var call = Call(operation: "GetObject", method: "GET", bucket: bucket, key: key,
                        query: versionId.map { [("versionId", $0)] } ?? [])
        if let range { call.headers.set("Range", "bytes=\(range.lowerBound)-\(range.upperBound)") }
        let response = try send(call) {
            try prepare()
            return .stream(consume)
        }
        return S3ObjectInfo(headers: response.headers)
    }

    /// A small object (or range) in memory.
    public func getObjectBytes(bucket: String, key: String, versionId: String? = nil,
                               range: ClosedRange<UInt64>? = nil) throws -> (bytes: [UInt8], info: S3ObjectInfo) {
        var call = Call(operation: "GetObject", method: "GET", bucket: bucket, key: key,
                        query: versionId.map { [("versionId", $0)] } ?? [])
        if let range { call.headers.set("Range", "bytes=\(range.lowerBound)-\(range.upperBound)") }
        let response = try send(call)
        return (response.body, S3ObjectInfo(headers: response.headers))
    }

    /// Deletes one version (or, without a version, adds a delete marker on a versioned bucket).
    public func deleteObject(bucket: String, key: String, versionId: String? = nil) throws {
        _ = try send(Call(operation: "DeleteObject", method: "DELETE", bucket: bucket, key: key,
                          query: versionId.map { [("versionId", $0)] } ?? []))
    }

    /// Every version and delete marker under `prefix`, following pagination.
    public func listObjectVersions(bucket: String, prefix: String = "") throws -> [S3ObjectVersion] {
        var versions: [S3ObjectVersion] = []
        var keyMarker: String?
        var versionMarker: String?
        repeat {
            var query: [(name: String, value: String)] = [("versions", "")]
            if !prefix.isEmpty { query.append(("prefix", prefix)) }
            if let keyMarker { query.append(("key-marker", keyMarker)) }
            if let versionMarker { query.append(("version-id-marker", versionMarker)) }
            let response = try send(Call(operation: "ListObjectVersions", method: "GET", bucket: bucket, query: query))
            guard let root = XMLElementNode.parse(response.body) else {
                throw StorageError.invalidResponse(operation: "ListObjectVersions s3://\(bucket)", detail: "not XML")
            }
            for entry in root.children where entry.name == "Version" || entry.name == "DeleteMarker" {
                versions.append(S3ObjectVersion(
                    key: entry.text("Key") ?? "", versionId: entry.text("VersionId") ?? "null",
                    isLatest: entry.text("IsLatest") == "true", isDeleteMarker: entry.name == "DeleteMarker",
                    size: entry.text("Size").flatMap { UInt64($0) } ?? 0, etag: entry.text("ETag"),
                    lastModified: entry.text("LastModified").flatMap(HTTPDate.parseISO8601)))
            }
            if root.text("IsTruncated") == "true" {
                keyMarker = root.text("NextKeyMarker")
                versionMarker = root.text("NextVersionIdMarker")
                if keyMarker == nil { break }
            } else {
                keyMarker = nil
            }
        } while keyMarker != nil
        return versions
    }
}
