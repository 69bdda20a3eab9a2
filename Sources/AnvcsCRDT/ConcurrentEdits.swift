/// One splice of a text: remove `deleteCount` scalars at `position`, then insert `insert` there.
public struct TextEdit: Hashable, Sendable {
    public var position: Int
    public var deleteCount: Int
    public var insert: String

    public init(position: Int, deleteCount: Int = 0, insert: String = "") {
        self.position = position
        self.deleteCount = deleteCount
        self.insert = insert
    }
}

/// What the merge driver needs: two sides edited the same base concurrently; the sequence CRDT
/// merges them without conflicts, keeping each side's inserted runs together.
public enum ConcurrentEdits {
    /// Applies `ours` and `theirs` (each a list of splices in order, positions as that side saw
    /// them) as concurrent branches from `base`; returns the merged text. At the same position,
    /// our insertion comes before theirs.
    public static func merge(base: String, ours: [TextEdit], theirs: [TextEdit]) throws -> String {
        var root = TextDocument(agent: "0-base")
        try root.insert(base, at: 0)
        var left = root.fork(agent: "1-ours")
        var right = root.fork(agent: "2-theirs")
        for edit in ours { try left.replace(at: edit.position, removing: edit.deleteCount, with: edit.insert) }
        for edit in theirs { try right.replace(at: edit.position, removing: edit.deleteCount, with: edit.insert) }
        try left.merge(right)
        return left.text
    }
}
