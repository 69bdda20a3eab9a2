import AnvcsHTTP
@testable import AnvcsStorage
import Foundation
import Synchronization
import Testing

/// Retries, backoff and the clock-skew guard against a server that fails on purpose.
struct FaultToleranceTests {
    func client(_ server: FaultServer, attempts: Int = 5, clock: @escaping @Sendable () -> Date = { Date() }) throws -> S3Client {
        try S3Client(configuration: S3Configuration(endpointURL: server.endpoint, addressingStyle: .path,
                                                    retry: RetryPolicy(maximumAttempts: attempts, baseDelay: 0.01)),
                     credentials: StaticCredentialsProvider(AWSCredentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret")),
                     clock: clock)
    }

    func count(_ server: FaultServer, _ path: String) throws -> Int {
        let response = try HTTPClient().perform(HTTPRequest(method: "GET", url: server.endpoint + "/count" + path))
        return Int(response.bodyText) ?? -1
    }

    @Test func a503StormShorterThanTheRetryBudgetIsRidden() throws {
        let server = try FaultServer()
        defer { server.stop() }
        let (bytes, _) = try client(server).getObjectBytes(bucket: "storm-4", key: "obj")
        #expect(sha256Hex(bytes) == FaultServer.bodySHA256)
        #expect(try count(server, "/storm-4/obj") == 5)
    }

    @Test func a503StormLongerThanTheRetryBudgetFailsWithTheCode() throws {
        let server = try FaultServer()
        defer { server.stop() }
        do {
            _ = try client(server, attempts: 3).getObjectBytes(bucket: "storm-50", key: "obj")
            Issue.record("a 503 storm was reported as success")
        } catch StorageError.s3(let status, let code, let message, _, _, _) {
            #expect(status == 503 && code == "SlowDown")
            #expect(message.contains("after 3 attempts"))
        }
        #expect(try count(server, "/storm-50/obj") == 3)
    }

    @Test func aTruncatedBodyIsRetriedFromTheStart() throws {
        let server = try FaultServer()
        defer { server.stop() }
        let client = try client(server)
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = S3VersionedBlobStore(client: client, bucket: "truncate-2")
        try store.download(key: "obj", versionId: "v1", to: directory + "/out", expectedSHA256: FaultServer.bodySHA256)
        #expect(try ContentDigest.hashFile(at: directory + "/out").sha256 == FaultServer.bodySHA256)
        #expect(try count(server, "/truncate-2/obj") == 3)
    }

    @Test func corruptBytesFromTheServerAreRefused() throws {
        let server = try FaultServer()
        defer { server.stop() }
        let store = S3VersionedBlobStore(client: try client(server), bucket: "corrupt")
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            // No sha256 given: the object's own x-amz-meta-sha256 is the reference.
            try store.download(key: "obj", versionId: "v1", to: directory + "/out", expectedSHA256: nil)
            Issue.record("corrupt bytes were accepted")
        } catch StorageError.digestMismatch(_, let expected, _) {
            #expect(expected == FaultServer.bodySHA256)
        }
        #expect(FileManager.default.fileExists(atPath: directory + "/out") == false)
    }

    @Test func aSkewedClockIsCorrectedOnceLikeTheSDKs() throws {
        let server = try FaultServer()
        defer { server.stop() }
        let client = try client(server, clock: { Date().addingTimeInterval(3600) })
        let (bytes, _) = try client.getObjectBytes(bucket: "skewed", key: "obj")
        #expect(sha256Hex(bytes) == FaultServer.bodySHA256)
        #expect(try count(server, "/skewed/obj") == 2)
    }

    @Test func aRefusedSignatureWithDriftSaysClockSkew() throws {
        let server = try FaultServer()
        defer { server.stop() }
        let client = try client(server, clock: { Date().addingTimeInterval(-1800) })
        do {
            _ = try client.headObject(bucket: "signature", key: "obj")
            Issue.record("a refused signature was reported as success")
        } catch StorageError.clockSkew(let skew, let operation, _) {
            #expect(abs(skew + 1800) < 5, "measured skew \(skew)")
            #expect(operation == "HeadObject")
            #expect("\(StorageError.clockSkew(skewSeconds: skew, operation: operation, resource: "r"))".contains("behind"))
        }
    }

    @Test func backoffDelaysStayUnderTheExponentialCeiling() {
        let policy = RetryPolicy(maximumAttempts: 10, baseDelay: 0.1, maximumDelay: 2)
        var generator = SystemRandomNumberGenerator()
        var sawSpread = Set<Int>()
        for attempt in 1...9 {
            for _ in 0..<200 {
                let delay = policy.delay(afterAttempt: attempt, using: &generator)
                #expect(delay >= 0 && delay <= min(2, 0.1 * pow(2, Double(attempt - 1))))
                sawSpread.insert(Int(delay * 100))
            }
        }
        #expect(sawSpread.count > 50, "full jitter spreads delays")
    }

    @Test func connectionRefusedIsATransientNetworkError() throws {
        let port = try TestEnvironment.freePort()
        let client = try S3Client(configuration: S3Configuration(endpointURL: "http://127.0.0.1:\(port)", addressingStyle: .path,
                                                                 retry: RetryPolicy(maximumAttempts: 2, baseDelay: 0.01)),
                                  credentials: StaticCredentialsProvider(AWSCredentials(accessKeyId: "a", secretAccessKey: "b")))
        do {
            _ = try client.headObject(bucket: "b", key: "k")
            Issue.record("no server, yet success")
        } catch StorageError.network(let underlying, _, let attempts) {
            #expect(attempts == 2)
            #expect(underlying.isTransient)
            #expect("\(underlying)".contains("127.0.0.1:\(port)"))
        }
    }
}
