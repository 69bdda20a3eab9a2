/// Eg-walker replay of the operations since a critical version (Gentle & Kleppmann, EuroSys 2025).
///
/// The document text before the zone is a placeholder of "inserted" characters; every unit after
/// it becomes an item ordered FugueMax/YjsMod-style by its left and right origins. Each item has a
/// prepare state (as seen at the version the next operation was made on, moved by retreat/advance)
/// and an effect state (whether any processed operation deleted it). Units of operations new to
/// the document yield their effect: a position in the current text.
struct ConflictZone {
    struct Item {
        var id: Int
        var count: Int
        var originLeft: Int
        var originRight: Int
        /// 0: not inserted yet, 1: inserted, n > 1: deleted n - 1 times.
        var state: Int32
        var everDeleted: Bool
    }

    struct Effect {
        var isInsert: Bool
        var position: Int
        var lv: Int
    }

    static let placeholderBase = 1 << 48
    static let unknownLength = 1 << 40

    var items: [Item] = []
    var totalUnits = 0
    var deleteTargets: [Int: Int] = [:]
    var placeholderEnd: Int

    init(placeholderLength: Int) {
        placeholderEnd = Self.placeholderBase + placeholderLength
        if placeholderLength > 0 {
            items.append(Item(id: Self.placeholderBase, count: placeholderLength, originLeft: -1,
                              originRight: -1, state: 1, everDeleted: false))
        }
        totalUnits = placeholderLength
    }

    /// Item index, offset in it and unit index of unit `id`.
    func locate(_ id: Int) -> (item: Int, offset: Int, unit: Int)? {
        var unit = 0
        for index in items.indices {
            let item = items[index]
            if id >= item.id && id < item.id + item.count { return (index, id - item.id, unit + id - item.id) }
            unit += item.count
        }
        return nil
    }

    func leftIndex(_ id: Int) -> Int {
        id < 0 ? -1 : (locate(id)?.unit ?? -1)
    }

    func rightIndex(_ id: Int) -> Int {
        if id < 0 || (id >= Self.placeholderBase && id >= placeholderEnd) { return totalUnits }
        return locate(id)?.unit ?? totalUnits
    }

    /// Splits item `index` so a new item starts at `offset`; returns the index of that item.
    @discardableResult
    mutating func split(_ index: Int, at offset: Int) -> Int {
        if offset == 0 { return index }
        let item = items[index]
        if offset >= item.count { return index + 1 }
        var right = item
        right.id = item.id + offset
        right.count = item.count - offset
        right.originLeft = item.id + offset - 1
        items[index].count = offset
        items.insert(right, at: index + 1)
        return index + 1
    }

    /// Splits so that unit `id` is an item of its own; returns its index.
    mutating func isolate(_ id: Int) -> Int {
        guard let (index, offset, _) = locate(id) else { preconditionFailure("unit \(id) missing from zone") }
        let single = split(index, at: offset)
        split(single, at: 1)
        return single
    }

    mutating func changeState(of id: Int, by delta: Int32) {
        let index = isolate(id)
        items[index].state += delta
    }

    /// Cuts the placeholder down to the real length of the document at the zone's start.
    mutating func truncatePlaceholder(to length: Int) {
        let cut = Self.placeholderBase + length
        if let (index, offset, _) = locate(cut) {
            let tail = split(index, at: offset)
            totalUnits -= items[tail].count
            items.remove(at: tail)
        }
        placeholderEnd = cut
    }

    var preparedLength: Int {
        items.reduce(0) { $0 + ($1.state == 1 ? $1.count : 0) }
    }

