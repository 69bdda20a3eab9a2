/// A replicated plain-text document: local edits by position, remote operations in any causal
/// order, merges of whole replicas. Value type: copying a document forks a replica.
public struct TextDocument: Sendable {
    var log = OperationLog()
    var buffer = TextBuffer()
    /// The current version as sorted local versions.
    var frontier: [Int] = []
    var localAgent: Int
    var pending: [IncomingRun] = []
    var anchors: [AnchorState] = []

    /// How many characters of operations may wait for missing parents before `apply` throws.
    public var pendingLimit = 1 << 20

    /// A new empty document edited locally by `agent` (unique per replica).
    public init(agent: String) {
        localAgent = log.agent(named: agent)
    }

    /// The agent that local edits are attributed to.
    public var agent: String { log.agentNames[localAgent] }

    /// A copy of this replica that makes its local edits as `agent`.
    public func fork(agent: String) -> TextDocument {
        var copy = self
        copy.localAgent = copy.log.agent(named: agent)
        copy.anchors = []
        return copy
    }

    public var text: String { buffer.string }

    /// Length in Unicode scalars.
    public var count: Int { buffer.count }

    /// Number of character operations in the history.
    public var operationCount: Int { log.count }

    /// Number of characters of remote operations waiting for their parents.
    public var pendingCount: Int { pending.reduce(0) { $0 + $1.units } }

    /// The current version.
    public var version: Frontier { frontier.map { log.operationID(of: $0) } }

    // MARK: Local edits

    /// Inserts `text` at scalar offset `position`.
    public mutating func insert(_ text: String, at position: Int) throws {
        guard position >= 0 && position <= buffer.count else {
            throw CRDTError.positionPastEnd(position: position, length: buffer.count, operation: "insert")
        }
        var text = text
        text.withUTF8 { bytes in
            let units = scalarCount(ofUTF8: bytes)
            guard units > 0 else { return }
            if !extendLastLocalRun(isInsert: true, position: position, units: units) {
                log.append(agent: localAgent, isInsert: true, position: position, step: 1, units: units,
                           utf8: bytes, parents: frontier)
            } else if bytes.count == 1 {
                log.content.append(bytes[0])
            } else {
                log.content.append(contentsOf: bytes)
            }
            insertText(bytes, units: units, at: position)
        }
        setFrontierToLast()
    }

    /// Deletes `count` scalars from `position`.
    public mutating func delete(at position: Int, count removed: Int) throws {
        guard removed >= 0, position >= 0, position + removed <= buffer.count else {
            throw CRDTError.positionPastEnd(position: position + removed, length: buffer.count, operation: "delete")
        }
        guard removed > 0 else { return }
        if !extendLastLocalRun(isInsert: false, position: position, units: removed) {
            log.append(agent: localAgent, isInsert: false, position: position, step: 0, units: removed,
                       utf8: nil, parents: frontier)
        }
        removeText(at: position, count: removed)
        setFrontierToLast()
    }

    /// Replaces `removed` scalars at `position` with `text` (a splice, as in editing traces).
    public mutating func replace(at position: Int, removing removed: Int, with text: String) throws {
        if removed > 0 { try delete(at: position, count: removed) }
        if !text.isEmpty { try insert(text, at: position) }
    }

    /// Typing continues the last run (same agent and kind, made on the previous character,
    /// position one step on): only counters change. The common case of every keystroke.
    @inline(__always)
    mutating func extendLastLocalRun(isInsert: Bool, position: Int, units: Int) -> Bool {
        let end = log.count
        guard end > 0, frontier.count == 1, frontier[0] == end - 1 else { return false }
        let index = log.runs.count - 1
        let last = log.runs[index]
        guard Int(last.agent) == localAgent, last.isInsert == isInsert else { return false }
        let lastCount = Int(last.count)
        let step: Int
        if lastCount > 1 {
            step = Int(last.step)
            guard position == Int(last.position) + step * lastCount else { return false }
        } else {
            step = position - Int(last.position)
            guard step >= -1 && step <= 1 else { return false }
        }
        guard units == 1 || step == (isInsert ? 1 : 0) else { return false }
        log.runs[index].count += Int32(units)
        log.runs[index].step = Int8(step)
        let span = log.agentSpans[localAgent].count - 1
        log.agentSpans[localAgent][span].count += units
        log.count += units
        return true
    }

    @inline(__always)
    mutating func setFrontierToLast() {
        let last = log.count - 1
        if frontier.count == 1 { frontier[0] = last } else { frontier = [last] }
    }

    // MARK: Text changes (every change passes here so anchors follow it)

    mutating func insertText(_ bytes: UnsafeBufferPointer<UInt8>, units: Int, at position: Int) {
        buffer.insert(utf8: bytes, scalarCount: units, at: position)
        if !anchors.isEmpty { moveAnchors(insertedAt: position, count: units) }
    }

    mutating func removeText(at position: Int, count removed: Int) {
        buffer.remove(at: position, count: removed)
        if !anchors.isEmpty { moveAnchors(removedAt: position, count: removed) }
    }

    // MARK: Versions

    func localVersions(of version: Frontier) throws -> [Int] {
        try version.map { id in
            guard let lv = log.localVersion(of: id) else { throw CRDTError.unknownVersion(id) }
            return lv
        }.sorted()
    }

    /// Whether every operation of `version` is known to this document.
    public func contains(_ version: Frontier) -> Bool {
        version.allSatisfy { log.localVersion(of: $0) != nil }
    }

    /// Releases spare capacity (after a bulk load or replay).
    public mutating func shrinkToFit() {
        log.shrinkToFit()
        buffer.shrinkToFit()
        pending = []
    }

    /// Bytes the document holds in its own buffers (text, history, indexes).
    public var memoryFootprint: Int {
        log.capacityInBytes + buffer.capacityInBytes + frontier.capacity * 8
    }
}
