/// Units of a remote operation on their way into the log. Agents are indexes of the receiving log.
struct IncomingRun: Sendable {
    var agent: Int
    var seq: Int
    var units: Int
    var isInsert: Bool
    var position: Int
    var step: Int
    var utf8: ArraySlice<UInt8>
    /// Parents of the first unit as (agent, seq) in the receiving log's agent numbering.
    var parents: [(agent: Int, seq: Int)]

    /// Drops the first `n` units (already known); the rest is then made on unit `n - 1`.
    mutating func dropFirst(_ n: Int) {
        if isInsert {
            var offset = utf8.startIndex, seen = 0
            while seen < n {
                offset += 1
                while offset < utf8.endIndex && utf8[offset] & 0xC0 == 0x80 { offset += 1 }
                seen += 1
            }
            utf8 = utf8[offset...]
        }
        parents = [(agent, seq + n - 1)]
        seq += n
        units -= n
        position += step * n
    }
}

extension TextDocument {
    // MARK: Remote operations

    /// Applies remote operations in any order: duplicates are ignored, operations whose parents
    /// are missing wait (up to `pendingLimit` characters) and apply once the parents arrive.
    /// On a thrown error the document holds a valid causal prefix of what it received.
    public mutating func apply(_ operations: [Operation]) throws {
        var incoming: [IncomingRun] = []
        incoming.reserveCapacity(operations.count)
        for operation in operations {
            guard operation.id.seq >= 0, operation.pos >= 0 else {
                throw CRDTError.invalidOperation(reason: "\(operation.id): negative sequence number or position")
            }
            let agent = log.agent(named: operation.id.agent)
            let parents = operation.parents.map { (log.agent(named: $0.agent), $0.seq) }
            switch operation.type {
            case .insert:
                guard let text = operation.text, !text.isEmpty else {
                    throw CRDTError.invalidOperation(reason: "insert \(operation.id) has no text")
                }
                let bytes = Array(text.utf8)
                incoming.append(IncomingRun(agent: agent, seq: operation.id.seq, units: text.unicodeScalars.count,
                                            isInsert: true, position: operation.pos, step: 1,
                                            utf8: bytes[...], parents: parents))
            case .delete:
                guard let len = operation.len, len > 0 else {
                    throw CRDTError.invalidOperation(reason: "delete \(operation.id) has no positive len")
                }
                incoming.append(IncomingRun(agent: agent, seq: operation.id.seq, units: len, isInsert: false,
                                            position: operation.pos, step: 0, utf8: [], parents: parents))
            }
        }
        try ingest(incoming)
    }

    /// Brings every operation of `other` into this replica.
    public mutating func merge(_ other: TextDocument) throws {
        if log.count == 0 && pending.isEmpty && other.log.count > 0 {
            try adoptHistory(of: other)
            return
        }
        var agentMap = other.log.agentNames.map { log.agent(named: $0) }
        // Only the runs holding sequence numbers this replica lacks, found through the agents'
        // spans, so merging a small delta into a long history costs the delta, not the history.
        var missing: [Range<Int>] = []
        for (otherAgent, spans) in other.log.agentSpans.enumerated() {
            let known = log.nextSeq(ofAgent: agentMap[otherAgent])
            for span in spans where span.seqStart + span.count > known {
                let skipped = max(0, known - span.seqStart)
                missing.append(span.lvStart + skipped ..< span.lvStart + span.count)
            }
        }
        missing.sort { $0.lowerBound < $1.lowerBound }
        var runIndexes: [Int] = []
        for range in missing {
            var index = other.log.runIndex(containing: range.lowerBound)
            while index < other.log.runs.count && Int(other.log.runs[index].start) < range.upperBound {
                if runIndexes.last != index { runIndexes.append(index) }
                index += 1
            }
        }
        var incoming: [IncomingRun] = []
        incoming.reserveCapacity(runIndexes.count)
        for index in runIndexes {
            let run = other.log.runs[index]
            let agent = agentMap[Int(run.agent)]
            let known = log.nextSeq(ofAgent: agent)
            if Int(run.seqStart) + Int(run.count) <= known { continue }
            let parents: [(agent: Int, seq: Int)]
            if run.hasExplicitParents {
                parents = (other.log.explicitParents[run.start] ?? []).map { lv in
                    let (a, s) = other.log.id(of: lv)
                    return (agentMap[a], s)
                }
            } else if run.start == 0 {
                parents = []
            } else {
                let (a, s) = other.log.id(of: Int(run.start) - 1)
                parents = [(agentMap[a], s)]
            }
            let contentEnd: Int
            if run.isInsert {
                contentEnd = byteOffset(ofScalar: Int(run.count), in: other.log.content, from: Int(run.contentStart))
            } else {
                contentEnd = Int(run.contentStart)
            }
            incoming.append(IncomingRun(agent: agent, seq: Int(run.seqStart), units: Int(run.count),
                                        isInsert: run.isInsert, position: Int(run.position), step: Int(run.step),
                                        utf8: other.log.content[Int(run.contentStart) ..< contentEnd],
                                        parents: parents))
        }
        agentMap = []
        try ingest(incoming)
    }

