/// Identifies one character-sized unit of an edit: the agent that made it and its sequence number.
/// An operation of n characters owns the ids `seq ..< seq + n` of its agent.
public struct OperationID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var agent: String
    public var seq: Int

    public init(agent: String, seq: Int) {
        self.agent = agent
        self.seq = seq
    }

    /// Parses the wire form `agent:seq` (the agent may itself contain colons; the last one splits).
    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"),
              let seq = Int(text[text.index(after: colon)...]), seq >= 0 else { return nil }
        self.agent = String(text[..<colon])
        self.seq = seq
    }

    public var description: String { "\(agent):\(seq)" }

    /// Total order used to break ties between concurrent insertions: every replica agrees on it.
    public static func < (lhs: OperationID, rhs: OperationID) -> Bool {
        lhs.agent != rhs.agent ? lhs.agent < rhs.agent : lhs.seq < rhs.seq
    }
}

/// A version of a document: the set of latest operations (no one an ancestor of another).
public typealias Frontier = [OperationID]
