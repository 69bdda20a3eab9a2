import Foundation

/// Tracked patterns as `.gitattributes` lines: `<pattern> filter=anvcs diff=anvcs merge=anvcs-artifact -text`.
///
/// Edits keep every other line (comments, other tools' attributes) as they were. A pattern
/// that git-lfs already owns (`filter=lfs` on the same pattern) is refused unless taken over.
public struct GitAttributesFile {
    public static let attributes = "filter=anvcs diff=anvcs merge=anvcs-artifact -text"
    public let path: String
    public private(set) var lines: [String]

    public init(path: String) {
        self.path = path
        let text = FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } ?? ""
        var lines = text.components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }
        self.lines = lines
    }

    /// Patterns are written with spaces as `[[:space:]]`, the form gitattributes matches.
    static func encode(_ pattern: String) -> String { pattern.replacingOccurrences(of: " ", with: "[[:space:]]") }

    static func split(_ line: String) -> (pattern: String, attributes: [String])? {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty, !trimmed.hasPrefix("#") else { return nil }
        let parts = trimmed.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        return (parts[0], Array(parts.dropFirst()))
    }

    /// Patterns ANVCS tracks here, in file order.
    public var trackedPatterns: [String] {
        lines.compactMap { line in
            guard let (p, attrs) = GitAttributesFile.split(line), attrs.contains("filter=anvcs") else { return nil }
            return p.replacingOccurrences(of: "[[:space:]]", with: " ")
        }
    }

    /// The pattern's line owned by git-lfs, if any.
    public func lfsOwner(of pattern: String) -> String? {
        let encoded = GitAttributesFile.encode(pattern)
        return lines.first { line in
            guard let (p, attrs) = GitAttributesFile.split(line) else { return false }
            return p == encoded && attrs.contains("filter=lfs")
        }
    }

    /// Adds the pattern; returns false when it was already tracked.
    public mutating func track(_ pattern: String, takeOver: Bool) throws(ArtifactError) -> Bool {
        guard !pattern.isEmpty, !pattern.contains("\n") else { throw .refused("'\(pattern)' is not a pattern") }
        let encoded = GitAttributesFile.encode(pattern)
        if let owner = lfsOwner(of: pattern) {
            guard takeOver else {
                throw .refused("'\(pattern)' is handled by git-lfs (\(path): \(owner)); pass --take-over to move it to ANVCS, or 'git anvcs import-lfs' to convert stored LFS objects")
            }
            lines.removeAll { $0 == owner }
        }
        if trackedPatterns.contains(pattern) { return false }
        lines.append("\(encoded) \(GitAttributesFile.attributes)")
        return true
    }

    /// Removes the pattern's ANVCS line; returns false when it was not tracked.
    public mutating func untrack(_ pattern: String) -> Bool {
        let encoded = GitAttributesFile.encode(pattern)
        let before = lines.count
        lines.removeAll { line in
            guard let (p, attrs) = GitAttributesFile.split(line) else { return false }
            return p == encoded && attrs.contains("filter=anvcs")
        }
        return lines.count != before
    }

    /// File patterns the merge driver understands, one `.gitattributes` line each.
    public static let mergePatterns = ["*.py", "*.pyi", "*.js", "*.mjs", "*.cjs", "*.jsx", "*.ts", "*.tsx",
                                       "*.json", "*.yaml", "*.yml", "*.swift"]
    static let mergeMarker = "# merged by ANVCS's syntax-aware driver (git anvcs init --no-merge-driver removes these)"

    /// Adds (`on`) or removes the `merge=anvcs` lines; returns whether anything changed.
    public mutating func setMergeDriver(_ on: Bool) -> Bool {
        let ours = Set([GitAttributesFile.mergeMarker] + GitAttributesFile.mergePatterns.map { "\($0) merge=anvcs" })
        let present = lines.contains(GitAttributesFile.mergeMarker)
        if on == present { return false }
        if on {
            lines.append(GitAttributesFile.mergeMarker)
            lines.append(contentsOf: GitAttributesFile.mergePatterns.map { "\($0) merge=anvcs" })
        } else {
            lines.removeAll { ours.contains($0) }
        }
        return true
    }

    public func save() throws {
        let text = lines.isEmpty ? "" : lines.joined(separator: "\n") + "\n"
        let url = URL(fileURLWithPath: path)
        let tmp = url.deletingLastPathComponent().appendingPathComponent(".gitattributes.anvcs-\(getpid())")
        try Data(text.utf8).write(to: tmp)
        guard rename(tmp.path, url.path) == 0 else {
            try? FileManager.default.removeItem(at: tmp)
            throw ArtifactError.io("cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }
}