    /// Merge into an empty replica: the log is shared as is (copy on write) and its runs are
    /// applied to the text, by position while the history is linear.
    private mutating func adoptHistory(of other: TextDocument) throws {
        let localName = agent
        log = other.log
        localAgent = log.agent(named: localName)
        frontier = []
        do {
            try integrate(from: 0)
        } catch {
            log = OperationLog()
            localAgent = log.agent(named: localName)
            buffer = TextBuffer()
            frontier = []
            throw error
        }
    }

    /// Whether the known unit `lv` has the same content as unit `k` of `run`.
    private func sameUnit(_ lv: Int, as run: IncomingRun, unit k: Int) -> Bool {
        let index = log.runIndex(containing: lv)
        let stored = log.runs[index]
        guard stored.isInsert == run.isInsert, stored.position(ofUnit: lv) == run.position + run.step * k else { return false }
        let storedParents = log.parents(of: lv)
        if k == 0 {
            var mapped: [Int] = []
            for parent in run.parents {
                guard let p = log.localVersion(agent: parent.agent, seq: parent.seq) else { return false }
                mapped.append(p)
            }
            if mapped.sorted() != storedParents { return false }
        } else if storedParents != [lv - 1] {
            // Unit k is made on unit k - 1 of the same agent.
            guard let previous = log.localVersion(agent: run.agent, seq: run.seq + k - 1), storedParents == [previous] else { return false }
        }
        if run.isInsert {
            let range = log.contentRange(ofUnit: lv, runIndex: index)
            var offset = run.utf8.startIndex
            for _ in 0 ..< k {
                offset += 1
                while offset < run.utf8.endIndex && run.utf8[offset] & 0xC0 == 0x80 { offset += 1 }
            }
            var end = offset + 1
            while end < run.utf8.endIndex && run.utf8[end] & 0xC0 == 0x80 { end += 1 }
            if !log.content[range].elementsEqual(run.utf8[offset ..< end]) { return false }
        }
        return true
    }

    mutating func ingest(_ incoming: [IncomingRun]) throws {
        let start = log.count
        let previouslyPending = pending
        var waiting = pending + incoming
        pending = []
        var progress = true
        while progress && !waiting.isEmpty {
            progress = false
            var stillWaiting: [IncomingRun] = []
            for var run in waiting {
                let known = log.nextSeq(ofAgent: run.agent)
                if run.seq < known {
                    let overlap = min(run.units, known - run.seq)
                    for k in 0 ..< overlap {
                        let lv = log.localVersion(agent: run.agent, seq: run.seq + k)!
                        if !sameUnit(lv, as: run, unit: k) {
                            // Nothing of this batch reached the text yet: forgetting it restores the document.
                            log.truncate(to: start)
                            pending = previouslyPending
                            throw CRDTError.conflictingDuplicate(id: OperationID(agent: log.agentNames[run.agent], seq: run.seq + k))
                        }
                    }
                    if overlap == run.units { continue }
                    run.dropFirst(overlap)
                }
                if run.seq > known { stillWaiting.append(run); continue }
                var parents: [Int] = []
                var ready = true
                for parent in run.parents {
                    guard let lv = log.localVersion(agent: parent.agent, seq: parent.seq) else { ready = false; break }
                    parents.append(lv)
                }
                if !ready { stillWaiting.append(run); continue }
                parents.sort()
                run.utf8.withUnsafeBufferPointer { bytes in
                    log.append(agent: run.agent, isInsert: run.isInsert, position: run.position, step: run.step,
                               units: run.units, utf8: run.isInsert ? bytes : nil, parents: parents)
                }
                progress = true
            }
            waiting = stillWaiting
        }
        try integrate(from: start)
        pending = waiting
        if pendingCount > pendingLimit {
            pending = []
            throw CRDTError.tooManyPendingOperations(limit: pendingLimit)
        }
    }

