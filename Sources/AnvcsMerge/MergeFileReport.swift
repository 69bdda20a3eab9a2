/// What the merge driver did to one file, as `git anvcs merge` collects it for the merge
/// commit's provenance note (one JSON line per file the driver merged).
public struct MergeFileReport: Sendable, Codable, Equatable {
    public var path: String
    public var clean: Bool
    /// Conflict hunks left in the file.
    public var conflicts: Int
    public var resolutions: [MergeResolution]

    public init(path: String, clean: Bool, conflicts: Int, resolutions: [MergeResolution]) {
        self.path = path
        self.clean = clean
        self.conflicts = conflicts
        self.resolutions = resolutions
    }

    /// The layers that settled this file, beyond git's line merge ("line" when git alone did).
    public var strategy: String {
        let layers = resolutions.map(\.layer).filter { $0 != .line }
        guard !layers.isEmpty else { return MergeLayer.line.rawValue }
        var seen: [MergeLayer] = []
        for layer in layers where !seen.contains(layer) { seen.append(layer) }
        return seen.map(\.rawValue).joined(separator: "+")
    }

    /// git's conflict hunks the engine resolved, from the line layer's count.
    public var conflictsResolved: Int {
        guard let first = resolutions.first, first.layer == .line,
              let count = first.detail.split(separator: " ").compactMap({ Int($0) }).first else { return 0 }
        return max(0, count - conflicts)
    }
}
