import AnvcsStorage
import AnvcsTestSupport
import Foundation

/// A moto server (AnvcsTestSupport's MotoProcess) with S3 clients for it.
final class MotoServer: Sendable {
    let process: MotoProcess
    let credentials: AWSCredentials
    var port: Int { process.port }
    var endpoint: String { process.endpoint }

    /// One authenticated server for the whole test process; it exits with the process.
    static let shared: Result<MotoServer, TestFailure> = Result { try MotoServer(authenticated: true) }.mapError { error in
        error as? TestFailure ?? TestFailure("\(error)")
    }

    static func sharedServer() throws -> MotoServer { try shared.get() }

    /// One server without request authentication (for STS web identity and presigned URLs).
    static let sharedOpen: Result<MotoServer, TestFailure> = Result { try MotoServer(authenticated: false) }.mapError { error in
        error as? TestFailure ?? TestFailure("\(error)")
    }

    static func sharedOpenServer() throws -> MotoServer { try sharedOpen.get() }

    /// A server of its own, for tests that kill it. Without `authenticated`, moto accepts any
    /// signature (and unsigned calls).
    init(authenticated: Bool = true) throws {
        process = try MotoProcess(authenticated: authenticated)
        credentials = AWSCredentials(accessKeyId: process.accessKeyId, secretAccessKey: process.secretAccessKey)
    }

    func stop() { process.stop() }
    func kill() { process.kill() }

    func client(region: String = "us-east-1", secret: String? = nil, retry: RetryPolicy = RetryPolicy(baseDelay: 0.02),
                multipartThreshold: UInt64 = 64 << 20, partSize: UInt64 = 64 << 20,
                clock: @escaping @Sendable () -> Date = { Date() }) throws -> S3Client {
        var credentials = self.credentials
        if let secret { credentials.secretAccessKey = secret }
        return try S3Client(configuration: S3Configuration(region: region, endpointURL: endpoint, addressingStyle: .path,
                                                           retry: retry, multipartThreshold: multipartThreshold,
                                                           partSize: partSize),
                            credentials: StaticCredentialsProvider(credentials), clock: clock)
    }

    /// A new bucket with versioning on.
    func makeVersionedBucket(_ client: S3Client) throws -> String {
        let bucket = "anvcs-" + UUID().uuidString.lowercased().prefix(18)
        try client.createBucket(bucket)
        try client.setBucketVersioning(bucket, enabled: true)
        return bucket
    }
}
