/// The small text git stores in place of an artifact:
///
///     anvcs-artifact 1
///     sha256 <64 hex>
///     size <bytes>
///     key <store key>
///
/// Parsing is strict (exact lines, in order, lower-case hex, a valid key): anything else is
/// ordinary content, as git-lfs treats a corrupt pointer.
public struct ArtifactPointer: Sendable, Equatable {
    public static let header = "anvcs-artifact 1"
    /// No valid pointer is longer than this, so readers can decide after a small prefix.
    public static let maxLength = 1024

    public let sha256: String
    public let size: UInt64
    public let key: String

    public init(sha256: String, size: UInt64, key: String) throws(ArtifactError) {
        guard sha256.utf8.count == 64, sha256.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }) else {
            throw ArtifactError.invalidPointer("sha256 must be 64 lower-case hex digits")
        }
        try ArtifactKey.validate(key)
        self.sha256 = sha256
        self.size = size
        self.key = key
    }

    public var text: String { "\(ArtifactPointer.header)\nsha256 \(sha256)\nsize \(size)\nkey \(key)\n" }

    /// Reads a pointer, or nil when `bytes` are not exactly one.
    public static func parse(_ bytes: some BidirectionalCollection<UInt8>) -> ArtifactPointer? {
        guard bytes.count <= maxLength, bytes.last == 0x0a else { return nil }
        guard let text = String(validating: Array(bytes), as: UTF8.self) else { return nil }
        let lines = text.dropLast().split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count == 4, lines[0] == header,
              lines[1].hasPrefix("sha256 "), lines[2].hasPrefix("size "), lines[3].hasPrefix("key ") else { return nil }
        let sizeText = lines[2].dropFirst(5)
        guard !sizeText.isEmpty, sizeText.allSatisfy(\.isASCII), sizeText.allSatisfy(\.isNumber),
              sizeText == "0" || !sizeText.hasPrefix("0"), let size = UInt64(sizeText) else { return nil }
        return try? ArtifactPointer(sha256: String(lines[1].dropFirst(7)), size: size, key: String(lines[3].dropFirst(4)))
    }
}

/// Store keys are relative, slash-separated names. A key that could climb out of a prefix or
/// a directory (`..`, an absolute path, a backslash, a control character) is refused.
public enum ArtifactKey {
    public static func validate(_ key: String) throws(ArtifactError) {
        guard !key.isEmpty, key.utf8.count <= 1024 else { throw ArtifactError.invalidKey(key, "empty or longer than 1024 bytes") }
        guard !key.hasPrefix("/") else { throw ArtifactError.invalidKey(key, "absolute paths are not keys") }
        guard !key.unicodeScalars.contains(where: { $0.value < 0x20 || $0 == "\\" || $0.value == 0x7f }) else {
            throw ArtifactError.invalidKey(key, "control characters and backslashes are not allowed")
        }
        for part in key.split(separator: "/", omittingEmptySubsequences: false) where part == ".." || part == "." || part.isEmpty {
            throw ArtifactError.invalidKey(key, "'\(part)' segments are not allowed")
        }
    }

    /// The key an artifact at `path` with content `sha256` is stored under (`blobs.key`).
    public static func make(path: String, sha256: String, scheme: String) throws(ArtifactError) -> String {
        let key = scheme == "content" ? "sha256/\(sha256.prefix(2))/\(sha256)" : path
        try validate(key)
        return key
    }
}

/// What went wrong with an artifact, said for a person.
public enum ArtifactError: Error, Sendable, CustomStringConvertible, Equatable {
    case invalidPointer(String)
    case invalidKey(String, String)
    case protocolError(String)
    case io(String)
    case missing(sha256: String, path: String)
    case corrupt(sha256: String, actual: String, path: String)
    case refused(String)

    public var description: String {
        switch self {
        case .invalidPointer(let why): return "invalid artifact pointer: \(why)"
        case .invalidKey(let key, let why): return "refused artifact key '\(key)': \(why)"
        case .protocolError(let why): return "filter protocol error: \(why)"
        case .io(let why): return why
        case .missing(let sha, let path): return "artifact \(path) (sha256 \(sha.prefix(12))…) is in no store or cache; the pointer file stays"
        case .corrupt(let sha, let actual, let path): return "artifact \(path): expected sha256 \(sha.prefix(12))…, got \(actual.prefix(12))…; the pointer file stays"
        case .refused(let why): return why
        }
    }
}
