import AnvcsCRDT
import Testing

@Suite struct DocumentTests {
    @Test func localEditsSpliceTheText() throws {
        var doc = TextDocument(agent: "a")
        try doc.insert("hello world", at: 0)
        try doc.delete(at: 5, count: 6)
        try doc.insert(", there", at: 5)
        try doc.replace(at: 0, removing: 1, with: "H")
        #expect(doc.text == "Hello, there")
        #expect(doc.count == 12)
        #expect(doc.version == [OperationID(agent: "a", seq: 25)])  // 11 + 6 + 7 + 1 + 1 characters
    }

    @Test func nonASCIITextCountsScalars() throws {
        var doc = TextDocument(agent: "a")
        try doc.insert("añb", at: 0)
        try doc.insert("😀", at: 2)
        try doc.delete(at: 1, count: 1)
        #expect(doc.text == "a😀b")
        #expect(doc.count == 3)
    }

    @Test func concurrentRunsAtTheSamePlaceDoNotInterleave() throws {
        var base = TextDocument(agent: "base")
        try base.insert("Hi !", at: 0)
        var alice = base.fork(agent: "alice")
        var bob = base.fork(agent: "bob")
        for (k, character) in "there".enumerated() { try alice.insert(String(character), at: 3 + k) }
        for (k, character) in "you".enumerated() { try bob.insert(String(character), at: 3 + k) }
        var merged = alice
        try merged.merge(bob)
        try bob.merge(alice)
        #expect(merged.text == bob.text)
        #expect(merged.text == "Hi thereyou!")
    }

    @Test func backwardTypingStaysTogetherToo() throws {
        var base = TextDocument(agent: "base")
        try base.insert("[]", at: 0)
        var alice = base.fork(agent: "alice")
        var bob = base.fork(agent: "bob")
        for character in "cba" { try alice.insert(String(character), at: 1) }
        for character in "zyx" { try bob.insert(String(character), at: 1) }
        try alice.merge(bob)
        #expect(alice.text == "[abcxyz]" || alice.text == "[xyzabc]")
    }

    @Test func concurrentDeletesOfTheSameTextAreHarmless() throws {
        var base = TextDocument(agent: "base")
        try base.insert("abcdef", at: 0)
        var alice = base.fork(agent: "alice")
        var bob = base.fork(agent: "bob")
        try alice.delete(at: 1, count: 3)
        try bob.delete(at: 2, count: 3)
        try alice.merge(bob)
        try bob.merge(alice)
        #expect(alice.text == "af")
        #expect(bob.text == "af")
    }

    @Test func mergeIsIdempotentAndCommutative() throws {
        var alice = TextDocument(agent: "alice")
        var bob = TextDocument(agent: "bob")
        try alice.insert("one", at: 0)
        try bob.insert("two", at: 0)
        var ab = alice, ba = bob
        try ab.merge(bob)
        try ab.merge(bob)
        try ba.merge(alice)
        #expect(ab.text == ba.text)
        #expect(Set(ab.version) == Set(ba.version))
        #expect(ab.operationCount == 6)
    }

    @Test func operationsSinceAVersionAreWhatThePeerLacks() throws {
        var alice = TextDocument(agent: "alice")
        try alice.insert("abc", at: 0)
        let seen = alice.version
        var bob = alice.fork(agent: "bob")
        try alice.insert("d", at: 3)
        try alice.delete(at: 0, count: 1)
        let missing = try alice.operations(since: seen)
        #expect(missing.map(\.id) == [OperationID(agent: "alice", seq: 3), OperationID(agent: "alice", seq: 4)])
        try bob.apply(missing)
        #expect(bob.text == "bcd")
    }

    @Test func mergeDriverAPIKeepsBothSidesInsertions() throws {
        let merged = try ConcurrentEdits.merge(
            base: "import A\nimport C\n",
            ours: [TextEdit(position: 9, insert: "import B\n")],
            theirs: [TextEdit(position: 18, insert: "import D\n"), TextEdit(position: 9, insert: "import B2\n")])
        #expect(merged == "import A\nimport B\nimport B2\nimport C\nimport D\n")
    }

    @Test func anchorsFollowLocalAndRemoteEdits() throws {
        var alice = TextDocument(agent: "alice")
        try alice.insert("hello world", at: 0)
        var bob = alice.fork(agent: "bob")
        let caret = try alice.anchor(at: 6, bias: .after)      // before "world"
        let end = try alice.anchor(at: 5, bias: .before)       // after "hello"
        try bob.insert(">> ", at: 0)
        try bob.delete(at: 3 + 5, count: 1)                    // the space
        try alice.merge(bob)
        #expect(alice.text == ">> helloworld")
        #expect(alice.position(of: caret) == 8)
        #expect(alice.position(of: end) == 8)
        try alice.insert("!", at: 8)
        #expect(alice.position(of: caret) == 9)
        #expect(alice.position(of: end) == 8)
        alice.remove(caret)
        #expect(alice.position(of: caret) == nil)
    }
}

