/// The `merge=anvcs-artifact` driver's decision for three versions of a pointer file.
///
/// Artifacts are opaque: two sides that end on the same bytes merge cleanly, one side's change
/// wins over an unchanged side, and two different changes are a conflict that names both
/// versions in words (the file then holds that text, which is not a pointer, until the user
/// picks a side with `git checkout --ours/--theirs` or adds the file they want).
public enum ArtifactMerge {
    public enum Outcome: Equatable, Sendable {
        /// The merged file's bytes.
        case clean([UInt8])
        case conflict([UInt8])
    }

    public static func merge(base: [UInt8], ours: [UInt8], theirs: [UInt8], path: String) -> Outcome {
        let b = ArtifactPointer.parse(base), o = ArtifactPointer.parse(ours), t = ArtifactPointer.parse(theirs)
        // Same content (pointers compare by sha256; keys may differ with path keys after a rename).
        if same(ours, o, theirs, t) { return .clean(ours) }
        if same(base, b, ours, o) { return .clean(theirs) }
        if same(base, b, theirs, t) { return .clean(ours) }
        func describe(_ label: String, _ bytes: [UInt8], _ p: ArtifactPointer?) -> String {
            if let p { return "\(label): sha256 \(p.sha256) size \(p.size) key \(p.key)" }
            return "\(label): \(bytes.isEmpty ? "deleted" : "not an artifact pointer (\(bytes.count) bytes)")"
        }
        let text = """
            anvcs: merge conflict in artifact \(path): both sides changed it
            \(describe("ours", ours, o))
            \(describe("theirs", theirs, t))
            \(describe("base", base, b))
            Pick one: git checkout --ours -- \(path) (or --theirs), then git add \(path).

            """
        return .conflict(Array(text.utf8))
    }

    static func same(_ a: [UInt8], _ pa: ArtifactPointer?, _ b: [UInt8], _ pb: ArtifactPointer?) -> Bool {
        if let pa, let pb { return pa.sha256 == pb.sha256 && pa.size == pb.size }
        return a == b
    }
}
