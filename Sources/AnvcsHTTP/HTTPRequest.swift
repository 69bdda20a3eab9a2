/// What a request sends. A file region is read while sending, never loaded whole.
public enum HTTPRequestBody: Sendable, Equatable {
    case empty
    case bytes([UInt8])
    /// `length` bytes of the file at `path`, starting at `offset`.
    case file(path: String, offset: UInt64, length: UInt64)
    /// `prefix`, then `length` bytes of the file at `path` from its start, then `suffix`: a
    /// multipart/form-data upload whose file part is streamed.
    case framedFile(prefix: [UInt8], path: String, length: UInt64, suffix: [UInt8])

    public var length: UInt64 {
        switch self {
        case .empty: return 0
        case .bytes(let bytes): return UInt64(bytes.count)
        case .file(_, _, let length): return length
        case .framedFile(let prefix, _, let length, let suffix): return UInt64(prefix.count) + length + UInt64(suffix.count)
        }
    }
}

public struct HTTPRequest: Sendable {
    public var method: String
    /// An absolute http or https URL, already percent-encoded.
    public var url: String
    public var headers: HTTPHeaders
    public var body: HTTPRequestBody

    public init(method: String, url: String, headers: HTTPHeaders = HTTPHeaders(), body: HTTPRequestBody = .empty) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}

public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    /// The body when it was collected: always for statuses outside 200-299 (up to a limit),
    /// and for successes when the caller asked to collect.
    public var body: [UInt8]
    /// Connections opened for this exchange: 0 when a pooled connection was reused.
    public var newConnections: Int

    public init(status: Int, headers: HTTPHeaders, body: [UInt8], newConnections: Int = 0) {
        self.status = status
        self.headers = headers
        self.body = body
        self.newConnections = newConnections
    }

    public var isSuccess: Bool { (200..<300).contains(status) }
    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// Where the body of a successful (2xx) response goes. Error bodies are always collected.
public enum HTTPResponseSink {
    /// Keep the body in memory, failing beyond `limit` bytes.
    case collect(limit: Int)
    /// Hand every chunk to a consumer as it arrives; a thrown error aborts the transfer.
    case stream((UnsafeRawBufferPointer) throws -> Void)
}
