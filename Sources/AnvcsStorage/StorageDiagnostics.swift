import AnvcsHTTP
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The probes behind `git anvcs storage check` and `doctor`: each says in one line whether a
/// part of the path to the configured store works (configuration, credentials, proxy, DNS, TLS,
/// clock, bucket, versioning, a PUT-GET-DELETE round trip), with details for `--verbose`.
/// Probes that depend on a failed one are skipped rather than piled up as more failures.
public struct StorageDiagnostics: Sendable {
    public let settings: StorageSettings
    /// Seconds of clock difference tolerated before `clock` fails (S3 refuses beyond 15 minutes).
    public var clockSkewLimit: Double = 900
    public var clock: @Sendable () -> Date = { Date() }

    public init(settings: StorageSettings) {
        self.settings = settings
    }

    /// Every check for the configured mode, in order.
    public func run() -> [StorageCheck] {
        switch settings.mode {
        case .local: return checks(for: .local, prefix: "")
        case .nfs: return checks(for: .nfs, prefix: "")
        case .s3: return checks(for: .s3, prefix: "")
        case .ipfs: return checks(for: .ipfs, prefix: "")
        case .hybrid:
            guard let fallback = settings.fallback, fallback != settings.primary else {
                return [StorageCheck(name: "config", status: .failed,
                                     summary: "storage.mode is hybrid but storage.fallback is unset or equals storage.primary",
                                     hint: "set storage.fallback to another store, e.g. local")]
            }
            return checks(for: settings.primary, prefix: "primary.") + checks(for: fallback, prefix: "fallback.")
        }
    }

    func checks(for kind: StorageSettings.StoreKind, prefix: String) -> [StorageCheck] {
        var results: [StorageCheck]
        switch kind {
        case .local: results = directoryChecks(path: settings.localPath, kind: kind)
        case .nfs:
            guard let path = settings.nfsPath else {
                results = [StorageCheck(name: "config", status: .failed, summary: "adapters.nfs.path is not set",
                                        hint: "set adapters.nfs.path to the mounted directory")]
                break
            }
            results = directoryChecks(path: path, kind: kind)
        case .s3: results = s3Checks()
        case .ipfs: results = ipfsChecks()
        }
        return results.map { check in
            var named = check
            named.name = prefix + check.name
            return named
        }
    }

    // MARK: directories

    func directoryChecks(path: String, kind: StorageSettings.StoreKind) -> [StorageCheck] {
        var results = [StorageCheck(name: "config", status: .ok, summary: "\(kind.rawValue) store at \(path)")]
        var info = stat()
        if stat(path, &info) != 0 {
            let reason = String(cString: strerror(errno))
            results.append(StorageCheck(name: "directory", status: kind == .local ? .ok : .failed,
                                        summary: kind == .local ? "\(path) does not exist yet; it is created on first upload"
                                                                : "\(path): \(reason)",
                                        hint: kind == .nfs ? "mount the share, or correct adapters.nfs.path" : nil))
            if kind == .nfs { return results + [skipped("round-trip", because: "directory")] }
        } else if (info.st_mode & S_IFMT) != S_IFDIR {
            results.append(StorageCheck(name: "directory", status: .failed, summary: "\(path) is not a directory"))
            return results + [skipped("round-trip", because: "directory")]
        } else {
            var space = statvfs()
            let free = statvfs(path, &space) == 0 ? UInt64(space.f_bavail) * UInt64(space.f_frsize) : nil
            results.append(StorageCheck(name: "directory", status: .ok, summary: "\(path) exists",
                                        details: free.map { ["\(StorageDiagnostics.bytes($0)) free"] } ?? []))
        }
        let store: any BlobStore = kind == .local ? LocalBlobStore(root: path) : NFSBlobStore(mountPath: path)
        results.append(roundTrip(store: store, label: path))
        return results
    }

    // MARK: S3

