/// Which character an anchor sticks to when text is inserted exactly at it.
public enum AnchorBias: Sendable, Hashable {
    /// Stays after the character before it (text typed at the anchor goes after the anchor).
    case before
    /// Stays before the character after it (a caret: text typed at the anchor pushes it along).
    case after
}

/// A handle to a position that follows the text through local and remote edits.
public struct Anchor: Hashable, Sendable {
    let index: Int
}

struct AnchorState: Sendable {
    var position: Int
    var bias: AnchorBias
    var live: Bool
}

extension TextDocument {
    /// Attaches an anchor (a cursor, a selection end) to scalar offset `position`.
    public mutating func anchor(at position: Int, bias: AnchorBias = .after) throws -> Anchor {
        guard position >= 0 && position <= buffer.count else {
            throw CRDTError.positionPastEnd(position: position, length: buffer.count, operation: "anchor")
        }
        anchors.append(AnchorState(position: position, bias: bias, live: true))
        return Anchor(index: anchors.count - 1)
    }

    /// Current position of `anchor`, or nil if it was removed or belongs to another replica.
    public func position(of anchor: Anchor) -> Int? {
        guard anchor.index < anchors.count, anchors[anchor.index].live else { return nil }
        return anchors[anchor.index].position
    }

    public mutating func remove(_ anchor: Anchor) {
        guard anchor.index < anchors.count else { return }
        anchors[anchor.index].live = false
        while let last = anchors.last, !last.live { anchors.removeLast() }
    }

    mutating func moveAnchors(insertedAt position: Int, count inserted: Int) {
        for index in anchors.indices {
            let anchor = anchors[index]
            if anchor.position > position || (anchor.position == position && anchor.bias == .after) {
                anchors[index].position += inserted
            }
        }
    }

    mutating func moveAnchors(removedAt position: Int, count removed: Int) {
        for index in anchors.indices where anchors[index].position > position {
            anchors[index].position = max(position, anchors[index].position - removed)
        }
    }
}
