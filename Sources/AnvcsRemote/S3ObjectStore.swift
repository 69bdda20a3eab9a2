import AnvcsHTTP
import AnvcsStorage
import Foundation

/// An object-store remote in an S3 bucket (or an S3-compatible server). The manifest's
/// compare-and-swap is a conditional PUT: `If-None-Match: *` to create it, `If-Match: <etag>`
/// to replace it; S3 answers 412 when another writer got there first.
public struct S3ObjectStore: ObjectStore {
    public let s3: S3Location
    let client: S3Client
    public var location: String { s3.display }

    /// Endpoint, region and profile: the URL's query first, then the AWS environment variables.
    public init(_ s3: S3Location, environment: [String: String]) throws(RemoteError) {
        self.s3 = s3
        var environment = environment
        if let profile = s3.profile { environment["AWS_PROFILE"] = profile }
        let region = s3.region ?? environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"] ?? "us-east-1"
        let endpoint = s3.endpoint ?? environment["AWS_ENDPOINT_URL_S3"] ?? environment["AWS_ENDPOINT_URL"]
        let http = HTTPClient()
        do {
            client = try S3Client(configuration: S3Configuration(region: region, endpointURL: endpoint),
                                  credentials: CredentialChain.standard(environment: environment, http: http), http: http)
        } catch {
            throw .invalidURL(url: s3.display, reason: "cannot use endpoint \(endpoint ?? "(AWS)"): \(error)")
        }
    }

    func key(_ relative: String) -> String { s3.prefix.isEmpty ? relative : s3.prefix + "/" + relative }

    public func readManifest() throws(RemoteError) -> (bytes: [UInt8], version: String)? {
        do {
            let (bytes, info) = try client.getObjectBytes(bucket: s3.bucket, key: key("refs.json"))
            guard let etag = info.etag else {
                throw RemoteError.unsafeStore(location: location, reason: "the server sent no ETag for refs.json")
            }
            return (bytes, etag)
        } catch {
            if case StorageError.notFound = error { return nil }
            throw map(error)
        }
    }

    public func replaceManifest(with bytes: [UInt8], expected: String?) throws(RemoteError) -> Bool {
        do {
            _ = try client.putObject(bucket: s3.bucket, key: key("refs.json"), bytes: bytes,
                                     metadata: ["anvcs-schema": RefsManifest.schema],
                                     condition: expected.map { .ifMatch(etag: $0) } ?? .ifAbsent)
            return true
        } catch {
            if case StorageError.preconditionFailed = error { return false }
            // S3 answers 409 ConditionalRequestConflict when two conditional writes race.
            if case StorageError.s3(let status, _, _, _, _, _) = error, status == 409 { return false }
            throw map(error)
        }
    }

    public func put(_ relative: String, file path: String) throws(RemoteError) {
        do { _ = try client.uploadFile(bucket: s3.bucket, key: key(relative), path: path) } catch { throw map(error) }
    }

    public func stream(_ relative: String, restart: () throws(RemoteError) -> Void,
                     consume: (UnsafeRawBufferPointer) throws(RemoteError) -> Void) throws(RemoteError) -> Bool {
        // The client takes an escaping consumer; this one never outlives the call.
        let failure = ConsumerFailure()
        do {
            try withoutActuallyEscaping(consume) { consume in
                _ = try client.getObject(bucket: s3.bucket, key: key(relative), prepare: {
                    do throws(RemoteError) { try restart() } catch { failure.error = error; throw error }
                }, consume: { piece in
                    do throws(RemoteError) { try consume(piece) } catch { failure.error = error; throw error }
                })
            }
            return true
        } catch {
            if let own = failure.error { throw own }
            if case StorageError.notFound = error { return false }
            throw map(error)
        }
    }

    public func list(prefix relative: String) throws(RemoteError) -> [StoredObject] {
        do {
            let full = key(relative) + "/"
            let strip = s3.prefix.isEmpty ? 0 : s3.prefix.count + 1
            return try client.listObjectVersions(bucket: s3.bucket, prefix: full)
                .filter { $0.isLatest && !$0.isDeleteMarker }
                .map { StoredObject(key: String($0.key.dropFirst(strip)), size: $0.size, modified: $0.lastModified ?? .distantPast) }
        } catch { throw map(error) }
    }

    public func delete(_ relative: String) throws(RemoteError) {
        do { try client.deleteObject(bucket: s3.bucket, key: key(relative)) } catch { throw map(error) }
    }

    /// Versioning must be on (a bad manifest can be restored; gc's deletions are recoverable) and
    /// conditional writes must be honoured (else concurrent pushes lose updates), unless the URL
    /// says `unsafe=true`.
    public func checkSafety() throws(RemoteError) {
        if s3.unsafe { return }
        let status: String?
        do { status = try client.bucketVersioning(s3.bucket) } catch { throw map(error) }
        guard status == "Enabled" else {
            throw .unsafeStore(location: location, reason: "bucket \(s3.bucket) does not have versioning enabled (status: \(status ?? "never enabled"))")
        }
        let probe = key(".anvcs-conditional-write-probe-\(UInt64.random(in: 0...UInt64.max))")
        do {
            _ = try client.putObject(bucket: s3.bucket, key: probe, bytes: Array("probe".utf8), condition: .ifAbsent)
            defer { try? client.deleteObject(bucket: s3.bucket, key: probe) }
            do {
                _ = try client.putObject(bucket: s3.bucket, key: probe, bytes: Array("probe".utf8), condition: .ifAbsent)
            } catch StorageError.preconditionFailed {
                return
            } catch StorageError.s3(let status, _, _, _, _, _) where status == 409 {
                return
            }
            throw RemoteError.unsafeStore(location: location, reason: "the server ignores conditional writes (If-None-Match)")
        } catch let error as RemoteError {
            throw error
        } catch {
            throw map(error)
        }
    }

    func map(_ error: any Error) -> RemoteError {
        if let error = error as? RemoteError { return error }
        guard let storage = error as? StorageError else {
            return .storage(.invalidResponse(operation: "S3", detail: "\(error)"), location: location)
        }
        switch storage {
        case .s3(let status, let code, let message, _, _, _) where status == 403 || code == "InvalidAccessKeyId" || code == "SignatureDoesNotMatch":
            return .accessDenied(location: location, detail: "\(code): \(message)")
        case .s3(_, let code, _, _, _, _) where code == "NoSuchBucket":
            return .invalidURL(url: location, reason: "bucket \(s3.bucket) does not exist")
        case .credentialsUnavailable(let detail):
            return .accessDenied(location: location, detail: "no credentials: \(detail)")
        default:
            return .storage(storage, location: location)
        }
    }
}

/// The consumer's own error, kept apart from the transport's so it reaches the caller unwrapped.
private final class ConsumerFailure {
    var error: RemoteError?
}
