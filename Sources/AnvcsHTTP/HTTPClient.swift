import CCurlShim
import CLibcurl
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A blocking HTTP client over a pool of libcurl easy handles. Safe to share between threads:
/// each call borrows a handle for its duration, so concurrent calls run on separate connections
/// and sequential calls reuse them.
public final class HTTPClient: Sendable {
    public struct Configuration: Sendable {
        /// Seconds allowed to establish a connection (TCP and TLS).
        public var connectTimeout: Double = 10
        /// A transfer slower than `stallBytesPerSecond` for `stallTimeout` seconds is aborted.
        public var stallTimeout: Int = 30
        public var stallBytesPerSecond: Int = 1
        /// Seconds for a whole exchange, or nil for no limit (large transfers).
        public var totalTimeout: Double?
        public var proxy: ProxySettings = .none
        /// A PEM bundle replacing the system's CA store, for private endpoints.
        public var caBundlePath: String?
        public var userAgent: String = "anvcs"
        /// The most idle handles (and so connections) kept for reuse.
        public var maximumIdleHandles: Int = 16
        /// Per-transfer receive and send buffer sizes; larger buffers mean fewer callbacks.
        public var receiveBufferSize: Int = 512 * 1024
        public var sendBufferSize: Int = 1024 * 1024

        public init() {}
    }

    public let configuration: Configuration
    private let idleHandles = Mutex<[CurlEasyHandle]>([])

    public init(configuration: Configuration = Configuration()) {
        CurlGlobal.ensureInitialized()
        self.configuration = configuration
    }

    /// Sends `request` and returns the response. A successful body goes to `sink`; any other
    /// status is returned, not thrown, with its body collected (up to 1 MiB).
    @discardableResult
    public func perform(_ request: HTTPRequest, sink: HTTPResponseSink = .collect(limit: 16 << 20)) throws(HTTPError) -> HTTPResponse {
        let handle = idleHandles.withLock { $0.popLast() } ?? CurlEasyHandle()
        var keepHandle = true
        defer {
            if keepHandle {
                let limit = configuration.maximumIdleHandles
                idleHandles.withLock { handles in
                    if handles.count < limit { handles.append(handle) }
                }
            }
        }
        do {
            return try handle.perform(request, sink: sink, configuration: configuration)
        } catch {
            // A handle whose transfer failed may hold a broken connection: let it go.
            keepHandle = false
            throw error
        }
    }
}

/// libcurl's process-wide initialization, done once before the first handle.
enum CurlGlobal {
    private static let initialized: Bool = {
        curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK
    }()

    static func ensureInitialized() {
        _ = initialized
    }

    static func reason(_ code: CURLcode) -> String {
        String(cString: curl_easy_strerror(code))
    }
}
