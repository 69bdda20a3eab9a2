import Foundation

/// A Python server script run as a guarded `ChildProcess`. The script binds port 0 itself (no
/// race for a "free" port between tests) and announces itself with a first stdout line
/// `READY <port> [fields...]`; `start` waits for that line, bounded, and fails with the
/// script's stderr when it does not come.
public final class PythonServer: @unchecked Sendable {
    public let child: ChildProcess
    public let port: Int
    /// The fields after the port on the READY line.
    public let fields: [String]
    public let logDirectory: String
    /// Seconds between SIGTERM and SIGKILL when stopping.
    public let stopGrace: Double
    public var endpoint: String { "http://127.0.0.1:\(port)" }

    public init(python: String = "python3", script: String, arguments: [String] = [], environment: [String: String]? = nil,
         name: String, timeout: Double = 60, stopGrace: Double = 5) throws {
        self.stopGrace = stopGrace
        logDirectory = NSTemporaryDirectory() + "anvcs-\(name)-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: logDirectory, withIntermediateDirectories: true)
        var environment = environment ?? ProcessInfo.processInfo.environment
        environment["PYTHONUNBUFFERED"] = "1"
        for proxy in ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"] {
            environment[proxy] = nil
        }
        child = try ChildProcess([python, "-c", pythonParentWatch + script] + arguments, environment: environment,
                                 stdoutPath: logDirectory + "/stdout", stderrPath: logDirectory + "/stderr", guarded: true)
        let deadline = Date().addingTimeInterval(timeout)
        var announced: [String]?
        var exitedWith: Int32?
        while Date() < deadline {
            let text = (try? String(contentsOfFile: logDirectory + "/stdout", encoding: .utf8)) ?? ""
            // Complete lines only; libraries may print before the script announces itself.
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
            if let line = lines.first(where: { $0.hasPrefix("READY ") }) {
                announced = line.split(separator: " ").map(String.init)
                break
            }
            if let status = child.poll() {
                exitedWith = status
                break
            }
            usleep(20_000)
        }
        guard let announced, announced.count >= 2, announced[0] == "READY", let port = Int(announced[1]) else {
            let errors = (try? String(contentsOfFile: logDirectory + "/stderr", encoding: .utf8)) ?? ""
            child.killNow()
            let why = exitedWith.map { "exited with status \($0)" } ?? "did not announce READY within \(Int(timeout)) s"
            throw TestFailure("\(name) server \(why): \(errors.suffix(2000))")
        }
        self.port = port
        self.fields = Array(announced.dropFirst(2))
    }

    deinit {
        child.stop(grace: stopGrace)
        try? FileManager.default.removeItem(atPath: logDirectory)
    }

    public func stop() { child.stop(grace: stopGrace) }
    public func killNow() { child.killNow() }
}

/// The Python virtualenv the scripts of scripts/test-deps.d create: `$ANVCS_VENV`, else `<repo>/.venv`.
public enum TestVenv {
    public static var path: String {
        ProcessInfo.processInfo.environment["ANVCS_VENV"] ?? Built.sourceRoot + "/.venv"
    }

    public static var python: String { path + "/bin/python" }

    /// The venv's python, or a failure that says how to create it.
    public static func requirePython(setup script: String) throws -> String {
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw TestFailure("no Python venv at \(path): run scripts/test-deps.d/\(script) first")
        }
        return python
    }
}

/// moto's S3-compatible server (from scripts/test-deps.d/s3.sh) on 127.0.0.1. With
/// `authenticated`, INITIAL_NO_AUTH_ACTION_COUNT lets the launcher create an IAM user and its key
/// (three unauthenticated calls); after that every request's SigV4 signature is checked.
/// `buckets` are created first; a name ending in `+versioned` gets versioning (the suffix is dropped).
public final class MotoProcess: Sendable {
    public let server: PythonServer
    public let accessKeyId: String
    public let secretAccessKey: String
    public var port: Int { server.port }
    public var endpoint: String { server.endpoint }

    static let launcher = #"""
    import json, os, sys, threading
    authenticated = sys.argv[1] == "auth"
    if authenticated:
        os.environ["INITIAL_NO_AUTH_ACTION_COUNT"] = "3"
    from moto.server import ThreadedMotoServer
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    port = server.get_host_and_port()[1]
    key_id, secret = "AKIAOPENSERVER000000", "open"
    import boto3
    if authenticated:
        iam = boto3.client("iam", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                           aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
        iam.create_user(UserName="anvcs")
        iam.put_user_policy(UserName="anvcs", PolicyName="all", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
        key = iam.create_access_key(UserName="anvcs")["AccessKey"]
        key_id, secret = key["AccessKeyId"], key["SecretAccessKey"]
    s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                      aws_access_key_id=key_id, aws_secret_access_key=secret)
    for spec in sys.argv[2:]:
        name = spec.removesuffix("+versioned")
        s3.create_bucket(Bucket=name)
        if spec.endswith("+versioned"):
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    print("READY", port, key_id, secret, flush=True)
    threading.Event().wait()
    """#

    public init(authenticated: Bool = true, buckets: [String] = []) throws {
        let python = try TestVenv.requirePython(setup: "s3.sh")
        server = try PythonServer(python: python, script: MotoProcess.launcher,
                                  arguments: [authenticated ? "auth" : "open"] + buckets, name: "moto", timeout: 90)
        guard server.fields.count == 2 else { throw TestFailure("moto launcher announced \(server.fields)") }
        accessKeyId = server.fields[0]
        secretAccessKey = server.fields[1]
    }

    public func stop() { server.stop() }
    public func kill() { server.killNow() }
}
