import AnvcsHTTP
@testable import AnvcsStorage
import Foundation
import Testing

/// The S3 client against moto's server, which checks every SigV4 signature.
@Suite(.serialized)
struct S3ClientTests {
    let server: MotoServer
    init() throws { server = try MotoServer.sharedServer() }

    @Test func versioningIsReportedAndSet() throws {
        let client = try server.client()
        let bucket = "anvcs-v-" + UUID().uuidString.lowercased().prefix(12)
        try client.createBucket(bucket)
        #expect(try client.bucketExists(bucket))
        #expect(try client.bucketExists(bucket + "-missing") == false)
        #expect(try client.bucketVersioning(bucket) == nil)
        try client.setBucketVersioning(bucket, enabled: true)
        #expect(try client.bucketVersioning(bucket) == "Enabled")
    }

    @Test func versionedRoundTripThroughTheBlobStore() throws {
        let client = try server.client()
        let bucket = try server.makeVersionedBucket(client)
        let store = S3VersionedBlobStore(client: client, bucket: bucket, prefix: "artifacts")
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/model.bin"
        try TestEnvironment.writeRandomFile(at: file, size: 300_000, seed: 1)
        let first = try store.upload(localPath: file, key: "models/model.bin")
        try TestEnvironment.writeRandomFile(at: file, size: 200_001, seed: 2)
        let second = try store.upload(localPath: file, key: "models/model.bin")
        #expect(first.versionId != second.versionId)
        #expect(first.storage == "s3" && first.bucket == bucket && first.region == "us-east-1")
        #expect(first.size == 300_000 && second.size == 200_001)

        let restored = directory + "/restored.bin"
        try store.download(pin: first, to: restored)
        #expect(try ContentDigest.hashFile(at: restored).sha256 == first.sha256)
        try store.download(pin: second, to: restored)
        #expect(try ContentDigest.hashFile(at: restored).sha256 == second.sha256)

        let versions = try client.listObjectVersions(bucket: bucket, prefix: "artifacts/models/")
        #expect(Set(versions.map(\.versionId)) == [first.versionId, second.versionId])
        #expect(versions.first { $0.isLatest }?.versionId == second.versionId)

        let head = try client.headObject(bucket: bucket, key: "artifacts/models/model.bin", versionId: first.versionId)
        #expect(head.sha256 == first.sha256 && head.size == first.size)

        #expect(try store.exists(key: "models/model.bin", versionId: first.versionId))
        try store.deleteVersion(key: "models/model.bin", versionId: first.versionId)
        #expect(try store.exists(key: "models/model.bin", versionId: first.versionId) == false)
        #expect(try store.exists(key: "models/model.bin", versionId: second.versionId))
    }

    @Test func sameContentIsNotUploadedAgain() throws {
        let client = try server.client()
        let bucket = try server.makeVersionedBucket(client)
        let store = S3VersionedBlobStore(client: client, bucket: bucket)
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try TestEnvironment.writeRandomFile(at: directory + "/a", size: 1000, seed: 3)
        let first = try store.upload(localPath: directory + "/a", key: "same")
        let again = try store.upload(localPath: directory + "/a", key: "same")
        #expect(first == again)
        #expect(try client.listObjectVersions(bucket: bucket, prefix: "same").count == 1)
    }

    @Test func rangedRead() throws {
        let client = try server.client()
        let bucket = try server.makeVersionedBucket(client)
        let bytes = Array("0123456789abcdefghijklmnopqrstuvwxyz".utf8)
        let put = try client.putObject(bucket: bucket, key: "dir/range me.txt", bytes: bytes)
        let (slice, info) = try client.getObjectBytes(bucket: bucket, key: "dir/range me.txt", versionId: put.versionId, range: 10...15)
        #expect(slice == Array("abcdef".utf8))
        #expect(info.size == UInt64(bytes.count))

    }

    /// moto does not check query signatures once it checks header signatures (it fails with a 500
    /// on a presigned URL), so the URL's signature is compared with botocore's in
    /// SigV4BotocoreTests and here a server without authentication serves the version it names.
    @Test func presignedURLFetchesTheVersion() throws {
        let open = try MotoServer.sharedOpenServer()
        let client = try open.client()
        let bucket = try open.makeVersionedBucket(client)
        let first = try client.putObject(bucket: bucket, key: "dir/pre signed.txt", bytes: Array("first".utf8))
        _ = try client.putObject(bucket: bucket, key: "dir/pre signed.txt", bytes: Array("second".utf8))
        let url = try client.presignedURL(bucket: bucket, key: "dir/pre signed.txt", versionId: first.versionId, expiresIn: 300)
        #expect(url.contains("X-Amz-Expires=300") && url.contains("versionId="))
        let response = try HTTPClient().perform(HTTPRequest(method: "GET", url: url))
        #expect(response.status == 200)
        #expect(response.bodyText == "first")
    }

