import AnvcsHTTP
import Crypto
import Foundation

/// AWS Signature Version 4, as a pure function of a request, credentials and a time.
/// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
public struct SigV4Signer: Sendable {
    public var service: String
    public var region: String
    /// S3 signs the path as sent; other services remove dot segments and repeated slashes first.
    public var normalizesPath: Bool
    /// S3 wants `x-amz-content-sha256` sent and signed.
    public var sendsContentSHA256Header: Bool

    public static let algorithm = "AWS4-HMAC-SHA256"
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"

    public init(service: String, region: String) {
        self.service = service
        self.region = region
        self.normalizesPath = service != "s3"
        self.sendsContentSHA256Header = service == "s3"
    }

    /// What is signed: the parts of an HTTP request, path and query not yet percent-encoded.
    public struct Request: Sendable {
        public var method: String
        /// `host` or `host:port`, as the Host header will carry it.
        public var host: String
        /// The decoded path, starting with `/`.
        public var path: String
        /// Decoded query parameters, in any order.
        public var query: [(name: String, value: String)]
        public var headers: HTTPHeaders
        /// Hex sha256 of the body, or `UNSIGNED-PAYLOAD`.
        public var payloadSHA256: String

        public init(method: String, host: String, path: String, query: [(name: String, value: String)] = [],
                    headers: HTTPHeaders = HTTPHeaders(), payloadSHA256: String = ContentDigest.emptySHA256) {
            self.method = method
            self.host = host
            self.path = path
            self.query = query
            self.headers = headers
            self.payloadSHA256 = payloadSHA256
        }
    }

    /// Every intermediate of one signature, so tests can compare each step with the published suite.
    public struct Signature: Sendable {
        public var canonicalRequest: String
        public var stringToSign: String
        public var signedHeaders: String
        public var signature: String
        public var credentialScope: String
        public var authorization: String
        /// The headers to add to the request: Authorization, X-Amz-Date, and when needed
        /// X-Amz-Security-Token and X-Amz-Content-Sha256.
        public var headers: HTTPHeaders
    }

    // Headers that proxies and clients rewrite; signing them would break signatures in transit.
    static let unsignedHeaderNames: Set<String> = ["authorization", "user-agent", "expect", "x-amzn-trace-id",
                                                   "content-length", "connection", "transfer-encoding"]

    public func sign(_ request: Request, credentials: AWSCredentials, at date: Date) -> Signature {
        let stamp = AmzDate(date)
        var headers = request.headers
        headers.set("X-Amz-Date", stamp.dateTime)
        if let token = credentials.sessionToken {
            headers.set("X-Amz-Security-Token", token)
        }
        if sendsContentSHA256Header {
            headers.set("X-Amz-Content-Sha256", request.payloadSHA256)
        }
        var signing = headers
        signing.set("Host", request.host)
        let (canonicalHeaders, signedHeaders) = canonicalize(headers: signing)
        let canonical = [
            request.method.uppercased(),
            canonicalURI(request.path),
            canonicalQuery(request.query),
            canonicalHeaders,
            signedHeaders,
            request.payloadSHA256,
        ].joined(separator: "\n")
        let scope = "\(stamp.date)/\(region)/\(service)/aws4_request"
        let stringToSign = [SigV4Signer.algorithm, stamp.dateTime, scope,
                            ContentDigest.sha256Hex(of: Array(canonical.utf8))].joined(separator: "\n")
        let signature = signatureHex(stringToSign: stringToSign, date: stamp.date, secret: credentials.secretAccessKey)
        let authorization = "\(SigV4Signer.algorithm) Credential=\(credentials.accessKeyId)/\(scope), "
            + "SignedHeaders=\(signedHeaders), Signature=\(signature)"
        var added = HTTPHeaders()
        added.add("Authorization", authorization)
        added.add("X-Amz-Date", stamp.dateTime)
        if let token = credentials.sessionToken { added.add("X-Amz-Security-Token", token) }
        if sendsContentSHA256Header { added.add("X-Amz-Content-Sha256", request.payloadSHA256) }
        return Signature(canonicalRequest: canonical, stringToSign: stringToSign, signedHeaders: signedHeaders,
                         signature: signature, credentialScope: scope, authorization: authorization, headers: added)
    }

