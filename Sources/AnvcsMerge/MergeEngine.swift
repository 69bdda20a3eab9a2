/// What to merge: the three versions of one file, its path (which picks the language) and
/// how conflicts should look.
public struct MergeInput: Sendable {
    public var base: [UInt8]
    public var ours: [UInt8]
    public var theirs: [UInt8]
    public var path: String?
    public var style: ConflictStyle
    public var labels: ConflictLabels
    /// Layers beyond git's line merge that may run (all by default; fewer for evaluation).
    public var layers: Set<MergeLayer>
    /// Real parsers for languages this module cannot check itself (Swift).
    public var parsers: LanguageParsers

    public init(base: [UInt8], ours: [UInt8], theirs: [UInt8], path: String? = nil,
                style: ConflictStyle = .merge, labels: ConflictLabels = ConflictLabels(),
                layers: Set<MergeLayer> = [.identicalChange, .whitespace, .tokens, .structure],
                parsers: LanguageParsers = LanguageParsers()) {
        self.layers = layers
        self.parsers = parsers
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
    /// Why the structured layer did not settle the file, when it ran and gave up.
    public var structureGaveUp: String? = nil

    public var isClean: Bool { conflictCount == 0 }
}

/// Merges one file in layers, each tried only where the one before left conflicts, so that
/// the result is never worse than git's: where git is clean the answer is git's answer.
public enum MergeEngine {
    /// Files larger than this skip the structured layer (time bound), then merge by lines.
    static let structuredByteLimit = 4_000_000
    /// Time the structured layer may take before the engine falls back to lines.
    static let structuredTimeLimit: Duration = .milliseconds(600)

    /// All layers: git's line merge, then structure, then refinements of what still conflicts.
    public static func merge(_ input: MergeInput) -> MergeOutput {
        let line = LineMerge(base: input.base, ours: input.ours, theirs: input.theirs, style: input.style)
        let lineOutput = MergeOutput(text: line.render(style: input.style, labels: input.labels),
                                     conflictCount: line.conflictCount,
                                     resolutions: [MergeResolution(layer: .line, detail: "line merge")])
        if line.conflictCount == 0 { return lineOutput }
        // Binary content: git's answer (a conflict), never a guess.
        if [input.base, input.ours, input.theirs].contains(where: { $0.prefix(8000).contains(0) }) { return lineOutput }
        let language = Language(path: input.path, parsers: input.parsers)
        let texts = [input.base, input.ours, input.theirs].map { String(validating: $0, as: UTF8.self) }
        let totalBytes = input.base.count + input.ours.count + input.theirs.count
        let sidesParse: Bool
        var gaveUp: String? = nil
        if let language, let b = texts[0], let o = texts[1], let t = texts[2] {
            let check = SyntaxCheck(language: language, parsers: input.parsers)
            let lenient = language == .json && ![b, o, t].allSatisfy { check.accepts($0) }
            sidesParse = [b, o, t].allSatisfy { check.accepts($0, lenientJSON: lenient) }
            if sidesParse && totalBytes < structuredByteLimit && input.layers.contains(.structure) {
                let structured = StructuredMerge(language: language, layers: input.layers,
                                                 deadline: ContinuousClock.now.advanced(by: structuredTimeLimit))
                switch structured.merge(base: b, ours: o, theirs: t) {
                case let .merged(merged, resolutions) where check.accepts(merged, lenientJSON: lenient):
                    return MergeOutput(text: Array(merged.utf8), conflictCount: 0,
                                       resolutions: [MergeResolution(layer: .line, detail: "line merge left \(line.conflictCount) conflict(s)")] + resolutions)
                case .merged:
                    gaveUp = "the merged result does not parse"
                case let .gaveUp(reason):
                    gaveUp = reason
                }
            } else if !sidesParse {
                gaveUp = "a side does not parse"
            }
        } else {
            sidesParse = false
        }
        var refined = refinedLineMerge(input, language: language, validate: sidesParse, fallback: lineOutput)
        refined.structureGaveUp = gaveUp
        return refined
    }

    /// Layer (b) over git's regions: each conflict region is retried by tokens and whitespace.
    static func refinedLineMerge(_ input: MergeInput, language: Language?, validate: Bool,
                                 fallback: MergeOutput) -> MergeOutput {
        let merge = LineMerge(base: input.base, ours: input.ours, theirs: input.theirs, style: .diff3)
        let refinement = Refinement(language: language, layers: input.layers)
        var conflicts = 0
        var resolutions = [MergeResolution(layer: .line, detail: "line merge left \(fallback.conflictCount) conflict(s)")]
        guard let out = merge.assemble(conflict: { ours, base, theirs, m in
            if let (resolved, why) = refinement.resolve(ours: ours, base: base, theirs: theirs) {
                resolutions.append(why)
                return resolved
            }
            // Render this conflict as git would, narrowed in the requested style.
            let local = LineMerge(base: Array(base), ours: Array(ours), theirs: Array(theirs), style: input.style)
            if local.conflictCount > 0 {
                conflicts += local.conflictCount
                return local.render(style: input.style, labels: input.labels)
            }
            conflicts += 1
            var written: [UInt8] = []
            let crlf = LineMerge.endsInCRLF(merge.ours, m.i1 > 0 ? m.i1 - 1 : 0) > 0
            ConflictWriter(labels: input.labels, crlf: crlf, style: input.style)
                .write(ours: ours, base: base, theirs: theirs, into: &written)
            return written
        }) else { return fallback }  // not reached: every conflict region above gets text
        if resolutions.count == 1 { return fallback }
        if conflicts == 0 && validate, let language {
            guard let text = String(validating: out, as: UTF8.self), SyntaxCheck(language: language, parsers: input.parsers).accepts(text, lenientJSON: true)
            else { return fallback }
        }
        return MergeOutput(text: out, conflictCount: conflicts, resolutions: resolutions)
    }

    /// git's line merge alone, byte for byte what `git merge-file` produces.
    public static func lineMerge(_ input: MergeInput) -> MergeOutput {
        let merge = LineMerge(base: input.base, ours: input.ours, theirs: input.theirs, style: input.style)
        return MergeOutput(text: merge.render(style: input.style, labels: input.labels),
                           conflictCount: merge.conflictCount,
                           resolutions: [MergeResolution(layer: .line, detail: "line merge")])
    }
}

extension MergeEngine {
    /// Whether `text` is well formed for the language of `path`: true or false where the engine can
    /// check (Swift only with a Swift parser), nil for a type it cannot check.
    public static func checkSyntax(_ text: String, path: String?, parsers: LanguageParsers = LanguageParsers()) -> Bool? {
        guard let language = Language(path: path) else { return nil }
        if language == .swift && parsers.swift == nil { return nil }
        return SyntaxCheck(language: language, parsers: parsers).accepts(text, lenientJSON: language == .json)
    }
}
