extension TextDocument {
    /// Every operation in a causal order, in the wire form (one per run of typing).
    public func operations() -> [Operation] {
        operations(excluding: [])
    }

    /// Operations this document has and `version` does not (what a peer at `version` is missing).
    public func operations(since version: Frontier) throws -> [Operation] {
        let known = try localVersions(of: version)
        var seen = Set<Int>()
        var stack = known
        while let lv = stack.popLast() {
            // Walk whole runs: everything in a run before `lv` is an ancestor of it.
            let run = log.runs[log.runIndex(containing: lv)]
            for unit in Int(run.start) ... lv where seen.insert(unit).inserted {
                if unit == Int(run.start) { stack.append(contentsOf: log.parents(of: unit)) }
            }
        }
        return operations(excluding: seen)
    }

    /// Lamport timestamps of each run's first unit.
    private func runTimestamps() -> [Int] {
        var stamps = [Int](repeating: 0, count: log.runs.count)
        for index in log.runs.indices {
            let run = log.runs[index]
            let parents = log.parents(of: Int(run.start))
            var stamp = 0
            for parent in parents {
                let parentRun = log.runIndex(containing: parent)
                stamp = max(stamp, stamps[parentRun] + parent - Int(log.runs[parentRun].start))
            }
            stamps[index] = stamp + 1
        }
        return stamps
    }

    /// `excluded` is closed under ancestors, so in each run it is a prefix of the units.
    private func operations(excluding excluded: Set<Int>) -> [Operation] {
        let stamps = runTimestamps()
        var result: [Operation] = []
        for index in log.runs.indices {
            let run = log.runs[index]
            let agent = log.agentNames[Int(run.agent)]
            // Runs that are not "type forward" or "delete forward" go out one character at a time,
            // so each id keeps exactly the meaning it has here.
            let wholeRun = run.isInsert ? run.step == 1 : run.step == 0
            var lv = Int(run.start)
            while lv < run.end && excluded.contains(lv) { lv += 1 }
            while lv < run.end {
                let units = wholeRun ? run.end - lv : 1
                let id = OperationID(agent: agent, seq: Int(run.seqStart) + lv - Int(run.start))
                let parents = (lv == Int(run.start) ? log.parents(of: lv) : [lv - 1]).map { log.operationID(of: $0) }
                let ts = stamps[index] + lv - Int(run.start)
                if run.isInsert {
                    let from = log.contentRange(ofUnit: lv, runIndex: index).lowerBound
                    let to = byteOffset(ofScalar: units, in: log.content, from: from)
                    let text = String(decoding: log.content[from ..< to], as: UTF8.self)
                    result.append(Operation(id: id, ts: ts, insert: text, at: run.position(ofUnit: lv), parents: parents))
                } else {
                    result.append(Operation(id: id, ts: ts, deleteCount: units, at: run.position(ofUnit: lv), parents: parents))
                }
                lv += units
            }
        }
        return result
    }
}