    func s3Checks() -> [StorageCheck] {
        var results: [StorageCheck] = []
        guard let bucket = settings.s3.bucket else {
            return [StorageCheck(name: "config", status: .failed, summary: "adapters.s3.bucket is not set",
                                 hint: "set adapters.s3.bucket in ai-vcs.config.yaml (or ANVCS_ADAPTERS_S3_BUCKET)")]
        }
        let client: S3Client
        do {
            client = try diagnosticClient()
        } catch {
            return [StorageCheck(name: "config", status: .failed, summary: "\(error)")]
        }
        let endpoint = client.endpoint
        let host = client.usesVirtualHost(bucket: bucket) ? "\(bucket).\(endpoint.host)" : endpoint.host
        let base = "\(endpoint.scheme)://\(endpoint.hostHeader(prefix: client.usesVirtualHost(bucket: bucket) ? bucket : nil))"
        results.append(StorageCheck(
            name: "config", status: .ok,
            summary: "s3://\(bucket)/\(settings.s3.prefix) in \(client.configuration.region) via \(base)",
            details: ["endpoint: \(client.configuration.endpointURL ?? "AWS (https://s3.\(client.configuration.region).amazonaws.com)")",
                      "addressing: \(client.usesVirtualHost(bucket: bucket) ? "virtual-hosted" : "path-style")",
                      "multipart: from \(StorageDiagnostics.bytes(client.configuration.multipartThreshold)) in parts of "
                          + "\(StorageDiagnostics.bytes(client.configuration.partSize)), \(client.configuration.maximumConcurrentParts) at once"]))

        // Credentials.
        do {
            let credentials = try client.credentialsProvider.credentials()
            var details = ["access key id: \(StorageDiagnostics.masked(credentials.accessKeyId))"]
            if let expiration = credentials.expiration { details.append("expires: \(expiration)") }
            if credentials.sessionToken != nil { details.append("session token: present") }
            results.append(StorageCheck(name: "credentials", status: .ok, summary: "from \(credentials.source)", details: details))
        } catch {
            results.append(StorageCheck(name: "credentials", status: .failed, summary: "\(error)",
                                        hint: "export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, set AWS_PROFILE "
                                            + "(or adapters.s3.profile), or run where a web identity or container role is available"))
        }

        // Proxy.
        let proxies = ProxySettings(environment: settings.environment)
        if let proxy = proxies.proxy(forScheme: endpoint.scheme), !proxies.bypasses(host: host) {
            results.append(StorageCheck(name: "proxy", status: .ok, summary: "requests to \(host) go through \(StorageDiagnostics.redactedURL(proxy))",
                                        details: ["NO_PROXY: \(proxies.noProxy ?? "(unset)")"]))
        } else {
            let why = proxies.proxy(forScheme: endpoint.scheme) == nil ? "no proxy variable set for \(endpoint.scheme)"
                                                                       : "\(host) is excluded by NO_PROXY"
            results.append(StorageCheck(name: "proxy", status: .ok, summary: "none (\(why))"))
        }

        // DNS.
        let bareHost = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        switch StorageDiagnostics.resolve(bareHost) {
        case .success(let addresses):
            results.append(StorageCheck(name: "dns", status: .ok, summary: "\(bareHost) resolves to \(addresses.prefix(3).joined(separator: ", "))",
                                        details: addresses.count > 3 ? ["all addresses: \(addresses.joined(separator: ", "))"] : []))
        case .failure(let reason):
            let viaProxy = proxies.proxy(forScheme: endpoint.scheme) != nil && !proxies.bypasses(host: host)
            results.append(StorageCheck(name: "dns", status: viaProxy ? .warning : .failed, summary: "\(bareHost) does not resolve: \(reason)",
                                        hint: viaProxy ? "the proxy resolves it; this only matters without the proxy"
                                                       : "check the endpoint name and this machine's resolver"))
            if !viaProxy {
                return results + ["tls", "clock", "bucket", "versioning", "round-trip"].map { skipped($0, because: "dns") }
            }
        }

        // TLS and clock, from one unsigned request to the endpoint.
        let probeURL = base + "/"
        let started = Date()
        do {
            let response = try client.http.perform(HTTPRequest(method: "GET", url: probeURL), sink: .collect(limit: 1 << 20))
            let milliseconds = Int(Date().timeIntervalSince(started) * 1000)
            if endpoint.scheme == "https" {
                results.append(StorageCheck(name: "tls", status: .ok, summary: "certificate of \(bareHost) verified",
                                            details: ["GET \(probeURL): HTTP \(response.status) in \(milliseconds) ms"]))
            } else {
                results.append(StorageCheck(name: "tls", status: .warning, summary: "not used: the endpoint is plain http",
                                            details: ["GET \(probeURL): HTTP \(response.status) in \(milliseconds) ms"],
                                            hint: "fine on 127.0.0.1 or a private network; use https anywhere else"))
            }
            results.append(clockCheck(serverDate: response.headers["Date"], sentAt: started, host: bareHost))
        } catch {
            let tlsFailure = StorageDiagnostics.isTLSFailure(error)
            results.append(StorageCheck(name: "tls", status: .failed,
                                        summary: tlsFailure ? "TLS with \(bareHost) failed: \(error)" : "cannot reach \(probeURL): \(error)",
                                        hint: tlsFailure ? "if the endpoint uses a private CA, set AWS_CA_BUNDLE to its PEM bundle"
                                                         : "check the endpoint, the network and the proxy"))
            return results + ["clock", "bucket", "versioning", "round-trip"].map { skipped($0, because: "tls") }
        }

        // Bucket, versioning, round trip (signed).
        do {
            if try client.bucketExists(bucket) {
                results.append(StorageCheck(name: "bucket", status: .ok, summary: "\(bucket) exists and is reachable with these credentials"))
            } else {
                results.append(StorageCheck(name: "bucket", status: .failed, summary: "\(bucket) does not exist",
                                            hint: "create it (aws s3 mb s3://\(bucket)) or correct adapters.s3.bucket"))
                return results + [skipped("versioning", because: "bucket"), skipped("round-trip", because: "bucket")]
            }
        } catch {
            results.append(StorageCheck(name: "bucket", status: .failed, summary: "\(error)", hint: StorageDiagnostics.hint(for: error)))
            return results + [skipped("versioning", because: "bucket"), skipped("round-trip", because: "bucket")]
        }
        do {
            let state = try client.bucketVersioning(bucket)
            if state == "Enabled" {
                results.append(StorageCheck(name: "versioning", status: .ok, summary: "enabled on \(bucket)"))
            } else {
                results.append(StorageCheck(name: "versioning", status: .failed,
                                            summary: "\(state?.lowercased() ?? "never enabled") on \(bucket): pins need a VersionId",
                                            hint: "aws s3api put-bucket-versioning --bucket \(bucket) --versioning-configuration Status=Enabled"))
            }
        } catch {
            results.append(StorageCheck(name: "versioning", status: .failed, summary: "\(error)", hint: StorageDiagnostics.hint(for: error)))
        }
        results.append(s3RoundTrip(client: client, bucket: bucket))
        return results
    }

    /// The client the checks use: the configured one, but quick to give up.
    func diagnosticClient() throws -> S3Client {
        let configured = try BlobStoreFactory.makeS3Client(settings)
        var configuration = configured.configuration
        configuration.retry = RetryPolicy(maximumAttempts: 2, baseDelay: 0.2)
        var httpConfiguration = configured.http.configuration
        httpConfiguration.connectTimeout = 5
        httpConfiguration.stallTimeout = 10
        httpConfiguration.totalTimeout = 30
        let http = HTTPClient(configuration: httpConfiguration)
        return try S3Client(configuration: configuration, credentials: configured.credentialsProvider, http: http, clock: clock)
    }

    func clockCheck(serverDate: String?, sentAt: Date, host: String) -> StorageCheck {
        guard let serverDate, let server = HTTPDate.parse(serverDate) else {
            return StorageCheck(name: "clock", status: .warning, summary: "\(host) sent no Date header; skew unknown")
        }
        // The server's Date has one-second resolution and is stamped during the exchange.
        let skew = sentAt.timeIntervalSince(server)
        let rounded = Int(skew.rounded())
        let words = abs(skew) < 2 ? "in step with \(host) (within the Date header's 1 s resolution)"
                                  : "\(abs(rounded)) s \(rounded > 0 ? "ahead of" : "behind") \(host)"
        if abs(skew) > clockSkewLimit {
            return StorageCheck(name: "clock", status: .failed, summary: "this machine's clock is \(words)",
                                details: ["server Date: \(serverDate)"], hint: "S3 refuses signatures beyond 15 minutes of skew: fix the clock (NTP)")
        }
        if abs(skew) > 60 {
            return StorageCheck(name: "clock", status: .warning, summary: "this machine's clock is \(words)",
                                details: ["server Date: \(serverDate)"], hint: "sync the clock (NTP) before the drift reaches 15 minutes")
        }
        return StorageCheck(name: "clock", status: .ok, summary: words, details: ["server Date: \(serverDate)"])
    }

    func s3RoundTrip(client: S3Client, bucket: String) -> StorageCheck {
        let prefix = settings.s3.prefix.isEmpty || settings.s3.prefix.hasSuffix("/") ? settings.s3.prefix : settings.s3.prefix + "/"
        let key = prefix + ".anvcs-check/" + UUID().uuidString.lowercased()
        let payload = Array("anvcs storage check \(UUID().uuidString)\n".utf8)
        var details: [String] = ["object: s3://\(bucket)/\(key)"]
        let started = Date()
        do {
            let put = try client.putObject(bucket: bucket, key: key, bytes: payload, condition: .ifAbsent)
            details.append("PUT: version \(put.versionId ?? "(none)")")
            let (back, _) = try client.getObjectBytes(bucket: bucket, key: key, versionId: put.versionId)
            guard back == payload else {
                try? client.deleteObject(bucket: bucket, key: key, versionId: put.versionId)
                return StorageCheck(name: "round-trip", status: .failed, summary: "GET returned other bytes than the PUT stored",
                                    details: details)
            }
            details.append("GET: \(back.count) bytes, identical")
            try client.deleteObject(bucket: bucket, key: key, versionId: put.versionId)
            details.append("DELETE: version removed")
            let milliseconds = Int(Date().timeIntervalSince(started) * 1000)
            return StorageCheck(name: "round-trip", status: .ok, summary: "PUT, GET and DELETE of a test object in \(milliseconds) ms",
                                details: details)
        } catch {
            return StorageCheck(name: "round-trip", status: .failed, summary: "\(error)", details: details,
                                hint: StorageDiagnostics.hint(for: error))
        }
    }

    // MARK: IPFS

    func ipfsChecks() -> [StorageCheck] {
        let store: IPFSBlobStore
        do {
            store = try IPFSBlobStore(api: settings.ipfsAPI, http: BlobStoreFactory.makeHTTPClient(settings),
                                      retry: RetryPolicy(maximumAttempts: 2, baseDelay: 0.2))
        } catch {
            return [StorageCheck(name: "config", status: .failed, summary: "\(error)")]
        }
        var results = [StorageCheck(name: "config", status: .ok, summary: "Kubo RPC API at \(store.apiURL)")]
        let host = URLComponents(string: store.apiURL)?.host ?? store.apiURL
        switch StorageDiagnostics.resolve(host) {
        case .success(let addresses):
            results.append(StorageCheck(name: "dns", status: .ok, summary: "\(host) resolves to \(addresses.prefix(3).joined(separator: ", "))"))
        case .failure(let reason):
            results.append(StorageCheck(name: "dns", status: .failed, summary: "\(host) does not resolve: \(reason)"))
            return results + [skipped("api", because: "dns"), skipped("round-trip", because: "dns")]
        }
        do {
            let response = try store.call("version", query: [])
            let version = IPFSBlobStore.json(Substring(response.bodyText))?["Version"] as? String ?? "unknown version"
            results.append(StorageCheck(name: "api", status: .ok, summary: "Kubo \(version) answers"))
        } catch {
            results.append(StorageCheck(name: "api", status: .failed, summary: "\(error)",
                                        hint: "start the daemon (ipfs daemon) or correct adapters.ipfs.api"))
            return results + [skipped("round-trip", because: "api")]
        }
        results.append(roundTrip(store: store, label: store.apiURL))
        return results
    }

    // MARK: shared

    /// Upload, verified download and delete of a small file through any store.
    func roundTrip(store: any BlobStore, label: String) -> StorageCheck {
        let directory = NSTemporaryDirectory() + "anvcs-check-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var details: [String] = []
        let started = Date()
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let payload = Data("anvcs storage check \(UUID().uuidString)\n".utf8)
            try payload.write(to: URL(fileURLWithPath: directory + "/probe"))
            let pin = try store.upload(localPath: directory + "/probe", key: ".anvcs-check/probe")
            details.append("upload: version \(pin.versionId)")
            try store.download(pin: pin, to: directory + "/back")
            details.append("download: verified sha256 \(pin.sha256.prefix(12))…")
            try store.deleteVersion(key: pin.key, versionId: pin.versionId)
            details.append("delete: version removed")
            let milliseconds = Int(Date().timeIntervalSince(started) * 1000)
            return StorageCheck(name: "round-trip", status: .ok, summary: "upload, verified download and delete in \(milliseconds) ms",
                                details: details)
        } catch {
            return StorageCheck(name: "round-trip", status: .failed, summary: "\(label): \(error)", details: details)
        }
    }