    /// Applies log units from `start` on to the text: directly while each run was made on the
    /// current version, by an eg-walker replay of the conflict zone otherwise.
    mutating func integrate(from start: Int) throws {
        var lv = start
        while lv < log.count {
            let index = log.runIndex(containing: lv)
            let run = log.runs[index]
            let linear: Bool
            if lv > Int(run.start) || !run.hasExplicitParents {
                linear = lv == 0 ? frontier.isEmpty : (frontier.count == 1 && frontier[0] == lv - 1)
            } else {
                linear = log.parents(of: lv) == frontier
            }
            guard linear else {
                try replayConflictZone(newFrom: lv)
                return
            }
            let units = run.end - lv
            let position = run.position(ofUnit: lv)
            do {
                try applyLinear(run: run, runIndex: index, from: lv, units: units, position: position)
            } catch {
                log.truncate(to: lv)
                throw error
            }
            lv = run.end
            if frontier.count == 1 { frontier[0] = lv - 1 } else { frontier = [lv - 1] }
        }
    }

    private mutating func applyLinear(run: LogRun, runIndex index: Int, from lv: Int, units: Int, position: Int) throws {
        let length = buffer.count
        var id: OperationID { log.operationID(of: lv) }
        if run.isInsert {
            if run.step == 1 {
                guard position <= length else { throw CRDTError.positionPastEnd(position: position, length: length, operation: "insert \(id)") }
                let content = log.content
                let from = lv == Int(run.start) ? Int(run.contentStart) : log.contentRange(ofUnit: lv, runIndex: index).lowerBound
                let end = byteOffset(ofScalar: units, in: content, from: from)
                content.withUnsafeBufferPointer { all in
                    insertText(UnsafeBufferPointer(rebasing: all[from ..< end]), units: units, at: position)
                }
            } else {
                for k in 0 ..< units {
                    let p = position + Int(run.step) * k
                    guard p >= 0, p <= buffer.count else { throw CRDTError.positionPastEnd(position: p, length: buffer.count, operation: "insert \(id)") }
                    let bytes = Array(log.content[log.contentRange(ofUnit: lv + k, runIndex: index)])
                    bytes.withUnsafeBufferPointer { insertText($0, units: 1, at: p) }
                }
            }
        } else if run.step == 1 {
            // Deleting every other character moving right: each unit is its own splice.
            for k in 0 ..< units {
                guard position + k < buffer.count else {
                    throw CRDTError.positionPastEnd(position: position + k, length: buffer.count, operation: "delete \(id)")
                }
                removeText(at: position + k, count: 1)
            }
        } else {
            let first = run.step == -1 ? position - units + 1 : position
            guard first >= 0, position + (run.step == 0 ? units : 1) <= length else {
                throw CRDTError.positionPastEnd(position: position, length: length, operation: "delete \(id)")
            }
            removeText(at: first, count: units)
        }
    }

    /// The frontier after adding units from `start` to the log to `frontier`.
    private func frontier(after start: Int) -> [Int] {
        var result = frontier
        var lv = start
        while lv < log.count {
            let index = log.runIndex(containing: lv)
            let run = log.runs[index]
            let parents = lv > Int(run.start) ? [lv - 1] : log.parents(of: lv)
            result.removeAll { parents.contains($0) }
            result.append(run.end - 1)
            lv = run.end
        }
        return result.sorted()
    }

    /// The latest critical version at or before `oldLength`: every unit after it descends from
    /// every unit before it, so the text there can stand in as an opaque placeholder.
    private func zoneStart(oldLength: Int, finalFrontier: [Int]) -> Int {
        var smallest = Int.max
        var lv = oldLength
        while lv < log.count {
            let index = log.runIndex(containing: lv)
            smallest = min(smallest, log.smallestParent(of: lv, runIndex: index))
            lv = log.runs[index].end
        }
        let smallestHead = finalFrontier.first ?? -1
        var k = oldLength
        while k > 0 {
            if smallest >= k - 1 && smallestHead >= k - 1 { return k }
            k -= 1
            smallest = min(smallest, log.smallestParent(of: k, runIndex: log.runIndex(containing: k)))
        }
        return 0
    }

