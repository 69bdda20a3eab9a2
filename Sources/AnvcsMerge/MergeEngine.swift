/// What to merge: the three versions of one file, its path (which picks the language) and
/// how conflicts should look.
public struct MergeInput: Sendable {
    public var base: [UInt8]
    public var ours: [UInt8]
    public var theirs: [UInt8]
    public var path: String?
    public var style: ConflictStyle
    public var labels: ConflictLabels

    public init(base: [UInt8], ours: [UInt8], theirs: [UInt8], path: String? = nil,
                style: ConflictStyle = .merge, labels: ConflictLabels = ConflictLabels()) {
        self.base = base
        self.ours = ours
        self.theirs = theirs
        self.path = path
        self.style = style
        self.labels = labels
    }
}

/// Which layer of the engine settled a part of the file.
public enum MergeLayer: String, Sendable, Codable {
    /// git's own line merge, reproduced.
    case line
    /// Both sides made the same change, modulo whitespace.
    case identicalChange = "identical-change"
    /// One side only changed whitespace; the other side's edit wins.
    case whitespace
    /// A conflict merged again at the level of tokens.
    case tokens
    /// Declarations, imports or keys matched by name.
    case structure
}

/// One decision the engine made, for `--explain` and for provenance notes.
public struct MergeResolution: Sendable, Equatable, Codable {
    public var layer: MergeLayer
    public var detail: String

    public init(layer: MergeLayer, detail: String) {
        self.layer = layer
        self.detail = detail
    }
}

/// The merged text and what it took to get there.
public struct MergeOutput: Sendable {
    public var text: [UInt8]
    /// Conflict hunks left in `text`; zero means the merge is clean.
    public var conflictCount: Int
    public var resolutions: [MergeResolution]

    public var isClean: Bool { conflictCount == 0 }
}

/// Merges one file in layers, each tried only where the one before left conflicts, so that
/// the result is never worse than git's: where git is clean the answer is git's answer.
public enum MergeEngine {
    /// git's line merge alone, byte for byte what `git merge-file` produces.
    public static func lineMerge(_ input: MergeInput) -> MergeOutput {
        let merge = LineMerge(base: input.base, ours: input.ours, theirs: input.theirs, style: input.style)
        return MergeOutput(text: merge.render(style: input.style, labels: input.labels),
                           conflictCount: merge.conflictCount,
                           resolutions: [MergeResolution(layer: .line, detail: "line merge")])
    }
}
