/// Which proxy a request goes through, from the conventional environment variables.
///
/// libcurl reads only lower-case `http_proxy` for plain HTTP (a guard against "httpoxy"); users
/// expect `HTTP_PROXY` too, so the caller resolves the variables here and libcurl's own
/// environment lookup is switched off.
public struct ProxySettings: Sendable, Equatable {
    public var httpProxy: String?
    public var httpsProxy: String?
    /// Comma-separated hosts, domains (`.example.com`), or `*`, in libcurl's `NO_PROXY` syntax.
    public var noProxy: String?

    public init(httpProxy: String? = nil, httpsProxy: String? = nil, noProxy: String? = nil) {
        self.httpProxy = httpProxy
        self.httpsProxy = httpsProxy
        self.noProxy = noProxy
    }

    public static let none = ProxySettings()

    /// Reads `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY` (either case; lower case wins,
    /// as in curl and Python's urllib). Empty values count as unset.
    public init(environment: [String: String]) {
        func lookup(_ name: String) -> String? {
            for key in [name.lowercased(), name.uppercased()] {
                if let value = environment[key], !value.isEmpty { return value }
            }
            return nil
        }
        let all = lookup("ALL_PROXY")
        self.init(httpProxy: lookup("HTTP_PROXY") ?? all,
                  httpsProxy: lookup("HTTPS_PROXY") ?? all,
                  noProxy: lookup("NO_PROXY"))
    }

    /// The proxy for a URL's scheme, ignoring `noProxy` (libcurl applies that list itself).
    public func proxy(forScheme scheme: String) -> String? {
        scheme.lowercased() == "https" ? httpsProxy : httpProxy
    }

    /// Whether `host` is excluded by `noProxy`, using the same rules as libcurl.
    public func bypasses(host: String) -> Bool {
        guard let noProxy else { return false }
        let host = host.lowercased()
        for rawEntry in noProxy.split(separator: ",") {
            var entry = rawEntry.trimmingWhitespace().lowercased()
            if entry == "*" { return true }
            if entry.hasPrefix(".") { entry.removeFirst() }
            if entry.isEmpty { continue }
            if host == entry || host.hasSuffix("." + entry) { return true }
        }
        return false
    }
}

extension Substring {
    func trimmingWhitespace() -> String {
        String(drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
    }
}