    /// Ancestors of `a` not of `b` and of `b` not of `a`, among units at or after `floor`.
    private func difference(_ a: [Int], _ b: [Int], floor: Int) -> (onlyA: [Int], onlyB: [Int]) {
        var flags: [Int: UInt8] = [:]
        var heap = MaxHeap()
        var exclusive = 0
        func push(_ lv: Int, _ flag: UInt8) {
            guard lv >= floor else { return }
            if let existing = flags[lv] {
                let merged = existing | flag
                if existing != 3 && merged == 3 { exclusive -= 1 }
                flags[lv] = merged
            } else {
                flags[lv] = flag
                if flag != 3 { exclusive += 1 }
                heap.push(lv)
            }
        }
        for lv in a { push(lv, 1) }
        for lv in b { push(lv, 2) }
        var onlyA: [Int] = [], onlyB: [Int] = []
        while exclusive > 0, let lv = heap.pop() {
            let flag = flags.removeValue(forKey: lv)!
            if flag != 3 { exclusive -= 1 }
            if flag == 1 { onlyA.append(lv) } else if flag == 2 { onlyB.append(lv) }
            for parent in log.parents(of: lv) { push(parent, flag) }
        }
        return (onlyA, onlyB)
    }

    private mutating func replayConflictZone(newFrom oldLength: Int) throws {
        let finalFrontier = frontier(after: oldLength)
        let start = zoneStart(oldLength: oldLength, finalFrontier: finalFrontier)
        let documentLength = buffer.count
        var zone = ConflictZone(placeholderLength: start == oldLength ? documentLength : ConflictZone.unknownLength)
        var exact = start == oldLength
        var prepared: [Int] = start > 0 ? [start - 1] : []
        var effects: [ConflictZone.Effect] = []
        var oldInserted = 0, deletedUnits = 0
        let log = self.log
        let idOf: (Int) -> OperationID = { lv in log.operationID(of: lv) }
        do {
            var runIndex = log.runIndex(containing: start)
            for lv in start ..< log.count {
                if lv >= log.runs[runIndex].end { runIndex += 1 }
                let run = log.runs[runIndex]
                if !exact && lv == oldLength {
                    zone.truncatePlaceholder(to: documentLength - oldInserted + deletedUnits)
                    exact = true
                }
                let parents = lv > Int(run.start) ? [lv - 1] : log.parents(of: lv)
                if parents != prepared {
                    let (retreat, advance) = difference(prepared, parents, floor: start)
                    for unit in retreat { zone.changeState(of: target(of: unit, in: zone), by: -1) }
                    for unit in advance { zone.changeState(of: target(of: unit, in: zone), by: 1) }
                }
                let position = run.position(ofUnit: lv)
                if run.isInsert {
                    let effect = try zone.insert(lv: lv, at: position, idOf: idOf)
                    if lv >= oldLength { effects.append(.init(isInsert: true, position: effect, lv: lv)) } else { oldInserted += 1 }
                } else if let effect = try zone.delete(lv: lv, at: position, idOf: idOf) {
                    deletedUnits += 1
                    if lv >= oldLength { effects.append(.init(isInsert: false, position: effect, lv: lv)) }
                }
                prepared = [lv]
            }
        } catch {
            self.log.truncate(to: oldLength)
            throw error
        }
        for effect in effects {
            if effect.isInsert {
                let bytes = Array(log.content[log.contentRange(ofUnit: effect.lv, runIndex: log.runIndex(containing: effect.lv))])
                bytes.withUnsafeBufferPointer { insertText($0, units: 1, at: effect.position) }
            } else {
                removeText(at: effect.position, count: 1)
            }
        }
        frontier = finalFrontier
    }

    private func target(of unit: Int, in zone: ConflictZone) -> Int {
        let run = log.runs[log.runIndex(containing: unit)]
        return run.isInsert ? unit : zone.deleteTargets[unit]!
    }
}

/// A binary max-heap of local versions.
struct MaxHeap {
    private var values: [Int] = []

    mutating func push(_ value: Int) {
        values.append(value)
        var child = values.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            if values[parent] >= values[child] { break }
            values.swapAt(parent, child)
            child = parent
        }
    }

    mutating func pop() -> Int? {
        guard let top = values.first else { return nil }
        let last = values.removeLast()
        if !values.isEmpty {
            values[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1, right = left + 1
                var largest = parent
                if left < values.count && values[left] > values[largest] { largest = left }
                if right < values.count && values[right] > values[largest] { largest = right }
                if largest == parent { break }
                values.swapAt(parent, largest)
                parent = largest
            }
        }
        return top
    }
}