    @Test func conditionalWrites() throws {
        let client = try server.client()
        let bucket = try server.makeVersionedBucket(client)
        let created = try client.putObject(bucket: bucket, key: "refs", bytes: Array("v1".utf8), condition: .ifAbsent)
        #expect(throws: StorageError.self) {
            try client.putObject(bucket: bucket, key: "refs", bytes: Array("v1b".utf8), condition: .ifAbsent)
        }
        do {
            _ = try client.putObject(bucket: bucket, key: "refs", bytes: Array("v1c".utf8), condition: .ifAbsent)
        } catch StorageError.preconditionFailed(let operation, _) {
            #expect(operation == "PutObject")
        }
        let etag = try #require(created.etag)
        let swapped = try client.putObject(bucket: bucket, key: "refs", bytes: Array("v2".utf8), condition: .ifMatch(etag: etag))
        #expect(swapped.versionId != created.versionId)
        #expect(throws: StorageError.self) {
            // The old ETag no longer names the current object: a lost race.
            try client.putObject(bucket: bucket, key: "refs", bytes: Array("v3".utf8), condition: .ifMatch(etag: etag))
        }
        #expect(try client.getObjectBytes(bucket: bucket, key: "refs").bytes == Array("v2".utf8))
    }

    @Test func wrongSecretIsSignatureDoesNotMatch() throws {
        let client = try server.client(secret: "not-the-secret", retry: .none)
        let bucket = try server.makeVersionedBucket(try server.client())
        // A GET carries the error document; a HEAD has none, and the client asks with a GET why.
        let calls: [(String, () throws -> Void)] = [
            ("ListObjectVersions", { _ = try client.listObjectVersions(bucket: bucket) }),
            ("HeadBucket", { _ = try client.bucketExists(bucket) }),
            ("HeadObject", { _ = try client.headObject(bucket: bucket, key: "any") }),
            ("PutObject", { _ = try client.putObject(bucket: bucket, key: "k", bytes: [1, 2, 3]) }),
        ]
        for (operation, call) in calls {
            do {
                try call()
                Issue.record("\(operation) signed with a wrong secret was accepted")
            } catch StorageError.s3(let status, let code, _, let failed, _, _) {
                #expect(status == 403, "\(operation)")
                #expect(code == "SignatureDoesNotMatch", "\(operation)")
                #expect(failed == operation)
            }
        }
    }

    @Test func multipartUploadWithConcurrentParts() throws {
        let mebibyte: UInt64 = 1 << 20
        let client = try server.client(multipartThreshold: 5 * mebibyte, partSize: 5 * mebibyte)
        let bucket = try server.makeVersionedBucket(client)
        let store = S3VersionedBlobStore(client: client, bucket: bucket)
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/big.bin"
        try TestEnvironment.writeRandomFile(at: file, size: Int(17 * mebibyte + 12345), seed: 4)
        let pin = try store.upload(localPath: file, key: "big.bin")
        let digest = try ContentDigest.hashFile(at: file, partSize: 5 * mebibyte)
        #expect(digest.partSHA256.count == 4)
        #expect(pin.sha256 == digest.sha256 && pin.size == digest.size)
        let head = try client.headObject(bucket: bucket, key: "big.bin", versionId: pin.versionId)
        #expect(head.sha256 == pin.sha256)
        #expect(head.etag?.hasSuffix("-4\"") == true, "a multipart ETag ends in -<parts>: \(head.etag ?? "nil")")
        try store.download(pin: pin, to: directory + "/back.bin")
        #expect(try ContentDigest.hashFile(at: directory + "/back.bin") == ContentDigest.hashFile(at: file))
    }

    @Test func fileChangedUnderAMultipartUploadStoresNothing() throws {
        let mebibyte: UInt64 = 1 << 20
        let client = try server.client(multipartThreshold: 5 * mebibyte, partSize: 5 * mebibyte)
        let bucket = try server.makeVersionedBucket(client)
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/big.bin"
        try TestEnvironment.writeRandomFile(at: file, size: Int(12 * mebibyte), seed: 6)
        let digest = try ContentDigest.hashFile(at: file)
        // Truncated after it was hashed: the last part comes up short while the workers hash it.
        #expect(truncate(file, off_t(7 * mebibyte)) == 0)
        #expect(throws: StorageError.self) {
            try client.multipartUpload(bucket: bucket, key: "big.bin", path: file, digest: digest, metadata: [:], condition: .none)
        }
        // Replaced by a file of the same size after it was hashed: the file's identity, taken
        // when it was hashed, no longer matches once the parts are sent.
        try TestEnvironment.writeRandomFile(at: file, size: Int(12 * mebibyte), seed: 6)
        let sameSize = try ContentDigest.hashFile(at: file)
        try TestEnvironment.writeRandomFile(at: file + ".new", size: Int(12 * mebibyte), seed: 7)
        #expect(rename(file + ".new", file) == 0)
        var error: (any Error)?
        do {
            _ = try client.multipartUpload(bucket: bucket, key: "big.bin", path: file, digest: sameSize, metadata: [:], condition: .none)
        } catch let caught { error = caught }
        #expect("\(error.map { String(describing: $0) } ?? "no error")".contains("changed during the upload"))
        #expect(try client.listObjectVersions(bucket: bucket).filter { $0.key == "big.bin" }.isEmpty)
    }

    @Test func corruptDownloadLeavesTheDestinationUntouched() throws {
        let client = try server.client()
        let bucket = try server.makeVersionedBucket(client)
        let store = S3VersionedBlobStore(client: client, bucket: bucket)
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try TestEnvironment.writeRandomFile(at: directory + "/a", size: 5000, seed: 5)
        var pin = try store.upload(localPath: directory + "/a", key: "a")
        let destination = directory + "/dest"
        try Data("precious".utf8).write(to: URL(fileURLWithPath: destination))
        // The store returns bytes that are not the pinned ones.
        pin.sha256 = String(repeating: "0", count: 64)
        #expect(throws: StorageError.self) { try store.download(pin: pin, to: destination) }
        #expect(try String(contentsOfFile: destination, encoding: .utf8) == "precious")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.contains("anvcs-") }
        #expect(leftovers.isEmpty, "temporary files left: \(leftovers)")
    }

    @Test func serverKilledMidDownloadRetriesThenFailsClearly() throws {
        let own = try MotoServer()
        defer { own.stop() }
        let client = try own.client(retry: RetryPolicy(maximumAttempts: 3, baseDelay: 0.05))
        let bucket = try own.makeVersionedBucket(client)
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try TestEnvironment.writeRandomFile(at: directory + "/f", size: 24 << 20, seed: 6)
        let put = try client.uploadFile(bucket: bucket, key: "f", path: directory + "/f")
        var received = 0
        var attempts = 0
        do {
            _ = try client.getObject(bucket: bucket, key: "f", versionId: put.result.versionId,
                                     prepare: { attempts += 1 },
                                     consume: { chunk in
                                         received += chunk.count
                                         if received > 1 << 20 { own.kill() }
                                     })
            Issue.record("the download succeeded although the server was killed")
        } catch StorageError.network(let underlying, let operation, let tries) {
            #expect(tries == 3)
            #expect(attempts == 3)
            #expect(operation.contains("GetObject s3://\(bucket)/f"))
            #expect(underlying.isTransient)
        }
    }

    @Test func serverKilledMidMultipartUploadFailsClearlyAfterRetries() throws {
        let own = try MotoServer()
        defer { own.stop() }
        let mebibyte: UInt64 = 1 << 20
        let client = try own.client(retry: RetryPolicy(maximumAttempts: 3, baseDelay: 0.05),
                                    multipartThreshold: 5 * mebibyte, partSize: 5 * mebibyte)
        let bucket = try own.makeVersionedBucket(client)
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try TestEnvironment.writeRandomFile(at: directory + "/big", size: Int(40 * mebibyte), seed: 7)
        // Kill the server once the upload is under way (its first part requests are in flight).
        let killer = Thread { usleep(300_000); own.kill() }
        killer.start()
        let started = Date()
        do {
            _ = try S3VersionedBlobStore(client: client, bucket: bucket).upload(localPath: directory + "/big", key: "big")
            Issue.record("the upload succeeded although the server was killed")
        } catch StorageError.network(let underlying, let operation, let tries) {
            #expect(tries == 3, "\(operation)")
            #expect(underlying.isTransient)
            #expect(operation.contains("s3://\(bucket)/big"))
        }
        #expect(Date().timeIntervalSince(started) < 60, "bounded: retries end, nothing hangs")
    }
}
