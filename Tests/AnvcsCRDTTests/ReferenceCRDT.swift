import AnvcsTestSupport
import AnvcsCRDT

/// The oracle: a deliberately simple list CRDT that replays a whole history from the empty
/// document, one character at a time, recomputing each operation's version from scratch.
/// Same ordering rule as the engine (YjsMod / FugueMax origins, ties by id), none of its machinery.
struct ReferenceCRDT {
    private struct Item {
        var id: OperationID
        var character: Character
        var originLeft: OperationID?
        var originRight: OperationID?
    }

    private struct Unit {
        var id: OperationID
        var parents: [OperationID]
        var isInsert: Bool
        var position: Int
        var character: Character
    }

    /// The text every replica must show after seeing `operations` (given in a causal order).
    static func text(of operations: [Operation]) -> String {
        var units: [Unit] = []
        for operation in operations {
            let characters = operation.type == .insert ? operation.text!.unicodeScalars.map { Character($0) } : Array(repeating: Character(" "), count: operation.len!)
            for k in characters.indices {
                let id = OperationID(agent: operation.id.agent, seq: operation.id.seq + k)
                let parents = k == 0 ? operation.parents : [OperationID(agent: operation.id.agent, seq: operation.id.seq + k - 1)]
                units.append(Unit(id: id, parents: parents, isInsert: operation.type == .insert,
                                  position: operation.type == .insert ? operation.pos + k : operation.pos, character: characters[k]))
            }
        }
        var ancestors: [OperationID: Set<OperationID>] = [:]
        var items: [Item] = []
        var deleted: [OperationID: OperationID] = [:] // delete unit -> target
        for unit in units {
            var past = Set<OperationID>()
            for parent in unit.parents {
                past.insert(parent)
                past.formUnion(ancestors[parent]!)
            }
            ancestors[unit.id] = past
            let deletedInPast = Set(deleted.filter { past.contains($0.key) }.values)
            let visible = items.indices.filter { past.contains(items[$0].id) && !deletedInPast.contains(items[$0].id) }
            if unit.position > visible.count || (!unit.isInsert && unit.position == visible.count) {
                return "<invalid history: \(unit.id) at \(unit.position) past \(visible.count)>"
            }
            if unit.isInsert {
                let left: Int? = unit.position == 0 ? nil : visible[unit.position - 1]
                let right = ((left.map { $0 + 1 } ?? 0) ..< items.count).first { past.contains(items[$0].id) }
                let item = Item(id: unit.id, character: unit.character, originLeft: left.map { items[$0].id },
                                originRight: right.map { items[$0].id })
                integrate(item, into: &items)
            } else {
                deleted[unit.id] = items[visible[unit.position]].id
            }
        }
        let gone = Set(deleted.values)
        return String(items.filter { !gone.contains($0.id) }.map(\.character))
    }

    private static func integrate(_ item: Item, into items: inout [Item]) {
        func index(_ id: OperationID?, orEnd end: Bool) -> Int {
            guard let id else { return end ? items.count : -1 }
            return items.firstIndex { $0.id == id }!
        }
        let left = index(item.originLeft, orEnd: false)
        let right = index(item.originRight, orEnd: true)
        var destination = left + 1
        var scanning = false
        var i = left + 1
        while true {
            if !scanning { destination = i }
            if i == items.count || i == right { break }
            let other = items[i]
            let otherLeft = index(other.originLeft, orEnd: false)
            let otherRight = index(other.originRight, orEnd: true)
            if otherLeft < left { break }
            if otherLeft == left {
                if otherRight < right {
                    scanning = true
                } else if otherRight == right {
                    if item.id < other.id { break }
                    scanning = false
                } else {
                    scanning = false
                }
            }
            i += 1
        }
        items.insert(item, at: destination)
    }
}

/// The suite-wide seedable generator (SplitMix64) from AnvcsTestSupport.
typealias SeededGenerator = SeededRandom