    /// Query authentication: the parameters to append to a URL so that anyone holding it may send
    /// this request until `expires` seconds after `date`. The payload is not signed.
    public func presignedQuery(_ request: Request, credentials: AWSCredentials, at date: Date,
                               expires: Int) -> [(name: String, value: String)] {
        let stamp = AmzDate(date)
        let scope = "\(stamp.date)/\(region)/\(service)/aws4_request"
        var signing = request.headers
        signing.set("Host", request.host)
        let (canonicalHeaders, signedHeaders) = canonicalize(headers: signing)
        var query = request.query
        query.append(("X-Amz-Algorithm", SigV4Signer.algorithm))
        query.append(("X-Amz-Credential", "\(credentials.accessKeyId)/\(scope)"))
        query.append(("X-Amz-Date", stamp.dateTime))
        query.append(("X-Amz-Expires", String(expires)))
        if let token = credentials.sessionToken { query.append(("X-Amz-Security-Token", token)) }
        query.append(("X-Amz-SignedHeaders", signedHeaders))
        let canonical = [request.method.uppercased(), canonicalURI(request.path), canonicalQuery(query),
                         canonicalHeaders, signedHeaders, SigV4Signer.unsignedPayload].joined(separator: "\n")
        let stringToSign = [SigV4Signer.algorithm, stamp.dateTime, scope,
                            ContentDigest.sha256Hex(of: Array(canonical.utf8))].joined(separator: "\n")
        query.append(("X-Amz-Signature", signatureHex(stringToSign: stringToSign, date: stamp.date,
                                                      secret: credentials.secretAccessKey)))
        return query
    }

    // MARK: canonical forms

    public func canonicalURI(_ path: String) -> String {
        var path = path.isEmpty ? "/" : path
        if normalizesPath { path = SigV4Signer.removingDotSegments(path) }
        return SigV4Signer.percentEncode(path, keepingSlash: true)
    }

    public func canonicalQuery(_ query: [(name: String, value: String)]) -> String {
        query.map { (SigV4Signer.percentEncode($0.name), SigV4Signer.percentEncode($0.value)) }
            .sorted { $0.0 == $1.0 ? $0.1.utf8.lexicographicallyPrecedes($1.1.utf8) : $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }
            .map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
    }

    /// Lower-case names sorted; values trimmed with inner runs of spaces collapsed; repeated
    /// names joined with commas in their original order.
    func canonicalize(headers: HTTPHeaders) -> (canonical: String, signed: String) {
        var grouped: [String: [String]] = [:]
        for field in headers {
            let name = field.name.lowercased()
            if SigV4Signer.unsignedHeaderNames.contains(name) { continue }
            grouped[name, default: []].append(SigV4Signer.collapsingSpaces(field.value))
        }
        let names = grouped.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        let canonical = names.map { "\($0):\(grouped[$0]!.joined(separator: ","))\n" }.joined()
        return (canonical, names.joined(separator: ";"))
    }

    static func collapsingSpaces(_ value: String) -> String {
        value.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
    }

    static func removingDotSegments(_ path: String) -> String {
        var segments: [Substring] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) {
            if segment == "." { continue }
            if segment == ".." { _ = segments.popLast(); continue }
            segments.append(segment)
        }
        var result = "/" + segments.joined(separator: "/")
        if path.hasSuffix("/") && result != "/" { result += "/" }
        return result
    }

    /// RFC 3986 percent-encoding of everything but unreserved characters (and `/` in paths).
    public static func percentEncode(_ text: String, keepingSlash: Bool = false) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out = [UInt8]()
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
                 UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(byte)
            case UInt8(ascii: "/") where keepingSlash:
                out.append(byte)
            default:
                out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 15)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    // MARK: keys

    func signatureHex(stringToSign: String, date: String, secret: String) -> String {
        let key = signingKey(date: date, secret: secret)
        let mac = HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: key)
        return ContentDigest.hex(mac)
    }

    func signingKey(date: String, secret: String) -> SymmetricKey {
        func step(_ key: SymmetricKey, _ text: String) -> SymmetricKey {
            SymmetricKey(data: Array(HMAC<SHA256>.authenticationCode(for: Array(text.utf8), using: key)))
        }
        let start = SymmetricKey(data: Array(("AWS4" + secret).utf8))
        return step(step(step(step(start, date), region), service), "aws4_request")
    }
}

/// `20150830T123600Z` and `20150830`, in UTC.
struct AmzDate {
    let dateTime: String
    let date: String

    init(_ instant: Date) {
        var seconds = time_t(instant.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        date = pad(parts.tm_year + 1900, 4) + pad(parts.tm_mon + 1, 2) + pad(parts.tm_mday, 2)
        dateTime = date + "T" + pad(parts.tm_hour, 2) + pad(parts.tm_min, 2) + pad(parts.tm_sec, 2) + "Z"
    }
}
