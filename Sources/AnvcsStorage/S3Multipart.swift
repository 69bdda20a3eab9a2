import AnvcsHTTP
import Dispatch
import Foundation
import Synchronization

extension S3Client {
    /// Uploads a file, as one PUT below the multipart threshold and as a multipart upload above
    /// it (parts sent concurrently, at most `maximumConcurrentParts` at a time). The file is read
    /// twice: once to hash it whole (the digest goes into the object's metadata, which S3 takes
    /// only when the upload starts), once to send it, each part hashed just before it is sent.
    public func uploadFile(bucket: String, key: String, path: String, metadata: [String: String] = [:],
                           condition: WriteCondition = .none) throws -> (result: S3PutResult, digest: FileDigest) {
        let size = try fileSize(path)
        if size < configuration.multipartThreshold {
            let digest = try ContentDigest.hashFile(at: path)
            return (try putObject(bucket: bucket, key: key, fileAt: path, digest: digest, metadata: metadata,
                                  condition: condition), digest)
        }
        let digest = try ContentDigest.hashFile(at: path)
        return (try multipartUpload(bucket: bucket, key: key, path: path, digest: digest, metadata: metadata,
                                    condition: condition), digest)
    }

    func fileIdentity(_ path: String) throws -> FileIdentity {
        guard let identity = FileIdentity(path: path) else {
            throw StorageError.fileSystem(operation: "stat", path: path, errno: errno)
        }
        return identity
    }

    func fileSize(_ path: String) throws -> UInt64 {
        var info = stat()
        guard stat(path, &info) == 0 else { throw StorageError.fileSystem(operation: "stat", path: path, errno: errno) }
        return UInt64(info.st_size)
    }

    /// Part digests come from `digest.partSHA256` when it holds them; otherwise each worker hashes
    /// its part just before sending it, so that hashing overlaps the other parts' transfers
    /// instead of adding a second pass over the file before the first byte goes out.
    public func multipartUpload(bucket: String, key: String, path: String, digest: FileDigest,
                                metadata: [String: String], condition: WriteCondition) throws -> S3PutResult {
        let partSize = configuration.partSize(forFileOfSize: digest.size)
        let partCount = max(1, Int((digest.size + partSize - 1) / partSize))
        let knownPartDigests = digest.partSHA256.count == partCount ? digest.partSHA256 : nil
        let before = try digest.identity ?? fileIdentity(path)
        let uploadId = try createMultipartUpload(bucket: bucket, key: key, sha256: digest.sha256, metadata: metadata)
        do {
            let progress = MultipartProgress(partCount: partCount)
            let workers = max(1, min(configuration.maximumConcurrentParts, partCount))
            @Sendable func uploadParts() {
                while let index = progress.nextPart() {
                    let offset = UInt64(index) * partSize
                    let length = min(partSize, digest.size - offset)
                    do {
                        let sha256 = try knownPartDigests?[index]
                            ?? ContentDigest.hashRange(of: path, offset: offset, length: length)
                        let etag = try uploadPart(bucket: bucket, key: key, uploadId: uploadId, number: index + 1,
                                                  body: .file(path: path, offset: offset, length: length),
                                                  sha256: sha256)
                        progress.finished(part: index, etag: etag, sha256: sha256)
                    } catch {
                        progress.failed(error)
                        return
                    }
                }
            }
            // Parts are network-bound: each worker is a thread of its own (concurrentPerform would
            // cap them at the number of cores, 2 here, whatever maximumConcurrentParts says).
            let finished = DispatchGroup()
            for _ in 0..<workers {
                finished.enter()
                Thread.detachNewThread {
                    uploadParts()
                    finished.leave()
                }
            }
            finished.wait()
            let (sent, firstFailure) = progress.result()
            if let failure = firstFailure { throw failure }
            // The whole-file digest in the metadata was taken before the parts were read; a file
            // rewritten meanwhile would be stored under a digest that is not its own.
            guard try fileIdentity(path) == before else {
                throw StorageError.invalidResponse(operation: "UploadPart \(path)",
                                                   detail: "the file changed during the upload; nothing was stored, try again")
            }
            let parts = sent.enumerated().map { ($0.offset + 1, $0.element.etag, $0.element.sha256) }
            return try completeMultipartUpload(bucket: bucket, key: key, uploadId: uploadId, parts: parts,
                                               condition: condition)
        } catch {
            // Parts of an abandoned upload are billed until aborted.
            try? abortMultipartUpload(bucket: bucket, key: key, uploadId: uploadId)
            throw error
        }
    }