@Suite struct BadInputTests {
    @Test func localPositionsPastTheEndThrow() throws {
        var doc = TextDocument(agent: "a")
        try doc.insert("abc", at: 0)
        #expect(throws: CRDTError.self) { try doc.insert("x", at: 4) }
        #expect(throws: CRDTError.self) { try doc.delete(at: 2, count: 2) }
        #expect(doc.text == "abc")
    }

    @Test func remotePositionsPastTheEndThrowAndLeaveTheDocumentIntact() throws {
        var doc = TextDocument(agent: "a")
        try doc.insert("abc", at: 0)
        let bad = Operation(id: OperationID(agent: "b", seq: 0), insert: "x", at: 9, parents: [OperationID(agent: "a", seq: 2)])
        #expect(throws: CRDTError.self) { try doc.apply([bad]) }
        var other = TextDocument(agent: "c")
        try other.insert("zz", at: 0)
        let concurrentBad = Operation(id: OperationID(agent: "d", seq: 0), deleteCount: 1, at: 5, parents: [OperationID(agent: "a", seq: 0)])
        #expect(throws: CRDTError.self) { try doc.apply([concurrentBad]) }
        #expect(doc.text == "abc")
        #expect(doc.operationCount == 3)
        try doc.merge(other)
        #expect(doc.text == "abczz" || doc.text == "zzabc")
    }

    @Test func operationsWithUnknownParentsWaitUntilTheParentsArrive() throws {
        var source = TextDocument(agent: "s")
        try source.insert("ab", at: 0)
        try source.insert("c", at: 0)
        try source.delete(at: 0, count: 1)
        let operations = source.operations()
        #expect(operations.count == 3)
        var doc = TextDocument(agent: "d")
        try doc.apply(Array(operations.reversed().dropLast()))
        #expect(doc.text == "")
        #expect(doc.pendingCount == 2)
        try doc.apply([operations[0], operations[0]])
        #expect(doc.text == "ab")
        #expect(doc.pendingCount == 0)
    }

    @Test func pendingOperationsAreBounded() throws {
        var doc = TextDocument(agent: "d")
        doc.pendingLimit = 10
        let orphan = Operation(id: OperationID(agent: "x", seq: 5), insert: String(repeating: "y", count: 11), at: 0,
                               parents: [OperationID(agent: "x", seq: 4)])
        #expect(throws: CRDTError.tooManyPendingOperations(limit: 10)) { try doc.apply([orphan]) }
        #expect(doc.pendingCount == 0)
    }

    @Test func duplicateIdsWithDifferentContentAreRejected() throws {
        var source = TextDocument(agent: "s")
        try source.insert("abc", at: 0)
        var doc = TextDocument(agent: "d")
        try doc.merge(source)
        let forged = Operation(id: OperationID(agent: "s", seq: 1), insert: "Xc", at: 1, parents: [OperationID(agent: "s", seq: 0)])
        #expect(throws: CRDTError.conflictingDuplicate(id: OperationID(agent: "s", seq: 1))) { try doc.apply([forged]) }
        let same = Operation(id: OperationID(agent: "s", seq: 1), insert: "bc", at: 1, parents: [OperationID(agent: "s", seq: 0)])
        try doc.apply([same])
        #expect(doc.text == "abc")
    }

    @Test func malformedOperationsAreRejected() throws {
        var doc = TextDocument(agent: "d")
        #expect(throws: CRDTError.self) { try doc.apply([Operation(id: OperationID(agent: "x", seq: 0), insert: "", at: 0, parents: [])]) }
        #expect(throws: CRDTError.self) { try doc.apply([Operation(id: OperationID(agent: "x", seq: 0), deleteCount: 0, at: 0, parents: [])]) }
        #expect(throws: CRDTError.self) { try TextDocument.operations(fromJSON: Array(#"[{"id":"x","type":"insert","pos":0,"text":"a"}]"#.utf8)) }
        #expect(throws: CRDTError.self) { try TextDocument.operations(fromJSON: Array(#"[{"id":"x:0","type":"move","pos":0}]"#.utf8)) }
    }
}

@Suite struct EncodingTests {
    static func sample() throws -> TextDocument {
        var alice = TextDocument(agent: "alice")
        try alice.insert("hello wörld", at: 0)
        var bob = alice.fork(agent: "bob")
        try alice.delete(at: 0, count: 1)
        try alice.insert("H", at: 0)
        try bob.insert("!", at: 11)
        try bob.delete(at: 10, count: 1)
        try alice.merge(bob)
        try alice.insert("😀", at: 3)
        return alice
    }

