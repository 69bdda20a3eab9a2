/// One edit in the wire and API form `{id, ts, type, pos, text | len, origin}` plus the parents
/// (the version it was made on). `pos` is counted in Unicode scalars in the document as the
/// author saw it at `parents`.
public struct Operation: Hashable, Sendable {
    public enum Kind: String, Sendable, Hashable { case insert, delete }

    /// Id of the first character of the edit; the others follow with consecutive sequence numbers.
    public var id: OperationID
    /// Lamport timestamp: one more than the largest timestamp among the parents (informational).
    public var ts: Int
    public var type: Kind
    public var pos: Int
    /// The inserted text (insertions only).
    public var text: String?
    /// Number of deleted characters (deletions only).
    public var len: Int?
    /// The agent that made the edit (always `id.agent`).
    public var origin: String { id.agent }
    public var parents: [OperationID]

    public init(id: OperationID, ts: Int = 0, insert text: String, at pos: Int, parents: [OperationID]) {
        self.id = id; self.ts = ts; self.type = .insert; self.pos = pos
        self.text = text; self.len = nil; self.parents = parents
    }

    public init(id: OperationID, ts: Int = 0, deleteCount len: Int, at pos: Int, parents: [OperationID]) {
        self.id = id; self.ts = ts; self.type = .delete; self.pos = pos
        self.text = nil; self.len = len; self.parents = parents
    }

    /// Number of characters (ids) the operation covers.
    public var count: Int {
        switch type {
        case .insert: text?.unicodeScalars.count ?? 0
        case .delete: len ?? 0
        }
    }
}