    func createMultipartUpload(bucket: String, key: String, sha256: String, metadata: [String: String]) throws -> String {
        var call = Call(operation: "CreateMultipartUpload", method: "POST", bucket: bucket, key: key, query: [("uploads", "")])
        call.headers.set("Content-Type", "application/octet-stream")
        call.headers.set("x-amz-checksum-algorithm", "SHA256")
        call.headers.set("x-amz-meta-sha256", sha256)
        for (name, value) in metadata.sorted(by: { $0.key < $1.key }) where name != "sha256" {
            call.headers.set("x-amz-meta-\(name)", value)
        }
        let response = try send(call)
        guard let uploadId = XMLElementNode.parse(response.body)?.text("UploadId") else {
            throw StorageError.invalidResponse(operation: "CreateMultipartUpload \(call.resource)", detail: "no UploadId")
        }
        return uploadId
    }

    func uploadPart(bucket: String, key: String, uploadId: String, number: Int, body: HTTPRequestBody,
                    sha256: String) throws -> String {
        var call = Call(operation: "UploadPart", method: "PUT", bucket: bucket, key: key,
                        query: [("partNumber", String(number)), ("uploadId", uploadId)])
        call.body = body
        call.payloadSHA256 = sha256
        call.headers.set("x-amz-checksum-sha256", ContentDigest.base64(fromHex: sha256))
        let response = try send(call)
        guard let etag = response.headers["ETag"] else {
            throw StorageError.invalidResponse(operation: "UploadPart \(number) of \(call.resource)", detail: "no ETag")
        }
        return etag
    }

    func completeMultipartUpload(bucket: String, key: String, uploadId: String, parts: [(Int, String, String)],
                                 condition: WriteCondition) throws -> S3PutResult {
        var body = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        for (number, etag, sha256) in parts {
            body += "<Part><PartNumber>\(number)</PartNumber><ETag>\(XMLElementNode.escape(etag))</ETag>"
                + "<ChecksumSHA256>\(ContentDigest.base64(fromHex: sha256))</ChecksumSHA256></Part>"
        }
        body += "</CompleteMultipartUpload>"
        var call = Call(operation: "CompleteMultipartUpload", method: "POST", bucket: bucket, key: key,
                        query: [("uploadId", uploadId)])
        call.body = .bytes(Array(body.utf8))
        call.payloadSHA256 = ContentDigest.sha256Hex(of: Array(body.utf8))
        call.headers.set("Content-Type", "application/xml")
        condition.apply(to: &call.headers)
        let response = try send(call)
        // S3 may answer 200 with an error document when completion fails late.
        if let root = XMLElementNode.parse(response.body), root.name == "Error" {
            throw StorageError.s3(status: response.status, code: root.text("Code") ?? "", message: root.text("Message") ?? "",
                                  operation: "CompleteMultipartUpload", resource: call.resource, requestId: root.text("RequestId"))
        }
        return S3PutResult(etag: XMLElementNode.parse(response.body)?.text("ETag") ?? response.headers["ETag"],
                           versionId: response.headers["x-amz-version-id"].flatMap { $0 == "null" ? nil : $0 })
    }

    func abortMultipartUpload(bucket: String, key: String, uploadId: String) throws {
        _ = try send(Call(operation: "AbortMultipartUpload", method: "DELETE", bucket: bucket, key: key,
                          query: [("uploadId", uploadId)]))
    }
}

/// The shared state of one multipart upload's workers: the next part to send, the ETag and
/// digest of each part sent, and the first failure (after which no worker starts another part).
final class MultipartProgress: Sendable {
    struct SentPart {
        var etag = ""
        var sha256 = ""
    }

    private struct State {
        var next = 0
        var sent: [SentPart]
        var failure: (any Error)?
    }

    private let state: Mutex<State>
    private let partCount: Int

    init(partCount: Int) {
        self.partCount = partCount
        state = Mutex(State(sent: [SentPart](repeating: SentPart(), count: partCount)))
    }

    func nextPart() -> Int? {
        state.withLock { state in
            guard state.failure == nil, state.next < partCount else { return nil }
            defer { state.next += 1 }
            return state.next
        }
    }

    func finished(part index: Int, etag: String, sha256: String) {
        state.withLock { $0.sent[index] = SentPart(etag: etag, sha256: sha256) }
    }

    func failed(_ error: any Error) {
        state.withLock { if $0.failure == nil { $0.failure = error } }
    }

    func result() -> (sent: [SentPart], failure: (any Error)?) {
        state.withLock { ($0.sent, $0.failure) }
    }
}
