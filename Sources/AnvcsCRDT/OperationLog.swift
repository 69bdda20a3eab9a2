/// A run of consecutive character operations by one agent, each made on the one before it.
/// Unit `k` of the run sits at `position + step * k` (typing forward: insert, step 1;
/// backspace: delete, step -1; forward delete: delete, step 0).
struct LogRun: Sendable, Equatable {
    var start: Int32
    var count: Int32
    var position: Int32
    /// Byte offset of the run's text in `OperationLog.content` (insertions only).
    var contentStart: Int32
    var agent: Int32
    var seqStart: Int32
    var isInsert: Bool
    var step: Int8
    /// The first unit's parents are stored in `OperationLog.explicitParents`, not `[start - 1]`.
    var hasExplicitParents: Bool

    var end: Int { Int(start) + Int(count) }
    func position(ofUnit unit: Int) -> Int { Int(position) + Int(step) * (unit - Int(start)) }
}

/// Where one agent's sequence numbers live in local version (LV) space.
struct AgentSpan: Sendable, Equatable {
    var seqStart: Int
    var lvStart: Int
    var count: Int
}

/// Every operation a document has seen, in a causal order, one local version (LV) per character,
/// run-length encoded. Parents of unit `lv` are `[lv - 1]` unless the run says otherwise.
struct OperationLog: Sendable {
    var runs: [LogRun] = []
    var content: [UInt8] = []
    var explicitParents: [Int32: [Int]] = [:]
    var agentNames: [String] = []
    var agentIndex: [String: Int] = [:]
    var agentSpans: [[AgentSpan]] = []
    var count = 0

    mutating func agent(named name: String) -> Int {
        if let index = agentIndex[name] { return index }
        agentNames.append(name)
        agentSpans.append([])
        agentIndex[name] = agentNames.count - 1
        return agentNames.count - 1
    }

    func nextSeq(ofAgent agent: Int) -> Int {
        guard let last = agentSpans[agent].last else { return 0 }
        return last.seqStart + last.count
    }

