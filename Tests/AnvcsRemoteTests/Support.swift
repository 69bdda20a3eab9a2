import AnvcsTestSupport
import Foundation
import Synchronization

/// A working repository plus a place for remotes, with git-remote-anvcs on PATH.
final class RemoteFixture: @unchecked Sendable {
    let work: TemporaryRepository

    init() throws {
        work = try TemporaryRepository(name: "work")
        guard FileManager.default.isExecutableFile(atPath: Built.binDirectory + "/git-remote-anvcs") else {
            throw TestFailure("git-remote-anvcs is not built in \(Built.binDirectory): run swift build --product git-remote-anvcs")
        }
    }

    var root: String { work.root }

    /// Commits `count` files on the current branch; returns the last commit id.
    @discardableResult
    func commits(_ count: Int, prefix: String = "file", in repo: TemporaryRepository? = nil) throws -> String {
        let repo = repo ?? work
        var last = ""
        for i in 0..<count {
            last = try repo.commitFile("\(prefix)-\(i).txt", "content \(prefix) \(i)\n", message: "\(prefix) \(i)")
        }
        return last
    }

    /// A clone of `url` into `name` under the fixture's root; returns its path.
    @discardableResult
    func clone(_ url: String, into name: String, extra: [String] = []) throws -> String {
        let r = try work.run(["git", "clone", "-q"] + extra + [url, root + "/" + name], in: root)
        guard r.succeeded else { throw TestFailure("git clone \(url) failed (\(r.status)): \(r.stderr)") }
        return root + "/" + name
    }

    func git(_ arguments: [String], in path: String, env: [String: String] = [:]) throws -> ProcessResult {
        try work.run(["git"] + arguments, env: env, in: path)
    }

    /// Runs git in `path` and fails loudly when it fails.
    @discardableResult
    func must(_ arguments: [String], in path: String, env: [String: String] = [:]) throws -> String {
        let r = try git(arguments, in: path, env: env)
        guard r.succeeded else { throw TestFailure("git \(arguments.joined(separator: " ")) in \(path) failed (\(r.status)): \(r.stderr)") }
        return r.stdout
    }

    func rev(_ revision: String, in path: String) throws -> String {
        try must(["rev-parse", revision], in: path).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Commits one file in the repository at `path`.
    @discardableResult
    func commit(_ file: String, _ text: String, in path: String) throws -> String {
        try text.write(toFile: path + "/" + file, atomically: true, encoding: .utf8)
        try must(["add", file], in: path)
        try must(["commit", "-q", "-m", "edit \(file)"], in: path)
        return try rev("HEAD", in: path)
    }
}

/// moto's S3 server on a free port, from the venv of scripts/test-deps.d/remote.sh; IAM keys
/// created first so that every later request's signature is checked.
final class MotoServer: @unchecked Sendable {
    let process: Process
    let port: Int
    let accessKey: String
    let secretKey: String
    var endpoint: String { "http://127.0.0.1:\(port)" }

    static let shared: Result<MotoServer, TestFailure> = {
        do {
            let server = try MotoServer.start()
            pid.withLock { $0 = server.process.processIdentifier }
            atexit { if let p = MotoServer.pid.withLock({ $0 }) { kill(p, SIGTERM) } }
            return .success(server)
        } catch let failure as TestFailure {
            return .failure(failure)
        } catch {
            return .failure(TestFailure("\(error)"))
        }
    }()
    static let pid = Mutex<Int32?>(nil)

    static var venv: String {
        ProcessInfo.processInfo.environment["ANVCS_VENV"] ?? Built.sourceRoot + "/.venv"
    }

    static func start() throws -> MotoServer {
        let python = venv + "/bin/python"
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw TestFailure("no Python venv at \(venv): run scripts/test-deps.d/remote.sh first")
        }
        let port = freePort()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-m", "moto.server", "-H", "127.0.0.1", "-p", String(port)]
        var environment = ProcessInfo.processInfo.environment
        environment["INITIAL_NO_AUTH_ACTION_COUNT"] = "3"
        for name in ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY"] { environment[name] = nil }
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        while !canConnect(port: port) {
            guard Date() < deadline else { process.terminate(); throw TestFailure("moto did not listen on \(port) within 60 s") }
            usleep(100_000)
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
        let r = try ProcessRunner.run([python, "-c", script, "http://127.0.0.1:\(port)"], directory: "/", environment: environment)
        let parts = r.stdout.split(whereSeparator: \.isWhitespace).map(String.init)
        guard r.succeeded, parts.count == 2 else {
            process.terminate()
            throw TestFailure("moto IAM bootstrap failed: \(r.stderr)")
        }
        return MotoServer(process: process, port: port, accessKey: parts[0], secretKey: parts[1])
    }

    private init(process: Process, port: Int, accessKey: String, secretKey: String) {
        self.process = process
        self.port = port
        self.accessKey = accessKey
        self.secretKey = secretKey
    }

    /// Creates a bucket, versioned unless told otherwise (through boto3, independent of our client).
    func createBucket(_ name: String, versioned: Bool = true) throws {
        let script = """
        import boto3, sys
        s3 = boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1',
                          aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3])
        s3.create_bucket(Bucket=sys.argv[4])
        if sys.argv[5] == '1':
            s3.put_bucket_versioning(Bucket=sys.argv[4], VersioningConfiguration={'Status': 'Enabled'})
        """
        let r = try ProcessRunner.run([MotoServer.venv + "/bin/python", "-c", script, endpoint, accessKey, secretKey, name, versioned ? "1" : "0"],
                                      directory: "/", environment: ProcessInfo.processInfo.environment)
        guard r.succeeded else { throw TestFailure("create bucket \(name): \(r.stderr)") }
    }

    func environment(wrongSecret: Bool = false) -> [String: String] {
        ["AWS_ACCESS_KEY_ID": accessKey, "AWS_SECRET_ACCESS_KEY": wrongSecret ? "wrong" + secretKey : secretKey,
         "AWS_REGION": "us-east-1"]
    }

    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    static func canConnect(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }
}
