import AnvcsHTTP
import Foundation
import Synchronization

/// An S3 client for the operations ANVCS uses, on AnvcsHTTP. Blocking calls, safe to share
/// between threads. Every call is signed with SigV4, retried with backoff and full jitter when
/// the failure is transient, and its errors say which operation on which object failed.
public final class S3Client: Sendable {
    public let configuration: S3Configuration
    let http: HTTPClient
    let credentialsProvider: any CredentialsProvider
    let endpoint: S3Endpoint
    let signer: SigV4Signer
    /// Returns "now"; tests move it to simulate a drifting clock.
    let clock: @Sendable () -> Date
    /// Seconds to add to our clock, learned from a server that said RequestTimeTooSkewed.
    let clockCorrection = Mutex<Double>(0)

    public init(configuration: S3Configuration, credentials: any CredentialsProvider,
                http: HTTPClient = HTTPClient(), clock: @escaping @Sendable () -> Date = { Date() }) throws {
        self.configuration = configuration
        self.credentialsProvider = credentials
        self.http = http
        self.clock = clock
        self.endpoint = try S3Endpoint(configuration.endpointURL ?? "https://s3.\(configuration.region).amazonaws.com")
        self.signer = SigV4Signer(service: "s3", region: configuration.region)
    }

    /// One S3 request before signing.
    struct Call {
        var operation: String
        var method: String
        var bucket: String?
        var key: String?
        var query: [(name: String, value: String)] = []
        var headers = HTTPHeaders()
        var body: HTTPRequestBody = .empty
        var payloadSHA256: String = ContentDigest.emptySHA256

        var resource: String {
            guard let bucket else { return "/" }
            return "s3://\(bucket)" + (key.map { "/\($0)" } ?? "")
        }
    }

    func usesVirtualHost(bucket: String) -> Bool {
        switch configuration.addressingStyle {
        case .path: return false
        case .virtualHosted: return true
        case .automatic:
            return configuration.endpointURL == nil && S3Client.isDNSCompatible(bucket: bucket)
        }
    }

    static func isDNSCompatible(bucket: String) -> Bool {
        let allowed = bucket.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 }
        return allowed && (3...63).contains(bucket.count) && !bucket.hasPrefix("-") && !bucket.hasSuffix("-")
    }

    /// Host header and decoded path of a call.
    func location(of call: Call) -> (host: String, path: String) {
        var path = endpoint.basePath
        var hostPrefix: String?
        if let bucket = call.bucket {
            if usesVirtualHost(bucket: bucket) {
                hostPrefix = bucket
            } else {
                path += "/" + bucket
            }
        }
        if let key = call.key {
            path += "/" + key
        } else if call.bucket != nil && hostPrefix == nil {
            // Path-style bucket requests carry no trailing slash, as in botocore.
        } else {
            path += "/"
        }
        if path.isEmpty { path = "/" }
        return (endpoint.hostHeader(prefix: hostPrefix), path)
    }

    func url(host: String, path: String, query: [(name: String, value: String)]) -> String {
        var url = "\(endpoint.scheme)://\(host)\(SigV4Signer.percentEncode(path, keepingSlash: true))"
        if !query.isEmpty {
            url += "?" + query.map { item in
                let name = SigV4Signer.percentEncode(item.name)
                return item.value.isEmpty ? name : "\(name)=\(SigV4Signer.percentEncode(item.value))"
            }.joined(separator: "&")
        }
        return url
    }

    var now: Date { clock().addingTimeInterval(clockCorrection.withLock { $0 }) }

    /// A URL that lets anyone holding it GET (or PUT) an object until it expires.
    public func presignedURL(method: String = "GET", bucket: String, key: String, versionId: String? = nil,
                             expiresIn seconds: Int = 3600) throws -> String {
        let call = Call(operation: "Presign", method: method, bucket: bucket, key: key,
                        query: versionId.map { [("versionId", $0)] } ?? [])
        let (host, path) = location(of: call)
        let request = SigV4Signer.Request(method: method, host: host, path: path, query: call.query,
                                          payloadSHA256: SigV4Signer.unsignedPayload)
        let query = signer.presignedQuery(request, credentials: try credentialsProvider.credentials(), at: now,
                                          expires: seconds)
        return url(host: host, path: path, query: query)
    }

    /// Signs and sends `call`, retrying transient failures. `makeSink` is called before every
    /// attempt so a retried download starts from a clean slate. Returns successful and 304
    /// responses; turns every other status into a StorageError.
    func send(_ call: Call, makeSink: () throws -> HTTPResponseSink = { .collect(limit: 64 << 20) }) throws -> HTTPResponse {
        var generator = SystemRandomNumberGenerator()
        var skewCorrected = false
        var attempt = 0
        while true {
            attempt += 1
            let sentAt = now
            let request = try signedRequest(call, at: sentAt)
            let response: HTTPResponse
            do {
                response = try http.perform(request, sink: makeSink())
            } catch let failure as HTTPError {
                if failure.isTransient && attempt < configuration.retry.maximumAttempts {
                    pause(configuration.retry.delay(afterAttempt: attempt, using: &generator))
                    continue
                }
                throw StorageError.network(underlying: failure, operation: "\(call.operation) \(call.resource)",
                                           attempts: attempt)
            }
            if response.isSuccess || response.status == 304 {
                return response
            }
            var error = S3ErrorDocument(response)
            if error.code == "RequestTimeTooSkewed", !skewCorrected, let serverDate = error.serverDate {
                // Like the AWS SDKs: learn the server's clock once and try again.
                skewCorrected = true
                let skew = clock().timeIntervalSince(serverDate)
                clockCorrection.withLock { $0 = -skew }
                continue
            }
            if RetryPolicy.isRetryable(status: response.status, code: error.code),
               attempt < configuration.retry.maximumAttempts {
                pause(configuration.retry.delay(afterAttempt: attempt, using: &generator))
                continue
            }
            if call.method == "HEAD", error.code.isEmpty, error.status == 400 || error.status == 403,
               let explained = explainBodilessFailure(of: call) {
                error.code = explained.code
                error.message = explained.message
                error.requestId = explained.requestId ?? error.requestId
            }
            throw mapError(error, call: call, sentAt: sentAt, attempts: attempt)
        }
    }

    /// The HTTP request for `call`, signed for time `date`.
    func signedRequest(_ call: Call, at date: Date) throws -> HTTPRequest {
        let (host, path) = location(of: call)
        let credentials = try credentialsProvider.credentials()
        let signing = SigV4Signer.Request(method: call.method, host: host, path: path, query: call.query,
                                          headers: call.headers, payloadSHA256: call.payloadSHA256)
        let signature = signer.sign(signing, credentials: credentials, at: date)
        var headers = call.headers
        for field in signature.headers { headers.set(field.name, field.value) }
        return HTTPRequest(method: call.method, url: url(host: host, path: path, query: call.query),
                           headers: headers, body: call.body)
    }

    /// A HEAD error has no body, so "403" could be a wrong secret, a denied policy or a skewed
    /// clock. One GET that fails the same way (a one-byte range of the object, or the bucket's
    /// location) returns the error document that names the cause.
    func explainBodilessFailure(of call: Call) -> S3ErrorDocument? {
        var probe = Call(operation: call.operation, method: "GET", bucket: call.bucket, key: call.key, query: call.query)
        if call.key != nil {
            probe.headers.set("Range", "bytes=0-0")
        } else {
            probe.query = [("location", "")]
        }
        guard let request = try? signedRequest(probe, at: now),
              let response = try? http.perform(request, sink: .collect(limit: 1 << 16)),
              !response.isSuccess else { return nil }
        let document = S3ErrorDocument(response)
        return document.code.isEmpty ? nil : document
    }

    func mapError(_ error: S3ErrorDocument, call: Call, sentAt: Date, attempts: Int) -> StorageError {
        if error.status == 403 || error.code == "RequestTimeTooSkewed", let serverDate = error.serverDate {
            let skew = sentAt.timeIntervalSince(serverDate)
            if abs(skew) > configuration.clockSkewTolerance || error.code == "RequestTimeTooSkewed" {
                return .clockSkew(skewSeconds: skew, operation: call.operation, resource: call.resource)
            }
        }
        switch (error.status, error.code) {
        case (404, "NoSuchKey"), (404, "NoSuchVersion"), (404, ""), (404, "NotFound"):
            return .notFound(key: call.key ?? call.resource, versionId: call.query.first { $0.name == "versionId" }?.value,
                             store: "s3://\(call.bucket ?? "")")
        case (412, _):
            return .preconditionFailed(operation: call.operation, resource: call.resource)
        default:
            var message = error.message
            if attempts > 1 { message += " (after \(attempts) attempts)" }
            return .s3(status: error.status, code: error.code.isEmpty ? "HTTP\(error.status)" : error.code,
                       message: message, operation: call.operation, resource: call.resource, requestId: error.requestId)
        }
    }

    func pause(_ seconds: Double) {
        guard seconds > 0 else { return }
        Thread.sleep(forTimeInterval: seconds)
    }
}

