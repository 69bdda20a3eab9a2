import AnvcsHTTP
@testable import AnvcsStorage
import Foundation
import Testing

/// The same S3 requests signed by botocore (the venv's, which moto brings) and by us must carry the same
/// Authorization header. botocore's clock is pinned to ours through `get_current_datetime`.
struct SigV4BotocoreTests {
    static let script = #"""
    import json, sys, datetime
    from unittest import mock
    import botocore.auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    spec = json.load(sys.stdin)
    when = datetime.datetime.fromtimestamp(spec["epoch"], datetime.timezone.utc).replace(tzinfo=None)
    request = AWSRequest(method=spec["method"], url=spec["url"], headers=spec["headers"],
                         data=bytes.fromhex(spec["body"]))
    credentials = Credentials(spec["access"], spec["secret"], spec.get("token"))
    with mock.patch("botocore.auth.get_current_datetime", return_value=when):
        botocore.auth.S3SigV4Auth(credentials, "s3", spec["region"]).add_auth(request)
    print(request.headers["Authorization"])
    """#

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var method: String
        var key: String
        var query: [(name: String, value: String)] = []
        var headers: [(name: String, value: String)] = []
        var body: [UInt8] = []
        var token: String?
        var region = "eu-west-3"
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "PutObject with metadata and checksum", method: "PUT", key: "models/weights v2.bin",
             headers: [("Content-Type", "application/octet-stream"), ("x-amz-meta-sha256", "abc123"),
                       ("x-amz-checksum-sha256", "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg="), ("If-None-Match", "*")],
             body: Array("hello world\n".utf8)),
        Case(name: "GetObject of a version with a range", method: "GET", key: "data/\u{00e9}t\u{00e9}+plus&amp.csv",
             query: [("versionId", "3/L4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY+MTRCxf3vjVBH40Nr8X8gdRQBpUMLUo")],
             headers: [("Range", "bytes=0-1023")]),
        Case(name: "ListObjectVersions with a session token", method: "GET", key: "",
             query: [("versions", ""), ("prefix", "a b/c~d"), ("key-marker", "x=y")], token: "FwoGZXIvYXdzEJr//////////token"),
        Case(name: "UploadPart", method: "PUT", key: "big/file.tar",
             query: [("partNumber", "7"), ("uploadId", "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA")],
             body: Array(repeating: 0x5a, count: 4096)),
        Case(name: "DeleteObject version in us-east-1", method: "DELETE", key: "k",
             query: [("versionId", "null")], region: "us-east-1"),
    ]

    @Test("matches botocore", arguments: cases)
    func matchesBotocore(_ testCase: Case) throws {
        let credentials = AWSCredentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                         sessionToken: testCase.token)
        let epoch = 1_764_000_000.0
        let client = try S3Client(configuration: S3Configuration(region: testCase.region, endpointURL: "http://127.0.0.1:9000",
                                                                  addressingStyle: .path),
                                  credentials: StaticCredentialsProvider(credentials))
        let call = S3Client.Call(operation: "Test", method: testCase.method, bucket: "bucket-one",
                                 key: testCase.key.isEmpty ? nil : testCase.key, query: testCase.query,
                                 headers: HTTPHeaders(testCase.headers))
        let (host, path) = client.location(of: call)
        let url = client.url(host: host, path: path, query: testCase.query)
        let ours = client.signer.sign(
            SigV4Signer.Request(method: testCase.method, host: host, path: path, query: testCase.query,
                                headers: HTTPHeaders(testCase.headers),
                                payloadSHA256: ContentDigest.sha256Hex(of: testCase.body)),
            credentials: credentials, at: Date(timeIntervalSince1970: epoch))

        var spec: [String: Any] = [
            "epoch": epoch, "method": testCase.method, "url": url, "region": testCase.region,
            "headers": Dictionary(testCase.headers, uniquingKeysWith: { first, _ in first }),
            "body": ContentDigest.hex(testCase.body), "access": credentials.accessKeyId,
            "secret": credentials.secretAccessKey,
        ]
        if let token = testCase.token { spec["token"] = token }
        let input = String(decoding: try JSONSerialization.data(withJSONObject: spec), as: UTF8.self)
        let botocore = try TestEnvironment.run(TestEnvironment.venvPython, ["-c", Self.script], input: input)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(ours.authorization == botocore, "url \(url)\ncanonical request:\n\(ours.canonicalRequest)")
    }

    static let presignScript = #"""
    import json, sys, datetime
    from unittest import mock
    import botocore.auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    from urllib.parse import urlsplit, parse_qs
    spec = json.load(sys.stdin)
    when = datetime.datetime.fromtimestamp(spec["epoch"], datetime.timezone.utc).replace(tzinfo=None)
    request = AWSRequest(method="GET", url=spec["url"])
    credentials = Credentials(spec["access"], spec["secret"], spec.get("token"))
    with mock.patch("botocore.auth.get_current_datetime", return_value=when):
        botocore.auth.S3SigV4QueryAuth(credentials, "s3", spec["region"], expires=spec["expires"]).add_auth(request)
    print(parse_qs(urlsplit(request.url).query)["X-Amz-Signature"][0])
    """#

    /// A presigned GET of a version carries the signature botocore computes for the same URL.
    @Test("presigned URL matches botocore", arguments: [nil, "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJH"])
    func presignedURLMatchesBotocore(token: String?) throws {
        let credentials = AWSCredentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                         sessionToken: token)
        let epoch = 1_764_000_000.0
        let client = try S3Client(configuration: S3Configuration(region: "eu-central-1", endpointURL: "https://s3.example.test:8443",
                                                                  addressingStyle: .path),
                                  credentials: StaticCredentialsProvider(credentials),
                                  clock: { Date(timeIntervalSince1970: epoch) })
        let url = try client.presignedURL(bucket: "bucket-one", key: "reports/q3 final+v2.pdf", versionId: "a/b+c=", expiresIn: 900)
        let components = try #require(URLComponents(string: url))
        let items = components.percentEncodedQueryItems ?? []
        let ours = try #require(items.first { $0.name == "X-Amz-Signature" }?.value)
        let unsigned = items.filter { !$0.name.hasPrefix("X-Amz-") }
        var base = components
        base.percentEncodedQueryItems = unsigned
        var spec: [String: Any] = ["epoch": epoch, "url": try #require(base.string), "region": "eu-central-1", "expires": 900,
                                   "access": credentials.accessKeyId, "secret": credentials.secretAccessKey]
        if let token { spec["token"] = token }
        let input = String(decoding: try JSONSerialization.data(withJSONObject: spec), as: UTF8.self)
        let botocore = try TestEnvironment.run(TestEnvironment.venvPython, ["-c", Self.presignScript], input: input)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(ours == botocore, "url \(url)")
    }
}