    func skipped(_ name: String, because dependency: String) -> StorageCheck {
        StorageCheck(name: name, status: .skipped, summary: "skipped: the \(dependency) check failed")
    }

    static func hint(for error: any Error) -> String? {
        switch error {
        case StorageError.s3(let status, let code, _, _, _, _):
            switch code {
            case "SignatureDoesNotMatch": return "the secret key does not belong to this access key id; check the credentials' source"
            case "InvalidAccessKeyId": return "the access key id is unknown to this endpoint; check the credentials and endpoint_url"
            case "AccessDenied": return "the credentials work but the policy forbids this; grant s3:GetObject, PutObject, DeleteObject(Version), ListBucketVersions"
            case "PermanentRedirect", "AuthorizationHeaderMalformed": return "the bucket lives in another region: set adapters.s3.region"
            default: return status >= 500 ? "the server failed; try again later" : nil
            }
        case StorageError.clockSkew: return "fix the system clock (NTP)"
        case StorageError.network: return "check the endpoint, the network and the proxy"
        case StorageError.credentialsUnavailable: return "export AWS credentials or set a profile"
        default: return nil
        }
    }

    static func isTLSFailure(_ error: any Error) -> Bool {
        guard case HTTPError.transport(let code, _, _, _) = error else { return false }
        // SSL_CONNECT_ERROR, PEER_FAILED_VERIFICATION, SSL_ENGINE_*, SSL_CERTPROBLEM, SSL_CIPHER,
        // SSL_CACERT_BADFILE, SSL_SHUTDOWN_FAILED, SSL_CRL_BADFILE, SSL_ISSUER_ERROR, SSL_PINNEDPUBKEYNOTMATCH, SSL_INVALIDCERTSTATUS.
        return [35, 53, 54, 58, 59, 60, 66, 77, 80, 82, 83, 90, 91].contains(code)
    }