/// S3's `<Error><Code/><Message/><RequestId/></Error>` and the response's Date.
struct S3ErrorDocument {
    var status: Int
    var code: String
    var message: String
    var requestId: String?
    var serverDate: Date?

    init(_ response: HTTPResponse) {
        status = response.status
        let root = XMLElementNode.parse(response.body)
        code = root?.text("Code") ?? ""
        message = root?.text("Message") ?? (response.body.isEmpty ? "no error document" : String(response.bodyText.prefix(200)))
        requestId = root?.text("RequestId") ?? response.headers["x-amz-request-id"]
        serverDate = response.headers["Date"].flatMap(HTTPDate.parse)
    }
}

/// RFC 1123 dates (`Wed, 25 Nov 2026 06:30:00 GMT`) and ISO 8601 (`2026-11-25T06:30:00Z`).
enum HTTPDate {
    static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    static func parse(_ text: String) -> Date? {
        // "Wed, 25 Nov 2026 06:30:00 GMT"
        let fields = text.split(separator: " ")
        guard fields.count >= 5, let day = Int(fields[1]),
              let month = months.firstIndex(of: fields[2].lowercased()), let year = Int(fields[3]) else { return nil }
        return make(year: year, month: month + 1, day: day, time: fields[4])
    }

    static func parseISO8601(_ text: String) -> Date? {
        // "2026-11-25T06:30:00Z" or with fractional seconds
        let halves = text.split(separator: "T")
        guard halves.count == 2 else { return nil }
        let date = halves[0].split(separator: "-").compactMap { Int($0) }
        guard date.count == 3 else { return nil }
        return make(year: date[0], month: date[1], day: date[2], time: halves[1].prefix(8))
    }

    private static func make(year: Int, month: Int, day: Int, time: Substring) -> Date? {
        let clock = time.split(separator: ":").compactMap { Int($0) }
        guard clock.count == 3 else { return nil }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(clock[0])
        parts.tm_min = Int32(clock[1])
        parts.tm_sec = Int32(clock[2])
        return Date(timeIntervalSince1970: TimeInterval(timegm(&parts)))
    }
}
