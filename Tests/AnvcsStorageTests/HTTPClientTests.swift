import AnvcsHTTP
import Foundation
import Testing

/// AnvcsHTTP on real sockets: proxies, connection reuse, streamed bodies, errors.
struct HTTPClientTests {
    @Test func proxySettingsFollowTheConventionalVariables() {
        let settings = ProxySettings(environment: ["HTTPS_PROXY": "http://secure:3128", "http_proxy": "http://plain:3128",
                                                   "HTTP_PROXY": "http://ignored:1", "NO_PROXY": "localhost, .internal.example"])
        #expect(settings.proxy(forScheme: "https") == "http://secure:3128")
        #expect(settings.proxy(forScheme: "http") == "http://plain:3128")
        #expect(settings.bypasses(host: "localhost"))
        #expect(settings.bypasses(host: "s3.internal.example"))
        #expect(settings.bypasses(host: "internal.example"))
        #expect(!settings.bypasses(host: "s3.amazonaws.com"))
        #expect(ProxySettings(environment: ["ALL_PROXY": "http://all:1"]).proxy(forScheme: "https") == "http://all:1")
        #expect(ProxySettings(environment: ["HTTPS_PROXY": ""]).httpsProxy == nil)
    }

    @Test func requestsGoThroughTheProxyUnlessExcluded() throws {
        let proxy = try FaultServer()
        defer { proxy.stop() }
        var configuration = HTTPClient.Configuration()
        configuration.proxy = ProxySettings(environment: ["HTTP_PROXY": proxy.endpoint, "NO_PROXY": "direct.invalid"])
        configuration.connectTimeout = 3
        let client = HTTPClient(configuration: configuration)
        let response = try client.perform(HTTPRequest(method: "GET", url: "http://bucket.example.invalid/key?x=1"))
        #expect(response.status == 200)
        #expect(response.bodyText == "proxied http://bucket.example.invalid/key?x=1")
        // Excluded by NO_PROXY: resolved directly, and .invalid never resolves.
        #expect(throws: HTTPError.self) {
            try client.perform(HTTPRequest(method: "GET", url: "http://direct.invalid/key"))
        }
    }

    @Test func sequentialRequestsReuseTheConnection() throws {
        let server = try FaultServer()
        defer { server.stop() }
        let client = HTTPClient()
        let first = try client.perform(HTTPRequest(method: "GET", url: server.endpoint + "/plain/a"))
        let second = try client.perform(HTTPRequest(method: "GET", url: server.endpoint + "/plain/b"))
        #expect(first.newConnections == 1)
        #expect(second.newConnections == 0)
    }

    @Test func responseBodiesStreamInChunksAndErrorsAreCollected() throws {
        let server = try FaultServer()
        defer { server.stop() }
        let client = HTTPClient()
        var chunks = 0
        var total = 0
        let response = try client.perform(HTTPRequest(method: "GET", url: server.endpoint + "/plain/x"),
                                          sink: .stream { chunk in chunks += 1; total += chunk.count })
        #expect(response.body.isEmpty)
        #expect(total == 256 * 1024 && chunks >= 1)
        let refused = try client.perform(HTTPRequest(method: "GET", url: server.endpoint + "/signature/x"),
                                         sink: .stream { _ in Issue.record("an error body reached the stream") })
        #expect(refused.status == 403)
        #expect(refused.bodyText.contains("SignatureDoesNotMatch"))
        #expect(throws: HTTPError.self) {
            try client.perform(HTTPRequest(method: "GET", url: server.endpoint + "/plain/x"), sink: .collect(limit: 1000))
        }
    }

    @Test func aMissingRequestBodyFileIsReported() throws {
        let server = try FaultServer()
        defer { server.stop() }
        do {
            try HTTPClient().perform(HTTPRequest(method: "PUT", url: server.endpoint + "/plain/x",
                                                 body: .file(path: "/nonexistent/file", offset: 0, length: 10)))
            Issue.record("no error for a missing body file")
        } catch HTTPError.requestBodyUnreadable(let path, let code) {
            #expect(path == "/nonexistent/file" && code == ENOENT)
        }
    }
}
