import Foundation

/// What an `anvcs::` URL names (git gives the helper the part after `anvcs::`).
public enum RemoteLocation: Sendable, Equatable {
    /// Any git remote (https, ssh, git, a path, or `file://` of a git repository): objects
    /// travel with git's own transport, notes and artifacts beside them.
    case git(url: String)
    /// A whole repository as packs and a refs manifest in a directory.
    case directory(path: String, unsafe: Bool)
    /// A whole repository as packs and a refs manifest in an S3 bucket.
    case s3(S3Location)

    /// Parses the URL. `isGitRepository` tells whether a local path holds a git repository
    /// (a `file://` URL of one is wrapped, anything else under `file://` is an object store).
    public static func parse(_ url: String, isGitRepository: (String) -> Bool) throws(RemoteError) -> RemoteLocation {
        if url.hasPrefix("s3://") {
            return .s3(try S3Location.parse(url))
        }
        if url.hasPrefix("file://") {
            let (rest, query) = splitQuery(String(url.dropFirst("file://".count)))
            guard rest.hasPrefix("/") else {
                throw .invalidURL(url: url, reason: "a file URL needs an absolute path (file:///dir)")
            }
            let path = rest.removingPercentEncoding ?? rest
            if isGitRepository(path) { return .git(url: url) }
            return .directory(path: path, unsafe: query["unsafe"].map(isTrue) ?? false)
        }
        guard !url.isEmpty else { throw .invalidURL(url: url, reason: "no URL after anvcs::") }
        return .git(url: url)
    }

    static func splitQuery(_ text: String) -> (String, [String: String]) {
        guard let mark = text.firstIndex(of: "?") else { return (text, [:]) }
        var query: [String: String] = [:]
        for pair in text[text.index(after: mark)...].split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            let name = String(parts[0]).removingPercentEncoding ?? String(parts[0])
            let value = parts.count > 1 ? (String(parts[1]).removingPercentEncoding ?? String(parts[1])) : "true"
            query[name] = value
        }
        return (String(text[..<mark]), query)
    }

    static func isTrue(_ value: String) -> Bool { ["1", "true", "yes", "on"].contains(value.lowercased()) }
}

/// `s3://bucket/prefix?endpoint=...&region=...&profile=...&unsafe=true`.
public struct S3Location: Sendable, Equatable {
    public var bucket: String
    /// Key prefix without leading or trailing slash; empty for the bucket's root.
    public var prefix: String
    public var endpoint: String?
    public var region: String?
    public var profile: String?
    public var unsafe: Bool

    public static func parse(_ url: String) throws(RemoteError) -> S3Location {
        let (rest, query) = RemoteLocation.splitQuery(String(url.dropFirst("s3://".count)))
        let parts = rest.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        let bucket = parts.first.map(String.init) ?? ""
        guard !bucket.isEmpty else {
            throw .invalidURL(url: url, reason: "no bucket: write anvcs::s3://BUCKET/prefix")
        }
        let allowed = bucket.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 || $0 == 46 }
        guard allowed, (3...63).contains(bucket.count) else {
            throw .invalidURL(url: url, reason: "'\(bucket)' is not a valid S3 bucket name (3-63 lowercase letters, digits, '-', '.')")
        }
        var prefix = parts.count > 1 ? String(parts[1]) : ""
        while prefix.hasSuffix("/") { prefix.removeLast() }
        while prefix.hasPrefix("/") { prefix.removeFirst() }
        let known: Set<String> = ["endpoint", "region", "profile", "unsafe"]
        if let unknown = query.keys.sorted().first(where: { !known.contains($0) }) {
            throw .invalidURL(url: url, reason: "unknown query parameter '\(unknown)' (known: endpoint, region, profile, unsafe)")
        }
        return S3Location(bucket: bucket, prefix: prefix, endpoint: query["endpoint"], region: query["region"],
                          profile: query["profile"], unsafe: query["unsafe"].map(RemoteLocation.isTrue) ?? false)
    }

    public var display: String { "s3://\(bucket)" + (prefix.isEmpty ? "" : "/\(prefix)") }
}
