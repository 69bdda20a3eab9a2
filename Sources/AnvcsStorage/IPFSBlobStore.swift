import AnvcsHTTP
import Foundation

/// Blobs in IPFS through a Kubo node's RPC API (`/api/v0/add`, `cat`, `pin/add`, `pin/ls`,
/// `pin/rm`). The version of a pin is the CID Kubo computed; what the CID names cannot change,
/// but this store still checks every download against the pin's sha256, because the bytes come
/// from a node we do not control and the CID is only checked by that node.
///
/// IPFS has no keys: the key lives only in the pin. Deleting a version unpins it; the node's
/// garbage collector frees the blocks later (other nodes may keep them).
public struct IPFSBlobStore: BlobStore {
    /// `http://host:port` of the RPC API.
    public let apiURL: String
    let http: HTTPClient
    let retry: RetryPolicy
    public var storageName: String { "ipfs" }

    /// `api` is a URL (`http://127.0.0.1:5001`) or Kubo's multiaddr form (`/ip4/127.0.0.1/tcp/5001`).
    public init(api: String, http: HTTPClient = HTTPClient(), retry: RetryPolicy = RetryPolicy()) throws {
        self.apiURL = try IPFSBlobStore.apiURL(from: api)
        self.http = http
        self.retry = retry
    }

    static func apiURL(from text: String) throws -> String {
        var api = text.trimmingCharacters(in: .whitespaces)
        if api.hasPrefix("/") {
            let parts = api.split(separator: "/").map(String.init)
            guard parts.count >= 4, ["ip4", "ip6", "dns", "dns4", "dns6"].contains(parts[0]), parts[2] == "tcp",
                  let port = Int(parts[3]) else {
                throw StorageError.invalidConfiguration(detail: "adapters.ipfs.api \(text) is not a /ip4|ip6|dns/HOST/tcp/PORT multiaddr")
            }
            let host = parts[0] == "ip6" ? "[\(parts[1])]" : parts[1]
            api = "http://\(host):\(port)"
        }
        guard api.hasPrefix("http://") || api.hasPrefix("https://") else {
            throw StorageError.invalidConfiguration(detail: "adapters.ipfs.api \(text) is neither an http(s) URL nor a multiaddr")
        }
        while api.hasSuffix("/") { api.removeLast() }
        return api
    }

    public func upload(localPath: String, key: String) throws -> ArtifactPin {
        try BlobKey.validate(key)
        let digest = try ContentDigest.hashFile(at: localPath)
        let boundary = "anvcs-" + UUID().uuidString
        let fileName = key.split(separator: "/").last.map(String.init) ?? "blob"
        let prefix = "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(IPFSBlobStore.quoted(fileName))\"\r\n"
            + "Content-Type: application/octet-stream\r\n\r\n"
        let suffix = "\r\n--\(boundary)--\r\n"
        var headers = HTTPHeaders()
        headers.set("Content-Type", "multipart/form-data; boundary=\(boundary)")
        // CIDv0 with Kubo's defaults, so `ipfs add` of the same file on any node gives the same CID.
        let response = try call("add", query: [("pin", "true"), ("cid-version", "0"), ("progress", "false")], headers: headers,
                                body: .framedFile(prefix: Array(prefix.utf8), path: localPath, length: digest.size,
                                                  suffix: Array(suffix.utf8)))
        // One JSON object per line; the added file's is the last with a Hash.
        let lines = response.bodyText.split(separator: "\n")
        guard let object = lines.reversed().lazy.compactMap({ IPFSBlobStore.json(Substring($0)) }).first(where: { $0["Hash"] != nil }),
              let cid = object["Hash"] as? String else {
            throw StorageError.invalidResponse(operation: "IPFS add \(localPath)", detail: "no Hash in \(response.bodyText.prefix(300))")
        }
        if let reported = (object["Size"] as? String).flatMap(UInt64.init), reported < digest.size {
            throw StorageError.sizeMismatch(key: key, expected: digest.size, actual: reported)
        }
        return ArtifactPin(key: key, storage: storageName, versionId: cid, sha256: digest.sha256, size: digest.size)
    }