    /// Index of the run holding `lv`.
    func runIndex(containing lv: Int) -> Int {
        var low = 0, high = runs.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if Int(runs[mid].start) <= lv { low = mid } else { high = mid - 1 }
        }
        return low
    }

    func parents(of lv: Int) -> [Int] {
        let run = runs[runIndex(containing: lv)]
        if lv > Int(run.start) { return [lv - 1] }
        if run.hasExplicitParents { return explicitParents[run.start] ?? [] }
        return lv == 0 ? [] : [lv - 1]
    }

    /// Smallest parent of `lv`, or -1 when it was made on the empty document.
    func smallestParent(of lv: Int, runIndex index: Int) -> Int {
        let run = runs[index]
        if lv > Int(run.start) || !run.hasExplicitParents { return lv - 1 }
        return explicitParents[run.start]?.min() ?? -1
    }

    func id(of lv: Int) -> (agent: Int, seq: Int) {
        let run = runs[runIndex(containing: lv)]
        return (Int(run.agent), Int(run.seqStart) + lv - Int(run.start))
    }

    func operationID(of lv: Int) -> OperationID {
        let (agent, seq) = id(of: lv)
        return OperationID(agent: agentNames[agent], seq: seq)
    }

    func localVersion(agent: Int, seq: Int) -> Int? {
        let spans = agentSpans[agent]
        var low = 0, high = spans.count - 1
        while low <= high {
            let mid = (low + high) / 2
            let span = spans[mid]
            if seq < span.seqStart { high = mid - 1 } else if seq >= span.seqStart + span.count { low = mid + 1 } else {
                return span.lvStart + seq - span.seqStart
            }
        }
        return nil
    }

    func localVersion(of id: OperationID) -> Int? {
        guard let agent = agentIndex[id.agent] else { return nil }
        return localVersion(agent: agent, seq: id.seq)
    }

    /// The inserted character of unit `lv` as UTF-8 bytes range in `content`.
    func contentRange(ofUnit lv: Int, runIndex index: Int) -> Range<Int> {
        let run = runs[index]
        let start = byteOffset(ofScalar: lv - Int(run.start), in: content, from: Int(run.contentStart))
        let end = byteOffset(ofScalar: 1, in: content, from: start)
        return start ..< end
    }

    /// Appends `units` new units by `agent`; merges into the last run when it continues it.
    /// `parents` are the first unit's parents, sorted.
    mutating func append(agent: Int, isInsert: Bool, position: Int, step: Int, units: Int,
                         utf8: UnsafeBufferPointer<UInt8>?, parents: [Int]) {
        let start = count
        let seq = nextSeq(ofAgent: agent)
        let linear = parents.count == 1 && parents[0] == start - 1 || (parents.isEmpty && start == 0)
        if linear, var last = runs.last, Int(last.agent) == agent, last.isInsert == isInsert,
           Int(last.seqStart) + Int(last.count) == seq {
            let lastCount = Int(last.count)
            let expectedStep: Int? = lastCount > 1 ? Int(last.step) : nil
            let actualStep = position - Int(last.position)
            var newStep: Int? = nil
            if let expectedStep {
                if position == Int(last.position) + expectedStep * lastCount, units == 1 || step == expectedStep { newStep = expectedStep }
            } else if (-1 ... 1).contains(actualStep), units == 1 || step == actualStep {
                newStep = actualStep
            }
            if let newStep {
                last.count += Int32(units)
                last.step = Int8(newStep)
                runs[runs.count - 1] = last
                if let utf8 { content.append(contentsOf: utf8) }
                extendAgent(agent, seq: seq, lv: start, units: units)
                count += units
                return
            }
        }
        var run = LogRun(start: Int32(start), count: Int32(units), position: Int32(position),
                         contentStart: Int32(content.count), agent: Int32(agent), seqStart: Int32(seq),
                         isInsert: isInsert, step: Int8(units > 1 ? step : (isInsert ? 1 : 0)),
                         hasExplicitParents: false)
        if !linear {
            run.hasExplicitParents = true
            explicitParents[run.start] = parents
        }
        runs.append(run)
        if let utf8 { content.append(contentsOf: utf8) }
        extendAgent(agent, seq: seq, lv: start, units: units)
        count += units
    }

    private mutating func extendAgent(_ agent: Int, seq: Int, lv: Int, units: Int) {
        if var last = agentSpans[agent].last, last.seqStart + last.count == seq, last.lvStart + last.count == lv {
            last.count += units
            agentSpans[agent][agentSpans[agent].count - 1] = last
        } else {
            agentSpans[agent].append(AgentSpan(seqStart: seq, lvStart: lv, count: units))
        }
    }

    /// Forgets every unit from `lv` on (used to undo a batch that turned out invalid).
    mutating func truncate(to lv: Int) {
        guard lv < count else { return }
        while let last = runs.last, Int(last.start) >= lv {
            runs.removeLast()
            explicitParents[last.start] = nil
            if last.isInsert { content.removeLast(content.count - Int(last.contentStart)) }
        }
        if var last = runs.last, last.end > lv {
            let kept = lv - Int(last.start)
            if last.isInsert {
                let cut = byteOffset(ofScalar: kept, in: content, from: Int(last.contentStart))
                content.removeLast(content.count - cut)
            }
            last.count = Int32(kept)
            runs[runs.count - 1] = last
        }
        for agent in agentSpans.indices {
            while let span = agentSpans[agent].last, span.lvStart >= lv { agentSpans[agent].removeLast() }
            if var span = agentSpans[agent].last, span.lvStart + span.count > lv {
                span.count = lv - span.lvStart
                agentSpans[agent][agentSpans[agent].count - 1] = span
            }
        }
        count = lv
    }

    /// Bytes held by the log, for memory reports.
    var capacityInBytes: Int {
        runs.capacity * MemoryLayout<LogRun>.stride + content.capacity
            + explicitParents.count * 48 + agentSpans.reduce(0) { $0 + $1.capacity * MemoryLayout<AgentSpan>.stride }
    }

    mutating func shrinkToFit() {
        runs = exactCopy(runs)
        content = exactCopy(content)
    }
}

/// A copy whose capacity is just its count (Array's own copies may keep spare capacity).
func exactCopy<T>(_ array: [T]) -> [T] {
    var copy = [T]()
    copy.reserveCapacity(array.count)
    copy.append(contentsOf: array)
    return copy
}
