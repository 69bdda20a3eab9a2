import AnvcsCRDT
import Testing

/// One agent typing like a person (runs forward, backspaces, forward deletes, jumps): merging the
/// history into an empty replica and loading it without state must rebuild the same text.
@Suite struct SequentialHistoryTests {
    static func typist(seed: UInt64, edits: Int) throws -> TextDocument {
        var rng = SeededGenerator(seed: seed)
        var doc = TextDocument(agent: "typist")
        var cursor = 0
        for _ in 0 ..< edits {
            switch Int.random(in: 0 ..< 10, using: &rng) {
            case 0 ..< 5:
                try doc.insert(String("abcé😀 ".randomElement(using: &rng)!), at: cursor)
                cursor += 1
            case 5, 6:
                if cursor > 0 { cursor -= 1; try doc.delete(at: cursor, count: 1) }
            case 7:
                if cursor < doc.count { try doc.delete(at: cursor, count: 1) }
                if Bool.random(using: &rng) { cursor += 1 }  // delete, step right, delete again
            case 8:
                try doc.insert("xy", at: cursor)  // stays at the cursor: typing backwards
            default:
                cursor = Int.random(in: 0 ... doc.count, using: &rng)
            }
            cursor = min(cursor, doc.count)
        }
        return doc
    }

    @Test func mergeIntoEmptyAndLoadWithoutStateRebuildTheText() throws {
        for seed in UInt64(1) ... 30 {
            let doc = try Self.typist(seed: seed, edits: 300)
            var empty = TextDocument(agent: "empty")
            try empty.merge(doc)
            #expect(empty.text == doc.text, "seed \(seed)")
            let loaded = try TextDocument(decoding: doc.encoded(includingState: false), agent: "x")
            #expect(loaded.text == doc.text, "seed \(seed)")
            var applied = TextDocument(agent: "ops")
            try applied.apply(doc.operations())
            #expect(applied.text == doc.text, "seed \(seed)")
        }
    }
}
