import AnvcsStorage
import Foundation
import Synchronization

/// moto's S3-compatible server on a free 127.0.0.1 port, from the venv of
/// scripts/test-deps.d/s3.sh. Started with INITIAL_NO_AUTH_ACTION_COUNT so that after creating an
/// IAM user and its key (three unauthenticated calls), every request's SigV4 signature is checked.
final class MotoServer: @unchecked Sendable {
    let process: Process
    let port: Int
    let credentials: AWSCredentials
    var endpoint: String { "http://127.0.0.1:\(port)" }

    /// One server for the whole test process, stopped when the process exits.
    static let shared: Result<MotoServer, TestFailure> = {
        do {
            let server = try MotoServer.start()
            sharedProcessID.withLock { $0 = server.process.processIdentifier }
            atexit { if let pid = MotoServer.sharedProcessID.withLock({ $0 }) { Glibc.kill(pid, SIGTERM) } }
            return .success(server)
        } catch let failure as TestFailure {
            return .failure(failure)
        } catch {
            return .failure(TestFailure("\(error)"))
        }
    }()
    static let sharedProcessID = Mutex<Int32?>(nil)

    static func start() throws -> MotoServer {
        guard FileManager.default.isExecutableFile(atPath: TestEnvironment.venvPython) else {
            throw TestFailure("no Python venv at \(TestEnvironment.venv): run scripts/test-deps.d/s3.sh first")
        }
        let port = TestEnvironment.freePort()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestEnvironment.venvPython)
        process.arguments = ["-m", "moto.server", "-H", "127.0.0.1", "-p", String(port)]
        var environment = ProcessInfo.processInfo.environment
        environment["INITIAL_NO_AUTH_ACTION_COUNT"] = "3"
        for name in ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY"] { environment[name] = nil }
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        guard waitForListener(port: port) else {
            process.terminate()
            throw TestFailure("moto server did not listen on 127.0.0.1:\(port) within 30 s")
        }
        let script = """
        import boto3, json, sys
        iam = boto3.client('iam', endpoint_url=sys.argv[1], region_name='us-east-1',
                           aws_access_key_id='bootstrap', aws_secret_access_key='bootstrap')
        iam.create_user(UserName='anvcs')
        iam.put_user_policy(UserName='anvcs', PolicyName='all', PolicyDocument=json.dumps(
            {'Version': '2012-10-17', 'Statement': [{'Effect': 'Allow', 'Action': '*', 'Resource': '*'}]}))
        key = iam.create_access_key(UserName='anvcs')['AccessKey']
        print(key['AccessKeyId'], key['SecretAccessKey'])
        """
        let output: String
        do {
            output = try TestEnvironment.run(TestEnvironment.venvPython, ["-c", script, "http://127.0.0.1:\(port)"])
        } catch {
            process.terminate()
            throw error
        }
        let parts = output.split(whereSeparator: \.isWhitespace).map(String.init)
        guard parts.count == 2 else {
            process.terminate()
            throw TestFailure("IAM bootstrap printed \(output)")
        }
        return MotoServer(process: process, port: port,
                          credentials: AWSCredentials(accessKeyId: parts[0], secretAccessKey: parts[1]))
    }

    private init(process: Process, port: Int, credentials: AWSCredentials) {
        self.process = process
        self.port = port
        self.credentials = credentials
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    func kill() {
        if process.isRunning {
            Glibc.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

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

    static func sharedServer() throws -> MotoServer {
        try shared.get()
    }
}

#if canImport(Glibc)
import Glibc
#endif
