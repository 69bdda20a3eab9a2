import CCurlShim
import CLibcurl

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Owns one libcurl easy handle (and its connection cache); freed in deinit.
/// Used by one thread at a time: the client's pool hands it out exclusively.
final class CurlEasyHandle: @unchecked Sendable {
    private let handle: UnsafeMutableRawPointer

    init() {
        guard let handle = curl_easy_init() else {
            fatalError("curl_easy_init returned NULL: out of memory")
        }
        self.handle = handle
    }

    deinit {
        curl_easy_cleanup(handle)
    }

    func perform(_ request: HTTPRequest, sink: HTTPResponseSink,
                 configuration: HTTPClient.Configuration) throws(HTTPError) -> HTTPResponse {
        // Reset keeps live connections, the DNS cache and TLS sessions; it clears options only.
        curl_easy_reset(handle)
        let transfer = try Transfer(request: request, sink: sink)
        defer { transfer.close() }

        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headerList) }
        for field in request.headers {
            headerList = curl_slist_append(headerList, "\(field.name): \(field.value)")
        }
        // Expect: 100-continue costs a round trip (or a one-second wait on servers that ignore it).
        headerList = curl_slist_append(headerList, "Expect:")
        if request.headers["Content-Type"] == nil, request.body != .empty {
            headerList = curl_slist_append(headerList, "Content-Type:")
        }

        let context = Unmanaged.passUnretained(transfer).toOpaque()
        try set(CURLOPT_URL, request.url, "URL")
        try set(CURLOPT_HTTPHEADER, headerList)
        try set(CURLOPT_NOSIGNAL, 1, "NOSIGNAL")
        try set(CURLOPT_USERAGENT, configuration.userAgent, "USERAGENT")
        try set(CURLOPT_CONNECTTIMEOUT_MS, Int(configuration.connectTimeout * 1000), "CONNECTTIMEOUT_MS")
        try set(CURLOPT_LOW_SPEED_LIMIT, configuration.stallBytesPerSecond, "LOW_SPEED_LIMIT")
        try set(CURLOPT_LOW_SPEED_TIME, configuration.stallTimeout, "LOW_SPEED_TIME")
        if let total = configuration.totalTimeout {
            try set(CURLOPT_TIMEOUT_MS, Int(total * 1000), "TIMEOUT_MS")
        }
        try set(CURLOPT_BUFFERSIZE, configuration.receiveBufferSize, "BUFFERSIZE")
        try set(CURLOPT_UPLOAD_BUFFERSIZE, configuration.sendBufferSize, "UPLOAD_BUFFERSIZE")
        try set(CURLOPT_TCP_KEEPALIVE, 1, "TCP_KEEPALIVE")
        try set(CURLOPT_SSL_VERIFYPEER, 1, "SSL_VERIFYPEER")
        try set(CURLOPT_SSL_VERIFYHOST, 2, "SSL_VERIFYHOST")
        if let bundle = configuration.caBundlePath {
            try set(CURLOPT_CAINFO, bundle, "CAINFO")
        }
        try applyProxy(configuration.proxy, url: request.url)

        try check(anvcs_curl_setopt_data_callback(handle, CURLOPT_HEADERFUNCTION, curlHeaderCallback), "HEADERFUNCTION")
        try check(anvcs_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, context), "HEADERDATA")
        try check(anvcs_curl_setopt_data_callback(handle, CURLOPT_WRITEFUNCTION, curlWriteCallback), "WRITEFUNCTION")
        try check(anvcs_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, context), "WRITEDATA")

        let method = request.method.uppercased()
        let hasBody = request.body != .empty
        switch method {
        case "GET" where !hasBody:
            try set(CURLOPT_HTTPGET, 1, "HTTPGET")
        case "HEAD":
            try set(CURLOPT_NOBODY, 1, "NOBODY")
        case "PUT":
            try set(CURLOPT_UPLOAD, 1, "UPLOAD")
            try check(anvcs_curl_setopt_offset(handle, CURLOPT_INFILESIZE_LARGE, curl_off_t(request.body.length)), "INFILESIZE_LARGE")
        default:
            if hasBody || method == "POST" {
                try set(CURLOPT_POST, 1, "POST")
                try check(anvcs_curl_setopt_offset(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.length)), "POSTFIELDSIZE_LARGE")
            }
            if method != "POST" && method != "GET" {
                try set(CURLOPT_CUSTOMREQUEST, method, "CUSTOMREQUEST")
            }
        }
        if hasBody || method == "PUT" || method == "POST" {
            try check(anvcs_curl_setopt_data_callback(handle, CURLOPT_READFUNCTION, curlReadCallback), "READFUNCTION")
            try check(anvcs_curl_setopt_pointer(handle, CURLOPT_READDATA, context), "READDATA")
            try check(anvcs_curl_setopt_seek_callback(handle, curlSeekCallback), "SEEKFUNCTION")
            try check(anvcs_curl_setopt_pointer(handle, CURLOPT_SEEKDATA, context), "SEEKDATA")
        }

        let code = curl_easy_perform(handle)
        if let failure = transfer.failure {
            throw failure
        }
        guard code == CURLE_OK else {
            throw .transport(curlCode: Int(code.rawValue), reason: CurlGlobal.reason(code) + transfer.errorDetail,
                             method: method, url: request.url)
        }
        var status = 0
        _ = anvcs_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        var connects = 0
        _ = anvcs_curl_getinfo_long(handle, CURLINFO_NUM_CONNECTS, &connects)
        return HTTPResponse(status: status, headers: HTTPHeaders(transfer.responseHeaders), body: transfer.collected,
                            newConnections: connects)
    }

    private func applyProxy(_ proxy: ProxySettings, url: String) throws(HTTPError) {
        let scheme = url.prefix { $0 != ":" }
        // An empty CURLOPT_PROXY disables libcurl's own reading of the environment.
        try set(CURLOPT_PROXY, proxy.proxy(forScheme: String(scheme)) ?? "", "PROXY")
        if let noProxy = proxy.noProxy {
            try set(CURLOPT_NOPROXY, noProxy, "NOPROXY")
        }
    }

    private func set(_ option: CURLoption, _ value: Int, _ name: String) throws(HTTPError) {
        try check(anvcs_curl_setopt_long(handle, option, value), name)
    }

    private func set(_ option: CURLoption, _ value: String, _ name: String) throws(HTTPError) {
        try check(anvcs_curl_setopt_string(handle, option, value), name)
    }

    private func set(_ option: CURLoption, _ list: UnsafeMutablePointer<curl_slist>?) throws(HTTPError) {
        try check(anvcs_curl_setopt_slist(handle, option, list), "HTTPHEADER")
    }

    private func check(_ code: CURLcode, _ name: String) throws(HTTPError) {
        guard code == CURLE_OK else {
            throw .setupFailed(option: "CURLOPT_" + name, curlCode: Int(code.rawValue), reason: CurlGlobal.reason(code))
        }
    }
}