    @Test func roundTripsWithAndWithoutState() throws {
        let doc = try Self.sample()
        for state in [true, false] {
            let loaded = try TextDocument(decoding: doc.encoded(includingState: state), agent: "alice")
            #expect(loaded.text == doc.text)
            #expect(Set(loaded.version) == Set(doc.version))
            #expect(loaded.operations() == doc.operations())
            #expect(loaded.encoded(includingState: state) == doc.encoded(includingState: state))
        }
    }

    @Test func loadedDocumentKeepsEditingAndMerging() throws {
        let doc = try Self.sample()
        var loaded = try TextDocument(decoding: doc.encoded(), agent: "carol")
        try loaded.insert("?", at: 0)
        var original = doc
        try original.merge(loaded)
        #expect(original.text == "?" + doc.text)
    }

    @Test func everyTruncationAndEveryFlippedByteThrows() throws {
        let bytes = try Self.sample().encoded()
        for length in 0 ..< bytes.count {
            #expect(throws: CRDTError.self) { try TextDocument(decoding: Array(bytes.prefix(length)), agent: "x") }
        }
        for index in bytes.indices {
            var corrupted = bytes
            corrupted[index] ^= 0x5A
            #expect(throws: CRDTError.self) { try TextDocument(decoding: corrupted, agent: "x") }
        }
    }

    @Test func structurallyBadInputWithAValidChecksumThrows() throws {
        var rng = SeededGenerator(seed: 7)
        let valid = try Self.sample().encoded(includingState: false)
        for _ in 0 ..< 2000 {
            var body = Array(valid.dropLast(4))
            let index = Int.random(in: 8 ..< body.count, using: &rng)
            body[index] = UInt8.random(in: 0 ... 255, using: &rng)
            let bytes = body + checksum(body)
            // Either a document that replays, or an error: never a crash.
            _ = try? TextDocument(decoding: bytes, agent: "x")
        }
    }

    @Test func jsonRoundTrip() throws {
        let doc = try Self.sample()
        let json = try TextDocument.json(of: doc.operations())
        let decoded = try TextDocument.operations(fromJSON: json)
        #expect(decoded == doc.operations())
        var replica = TextDocument(agent: "z")
        try replica.apply(decoded.shuffled())
        #expect(replica.text == doc.text)
    }

    private func checksum(_ bytes: [UInt8]) -> [UInt8] {
        var hash: UInt32 = 0x811C_9DC5
        for byte in bytes { hash = (hash ^ UInt32(byte)) &* 0x0100_0193 }
        return [UInt8(hash & 0xFF), UInt8(hash >> 8 & 0xFF), UInt8(hash >> 16 & 0xFF), UInt8(hash >> 24)]
    }
}

@Suite struct HistoryTextCodingTests {
    /// Inserted text of every shape round-trips through the saved history (Huffman or raw).
    @Test func insertedTextOfEveryShapeRoundTrips() throws {
        var rng = SeededGenerator(seed: 99)
        let samples: [String] = [
            "a", "aaaaaaaaaaaaaaaa", "ab", String(repeating: "the quick brown fox ", count: 50),
            String((0 ..< 3000).map { _ in Character(Unicode.Scalar(UInt8.random(in: 32 ... 126, using: &rng))) }),
            String((0 ..< 500).map { _ in Character(Unicode.Scalar(UInt32.random(in: 0x20 ... 0x2FFF, using: &rng))!) }),
            "😀ñ€\u{7F}\u{1}",
        ]
        for sample in samples {
            var doc = TextDocument(agent: "a")
            try doc.insert(sample, at: 0)
            try doc.delete(at: 0, count: 1)
            let loaded = try TextDocument(decoding: doc.encoded(includingState: false), agent: "b")
            #expect(loaded.text == doc.text)
            #expect(loaded.operations() == doc.operations())
        }
    }

    /// Skewed frequencies (Fibonacci) would need codes longer than 24 bits: stored raw instead.
    @Test func pathologicalFrequenciesFallBackToRawText() throws {
        var text = ""
        var a = 1, b = 1
        for symbol in 0 ..< 30 {
            text += String(repeating: String(Character(Unicode.Scalar(UInt8(65 + symbol % 58)))), count: min(a, 200_000))
            (a, b) = (b, a + b)
            if a > 200_000 { break }
        }
        var doc = TextDocument(agent: "a")
        try doc.insert(text, at: 0)
        let loaded = try TextDocument(decoding: doc.encoded(), agent: "b")
        #expect(loaded.text == text)
    }
}