    public func download(key: String, versionId: String, to destinationPath: String, expectedSHA256: String?, mode: DownloadMode) throws {
        try BlobKey.validate(key)
        guard let expectedSHA256 else {
            throw StorageError.invalidConfiguration(
                detail: "IPFS keeps no sha256 for \(key) (\(versionId)): download it with its pin so the bytes can be verified")
        }
        let writer = try VerifiedFileWriter(destinationPath: destinationPath, mode: mode)
        do {
            _ = try call("cat", query: [("arg", versionId)], prepare: { try writer.restart() },
                         sink: { .stream { try writer.write($0) } })
        } catch {
            writer.discard()
            throw error
        }
        try writer.commit(key: key, expectedSHA256: expectedSHA256)
    }

    /// Whether this node pins the CID (a CID it merely caches may vanish at the next GC).
    public func exists(key: String, versionId: String) throws -> Bool {
        try BlobKey.validate(key)
        do {
            _ = try call("pin/ls", query: [("arg", versionId), ("type", "recursive")])
            return true
        } catch StorageError.ipfs(_, let status, let message) where status == 500 && IPFSBlobStore.meansNotPinned(message) {
            return false
        }
    }

    public func deleteVersion(key: String, versionId: String) throws {
        try BlobKey.validate(key)
        do {
            _ = try call("pin/rm", query: [("arg", versionId)])
        } catch StorageError.ipfs(_, let status, let message) where status == 500 && IPFSBlobStore.meansNotPinned(message) {
            throw StorageError.notFound(key: key, versionId: versionId, store: "ipfs \(apiURL)")
        }
    }

    /// Pins a CID that is already on the node (added elsewhere, or fetched from the network).
    public func pin(cid: String) throws {
        _ = try call("pin/add", query: [("arg", cid)])
    }

    static func meansNotPinned(_ message: String) -> Bool {
        message.contains("not pinned")
    }

    /// One RPC call (always a POST, as Kubo requires), retried on network failures only: Kubo
    /// answers 500 for ordinary errors such as "not pinned", which must not be retried.
    func call(_ command: String, query: [(String, String)], headers: HTTPHeaders = HTTPHeaders(),
              body: HTTPRequestBody = .empty, prepare: () throws -> Void = {},
              sink: () -> HTTPResponseSink = { .collect(limit: 16 << 20) }) throws -> HTTPResponse {
        let queryText = query.map { "\(SigV4Signer.percentEncode($0.0))=\(SigV4Signer.percentEncode($0.1))" }
            .joined(separator: "&")
        let url = "\(apiURL)/api/v0/\(command)" + (queryText.isEmpty ? "" : "?" + queryText)
        let subject = query.first { $0.0 == "arg" }.map { "\(command) \($0.1)" } ?? command
        var generator = SystemRandomNumberGenerator()
        var attempt = 0
        while true {
            attempt += 1
            let response: HTTPResponse
            do {
                try prepare()
                response = try http.perform(HTTPRequest(method: "POST", url: url, headers: headers, body: body), sink: sink())
            } catch let failure as HTTPError {
                if failure.isTransient && attempt < retry.maximumAttempts {
                    Thread.sleep(forTimeInterval: retry.delay(afterAttempt: attempt, using: &generator))
                    continue
                }
                throw StorageError.network(underlying: failure, operation: "IPFS \(subject)", attempts: attempt)
            }
            if response.isSuccess { return response }
            let message = IPFSBlobStore.json(Substring(response.bodyText))?["Message"] as? String
                ?? String(response.bodyText.prefix(300))
            throw StorageError.ipfs(operation: subject, status: response.status, message: message)
        }
    }

    static func json(_ text: Substring) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
    }

    static func quoted(_ name: String) -> String {
        name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
    }
}
