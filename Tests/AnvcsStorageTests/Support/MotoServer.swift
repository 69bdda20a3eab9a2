import AnvcsStorage
import Foundation

/// moto's S3-compatible server on 127.0.0.1, from the venv of scripts/test-deps.d/s3.sh.
/// With `authenticated`, INITIAL_NO_AUTH_ACTION_COUNT lets the launcher create an IAM user and
/// its key (three unauthenticated calls); after that every request's SigV4 signature is checked.
final class MotoServer: @unchecked Sendable {
    let server: PythonServer
    let credentials: AWSCredentials
    var port: Int { server.port }
    var endpoint: String { server.endpoint }

    static let launcher = #"""
    import json, os, sys
    authenticated = sys.argv[1] == "auth"
    if authenticated:
        os.environ["INITIAL_NO_AUTH_ACTION_COUNT"] = "3"
    from moto.server import ThreadedMotoServer
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    port = server.get_host_and_port()[1]
    key_id, secret = "AKIAOPENSERVER000000", "open"
    if authenticated:
        import boto3
        iam = boto3.client("iam", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                           aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
        iam.create_user(UserName="anvcs")
        iam.put_user_policy(UserName="anvcs", PolicyName="all", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
        key = iam.create_access_key(UserName="anvcs")["AccessKey"]
        key_id, secret = key["AccessKeyId"], key["SecretAccessKey"]
    print("READY", port, key_id, secret, flush=True)
    threading_event = __import__("threading").Event()
    threading_event.wait()
    """#

    /// One authenticated server for the whole test process; it exits with the process.
    static let shared: Result<MotoServer, TestFailure> = {
        do {
            return .success(try MotoServer(authenticated: true))
        } catch let failure as TestFailure {
            return .failure(failure)
        } catch {
            return .failure(TestFailure("\(error)"))
        }
    }()

    static func sharedServer() throws -> MotoServer { try shared.get() }

    /// One server without request authentication (for STS web identity and presigned URLs).
    static let sharedOpen: Result<MotoServer, TestFailure> = {
        do {
            return .success(try MotoServer(authenticated: false))
        } catch let failure as TestFailure {
            return .failure(failure)
        } catch {
            return .failure(TestFailure("\(error)"))
        }
    }()

    static func sharedOpenServer() throws -> MotoServer { try sharedOpen.get() }

    /// A server of its own, for tests that kill it. With `authenticated` false, moto accepts
    /// any signature (and unsigned calls), but it still needs signed requests to parse them.
    init(authenticated: Bool = true) throws {
        guard FileManager.default.isExecutableFile(atPath: TestEnvironment.venvPython) else {
            throw TestFailure("no Python venv at \(TestEnvironment.venv): run scripts/test-deps.d/s3.sh first")
        }
        server = try PythonServer(python: TestEnvironment.venvPython, script: MotoServer.launcher,
                                  arguments: [authenticated ? "auth" : "open"], name: "moto", timeout: 90)
        guard server.fields.count == 2 else { throw TestFailure("moto launcher announced \(server.fields)") }
        credentials = AWSCredentials(accessKeyId: server.fields[0], secretAccessKey: server.fields[1])
    }

    func stop() { server.stop() }
    func kill() { server.killNow() }

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
