/// The one error type of AnvcsHTTP.
public enum HTTPError: Error, Sendable, CustomStringConvertible {
    /// libcurl could not complete the exchange (DNS, connect, TLS, reset, timeout...).
    case transport(curlCode: Int, reason: String, method: String, url: String)
    /// A collected body grew past its limit.
    case responseTooLarge(limit: Int, method: String, url: String)
    /// The response consumer threw; the transfer was aborted.
    case consumerFailed(underlying: any Error, method: String, url: String)
    /// The request body's file could not be opened or read.
    case requestBodyUnreadable(path: String, errno: Int32)
    /// libcurl refused an option (a libcurl too old or built without a feature).
    case setupFailed(option: String, curlCode: Int, reason: String)

    /// Whether trying again could help: network faults and timeouts, not bad input.
    public var isTransient: Bool {
        guard case .transport(let code, _, _, _) = self else { return false }
        return HTTPError.transientCurlCodes.contains(code)
    }

    // CURLE_COULDNT_RESOLVE_PROXY(5), COULDNT_RESOLVE_HOST(6), COULDNT_CONNECT(7), WEIRD_SERVER_REPLY(8),
    // HTTP2(16), PARTIAL_FILE(18), OPERATION_TIMEDOUT(28), SSL_CONNECT_ERROR(35), GOT_NOTHING(52),
    // SEND_ERROR(55), RECV_ERROR(56), SEND_FAIL_REWIND(65), HTTP2_STREAM(92), HTTP3(95).
    static let transientCurlCodes: Set<Int> = [5, 6, 7, 8, 16, 18, 28, 35, 52, 55, 56, 65, 92, 95]

    public var description: String {
        switch self {
        case .transport(let code, let reason, let method, let url):
            return "\(method) \(url) failed: \(reason) (curl error \(code))"
        case .responseTooLarge(let limit, let method, let url):
            return "\(method) \(url): response body larger than \(limit) bytes"
        case .consumerFailed(let underlying, let method, let url):
            return "\(method) \(url): writing the response body failed: \(underlying)"
        case .requestBodyUnreadable(let path, let code):
            return "cannot read request body from \(path): errno \(code)"
        case .setupFailed(let option, let code, let reason):
            return "libcurl refused \(option): \(reason) (curl error \(code))"
        }
    }
}
