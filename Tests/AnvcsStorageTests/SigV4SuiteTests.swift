import AnvcsHTTP
@testable import AnvcsStorage
import Foundation
import Testing

/// Vectors typed from AWS's published Signature Version 4 test suite
/// (https://docs.aws.amazon.com/general/latest/gr/signature-v4-test-suite.html):
/// service `service`, region `us-east-1`, key AKIDEXAMPLE, 2015-08-30T12:36:00Z.
struct SigV4SuiteTests {
    static let credentials = AWSCredentials(accessKeyId: "AKIDEXAMPLE",
                                            secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    static let date = Date(timeIntervalSince1970: 1_440_938_160)  // 20150830T123600Z
    static let signer = SigV4Signer(service: "service", region: "us-east-1")

    struct Vector: Sendable, CustomTestStringConvertible {
        var name: String
        var method = "GET"
        var path = "/"
        var query: [(name: String, value: String)] = []
        var headers: [(name: String, value: String)] = []
        var body = ""
        var signedHeaders = "host;x-amz-date"
        var signature: String
        var testDescription: String { name }
    }

    static let vectors: [Vector] = [
        Vector(name: "get-vanilla", signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
        Vector(name: "get-unreserved", path: "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
               signature: "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"),
        Vector(name: "get-slashes", path: "//example//",
               signature: "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84"),
        Vector(name: "get-vanilla-query-order-key-case", query: [("Param2", "value2"), ("Param1", "value1")],
               signature: "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"),
        Vector(name: "get-vanilla-query-order-value", query: [("Param1", "value2"), ("Param1", "value1")],
               signature: "5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694"),
        Vector(name: "get-vanilla-utf8-query", query: [("\u{1234}", "bar")],
               signature: "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"),
        Vector(name: "get-header-value-order",
               headers: [("My-Header1", "value4"), ("My-Header1", "value1"), ("My-Header1", "value3"), ("My-Header1", "value2")],
               signedHeaders: "host;my-header1;x-amz-date",
               signature: "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01"),
        Vector(name: "get-header-key-duplicate",
               headers: [("My-Header1", "value2"), ("My-Header1", "value2"), ("My-Header1", "value1")],
               signedHeaders: "host;my-header1;x-amz-date",
               signature: "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"),
        Vector(name: "get-header-value-trim", headers: [("My-Header1", " value1"), ("My-Header2", "\"a   b   c\"")],
               signedHeaders: "host;my-header1;my-header2;x-amz-date",
               signature: "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"),
        Vector(name: "post-x-www-form-urlencoded", method: "POST",
               headers: [("Content-Type", "application/x-www-form-urlencoded")], body: "Param1=value1",
               signedHeaders: "content-type;host;x-amz-date",
               signature: "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"),
    ]

    @Test("published suite vector", arguments: vectors)
    func publishedVector(_ vector: Vector) {
        let request = SigV4Signer.Request(method: vector.method, host: "example.amazonaws.com", path: vector.path,
                                          query: vector.query, headers: HTTPHeaders(vector.headers),
                                          payloadSHA256: ContentDigest.sha256Hex(of: Array(vector.body.utf8)))
        let signed = Self.signer.sign(request, credentials: Self.credentials, at: Self.date)
        #expect(signed.signature == vector.signature)
        #expect(signed.authorization == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            + "SignedHeaders=\(vector.signedHeaders), Signature=\(vector.signature)")
    }

    @Test func getVanillaIntermediates() {
        let signed = Self.signer.sign(SigV4Signer.Request(method: "GET", host: "example.amazonaws.com", path: "/"),
                                      credentials: Self.credentials, at: Self.date)
        #expect(signed.canonicalRequest == """
            GET
            /

            host:example.amazonaws.com
            x-amz-date:20150830T123600Z

            host;x-amz-date
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            """)
        #expect(signed.stringToSign == """
            AWS4-HMAC-SHA256
            20150830T123600Z
            20150830/us-east-1/service/aws4_request
            bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63
            """)
    }

    @Test func sessionTokenIsSigned() {
        var credentials = Self.credentials
        credentials.sessionToken = "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267"
        let signed = Self.signer.sign(SigV4Signer.Request(method: "GET", host: "example.amazonaws.com", path: "/"),
                                      credentials: credentials, at: Self.date)
        #expect(signed.signedHeaders == "host;x-amz-date;x-amz-security-token")
        #expect(signed.signature == "07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8")
        #expect(signed.headers["X-Amz-Security-Token"] == credentials.sessionToken)
    }

    @Test func pathNormalization() {
        for (path, canonical) in [("/example space/", "/example%20space/"), ("/\u{1234}", "/%E1%88%B4"),
                                  ("/./", "/"), ("/example/..", "/"), ("/example1/example2/../..", "/"),
                                  ("/./example", "/example")] {
            #expect(Self.signer.canonicalURI(path) == canonical, "\(path)")
        }
        // S3 signs the path as sent: no dot-segment removal, no slash collapsing.
        let s3 = SigV4Signer(service: "s3", region: "us-east-1")
        #expect(s3.canonicalURI("/bucket//a/./b") == "/bucket//a/./b")
    }

    // Examples from the Amazon S3 API reference ("Signature calculations for the Authorization
    // header" and "Authenticating requests: using query parameters").
    static let s3Credentials = AWSCredentials(accessKeyId: "AKIAIOSFODNN7EXAMPLE",
                                              secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    static let s3Date = Date(timeIntervalSince1970: 1_369_353_600)  // 20130524T000000Z

    @Test func s3GetObjectExample() {
        let signer = SigV4Signer(service: "s3", region: "us-east-1")
        let request = SigV4Signer.Request(method: "GET", host: "examplebucket.s3.amazonaws.com", path: "/test.txt",
                                          headers: HTTPHeaders([("Range", "bytes=0-9")]))
        let signed = signer.sign(request, credentials: Self.s3Credentials, at: Self.s3Date)
        #expect(signed.signedHeaders == "host;range;x-amz-content-sha256;x-amz-date")
        #expect(signed.signature == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    }

    @Test func s3PresignedURLExample() {
        let signer = SigV4Signer(service: "s3", region: "us-east-1")
        let query = signer.presignedQuery(SigV4Signer.Request(method: "GET", host: "examplebucket.s3.amazonaws.com",
                                                              path: "/test.txt"),
                                          credentials: Self.s3Credentials, at: Self.s3Date, expires: 86400)
        #expect(query.last?.name == "X-Amz-Signature")
        #expect(query.last?.value == "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
    }
}