    /// Integrates an insertion of unit `lv` at prepare position `position`; returns its effect position.
    mutating func insert(lv: Int, at position: Int, idOf: (Int) -> OperationID) throws -> Int {
        // The id (an agent name) is only needed to break a tie or to report an error.
        var cachedID: OperationID? = nil
        func newID() -> OperationID {
            if let cachedID { return cachedID }
            cachedID = idOf(lv)
            return cachedID!
        }
        var leftID = -1, leftUnit = -1, leftItem = -1, leftOffset = 0
        if position > 0 {
            var remaining = position, unit = 0
            for index in items.indices {
                let item = items[index]
                if item.state == 1 {
                    if remaining <= item.count {
                        leftID = item.id + remaining - 1
                        leftUnit = unit + remaining - 1
                        leftItem = index
                        leftOffset = remaining - 1
                        break
                    }
                    remaining -= item.count
                }
                unit += item.count
            }
            if leftID < 0 {
                throw CRDTError.positionPastEnd(position: position, length: preparedLength, operation: "insert \(newID())")
            }
        }
        var rightID = -1, rightUnit = totalUnits
        if leftItem >= 0 && leftOffset < items[leftItem].count - 1 {
            rightID = leftID + 1
            rightUnit = leftUnit + 1
        } else {
            var unit = leftUnit + 1
            for index in (leftItem + 1) ..< items.count {
                let item = items[index]
                if item.state != 0 { rightID = item.id; rightUnit = unit; break }
                unit += item.count
            }
        }
        // YjsMod / FugueMax: scan the concurrent items between the origins.
        var destination = leftUnit + 1
        var scanning = false
        var unit = leftUnit + 1
        var cursorItem = leftItem >= 0 ? leftItem : 0
        var cursorOffset = leftItem >= 0 ? leftOffset + 1 : 0
        while true {
            if !scanning { destination = unit }
            if unit >= totalUnits || unit == rightUnit { break }
            while cursorOffset >= items[cursorItem].count { cursorItem += 1; cursorOffset = 0 }
            let other = items[cursorItem]
            let otherLeft = cursorOffset == 0 ? other.originLeft : other.id + cursorOffset - 1
            let otherLeftIndex = leftIndex(otherLeft)
            let otherRightIndex = rightIndex(other.originRight)
            if otherLeftIndex < leftUnit { break }
            if otherLeftIndex == leftUnit {
                if otherRightIndex < rightUnit {
                    scanning = true
                } else if otherRightIndex == rightUnit {
                    if newID() < idOf(other.id + cursorOffset) { break }
                    scanning = false
                } else {
                    scanning = false
                }
            }
            unit += 1
            cursorOffset += 1
        }
        // Insert as an item of its own at unit index `destination`, or extend the item before it.
        var index = 0, before = 0, effect = 0
        while index < items.count && before + items[index].count <= destination {
            before += items[index].count
            if !items[index].everDeleted { effect += items[index].count }
            index += 1
        }
        if index < items.count && before < destination {
            let offset = destination - before
            if !items[index].everDeleted { effect += offset }
            index = split(index, at: offset)
        }
        if index > 0 {
            let previous = items[index - 1]
            if previous.id + previous.count == lv && leftID == lv - 1 && previous.originRight == rightID
                && previous.state == 1 && !previous.everDeleted {
                items[index - 1].count += 1
                totalUnits += 1
                return effect
            }
        }
        items.insert(Item(id: lv, count: 1, originLeft: leftID, originRight: rightID, state: 1, everDeleted: false), at: index)
        totalUnits += 1
        return effect
    }

    /// Deletes the character at prepare position `position`; returns its effect position, or nil
    /// when a concurrent operation already deleted it.
    mutating func delete(lv: Int, at position: Int, idOf: (Int) -> OperationID) throws -> Int? {
        var remaining = position, effect = 0
        for index in items.indices {
            let item = items[index]
            if item.state == 1 && remaining < item.count {
                let target = item.id + remaining
                let wasDeleted = item.everDeleted
                if !wasDeleted { effect += remaining }
                let single = isolate(target)
                items[single].state += 1
                items[single].everDeleted = true
                deleteTargets[lv] = target
                return wasDeleted ? nil : effect
            }
            if item.state == 1 { remaining -= item.count }
            if !item.everDeleted { effect += item.count }
        }
        throw CRDTError.positionPastEnd(position: position, length: preparedLength, operation: "delete \(idOf(lv))")
    }
}