    /// The host's addresses, as getaddrinfo returns them.
    static func resolve(_ host: String) -> Result<[String], ResolveFailure> {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &list)
        guard status == 0 else { return .failure(ResolveFailure(reason: String(cString: gai_strerror(status)))) }
        defer { freeaddrinfo(list) }
        var addresses: [String] = []
        var cursor = list
        while let entry = cursor {
            var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(entry.pointee.ai_addr, entry.pointee.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0 {
                let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                if !addresses.contains(text) { addresses.append(text) }
            }
            cursor = entry.pointee.ai_next
        }
        return .success(addresses)
    }

    struct ResolveFailure: Error, CustomStringConvertible {
        var reason: String
        var description: String { reason }
    }

    static func masked(_ accessKeyId: String) -> String {
        accessKeyId.count > 8 ? String(accessKeyId.prefix(4)) + "…" + String(accessKeyId.suffix(4)) : "…"
    }

    /// A proxy URL without its password.
    static func redactedURL(_ url: String) -> String {
        guard let at = url.firstIndex(of: "@"), let scheme = url.range(of: "://") else { return url }
        return String(url[..<scheme.upperBound]) + "***@" + String(url[url.index(after: at)...])
    }

    static func bytes(_ count: UInt64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(count)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(count) B" : String(format: "%.1f", value) + " " + units[unit]
    }
}
