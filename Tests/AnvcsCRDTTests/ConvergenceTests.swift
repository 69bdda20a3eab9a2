import AnvcsCRDT
import Testing

/// Random replicas editing concurrently and syncing in random ways must converge to the oracle's text.
enum Scenario {
    static let alphabet = Array("abcdefghij ñé€😀")

    static func randomText(_ rng: inout SeededGenerator) -> String {
        String((0 ..< Int.random(in: 1 ... 4, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! })
    }

    static func localEdit(_ doc: inout TextDocument, _ rng: inout SeededGenerator) throws {
        if doc.count > 0 && Int.random(in: 0 ..< 3, using: &rng) == 0 {
            let position = Int.random(in: 0 ..< doc.count, using: &rng)
            let removed = Int.random(in: 1 ... min(3, doc.count - position), using: &rng)
            try doc.delete(at: position, count: removed)
        } else {
            try doc.insert(randomText(&rng), at: Int.random(in: 0 ... doc.count, using: &rng))
        }
    }

    /// Runs one seeded scenario; returns a description of the first divergence, or nil.
    static func run(seed: UInt64, replicas: Int = 3, steps: Int = 60, checkEveryStep: Bool = false) throws -> String? {
        do {
            return try unguardedRun(seed: seed, replicas: replicas, steps: steps, checkEveryStep: checkEveryStep)
        } catch {
            return "seed \(seed) (replicas \(replicas), steps \(steps)): \(error)"
        }
    }

    static func unguardedRun(seed: UInt64, replicas: Int, steps: Int, checkEveryStep: Bool) throws -> String? {
        var rng = SeededGenerator(seed: seed)
        var docs = (0 ..< replicas).map { TextDocument(agent: "agent\($0)") }
        for step in 0 ..< steps {
            if checkEveryStep {
                for doc in docs where doc.text != ReferenceCRDT.text(of: doc.operations()) {
                    for operation in doc.operations() { print(operation.id, operation.type, operation.pos, operation.text ?? "", operation.len ?? 0, operation.parents) }
                    return "seed \(seed) step \(step): \(doc.agent) has \(doc.text.debugDescription), oracle \(ReferenceCRDT.text(of: doc.operations()).debugDescription)"
                }
            }
            let i = Int.random(in: 0 ..< replicas, using: &rng)
            switch Int.random(in: 0 ..< 10, using: &rng) {
            case 0 ..< 6:
                try localEdit(&docs[i], &rng)
            case 6 ..< 8:
                let j = Int.random(in: 0 ..< replicas, using: &rng)
                if checkEveryStep { print("step \(step): \(i) merges \(j)") }
                if i != j { try docs[i].merge(docs[j]) }
            default:
                // Deliver some of j's operations to i, shuffled, with duplicates: missing parents wait.
                let j = Int.random(in: 0 ..< replicas, using: &rng)
                guard i != j else { continue }
                var operations = docs[j].operations()
                operations = operations.filter { _ in Bool.random(using: &rng) }
                operations += operations.prefix(2)
                operations.shuffle(using: &rng)
                if checkEveryStep { print("step \(step): \(i) gets \(operations.map(\.id)) from \(j)") }
                for operation in operations { try docs[i].apply([operation]) }
            }
        }
        // Full sync in a random order, then everyone must agree with each other and the oracle.
        for _ in 0 ..< 2 {
            for i in (0 ..< replicas).shuffled(using: &rng) {
                for j in 0 ..< replicas where j != i { try docs[i].merge(docs[j]) }
            }
        }
        let expected = ReferenceCRDT.text(of: docs[0].operations())
        for doc in docs where doc.text != expected {
            return "seed \(seed): \(doc.agent) has \(doc.text.debugDescription), oracle \(expected.debugDescription)"
        }
        return nil
    }
}

@Suite struct ConvergenceTests {
    @Test func fixedSeedsConvergeToTheOracle() throws {
        for seed in UInt64(1) ... 40 {
            let failure = try Scenario.run(seed: seed)
            #expect(failure == nil, "\(failure ?? "")")
        }
    }

    @Test func debugSeed() throws {
        guard let seed = ProcessInfoLite.environment["ANVCS_CRDT_SEED"].flatMap({ UInt64($0) }) else { return }
        let failure = try Scenario.run(seed: seed, replicas: Int(seed % 4) + 2, steps: 80, checkEveryStep: true)
        #expect(failure == nil, "\(failure ?? "")")
    }

    @Test func manyReplicasConverge() throws {
        for seed in UInt64(100) ... 105 {
            let failure = try Scenario.run(seed: seed, replicas: 6, steps: 120)
            #expect(failure == nil, "\(failure ?? "")")
        }
    }

    /// ANVCS_CRDT_LONG=1 runs thousands of seeds (ANVCS_CRDT_SEEDS overrides how many).
    @Test func longRunBehindEnvironmentVariable() throws {
        let environment = ProcessInfoLite.environment
        guard environment["ANVCS_CRDT_LONG"] == "1" else { return }
        let count = UInt64(environment["ANVCS_CRDT_SEEDS"].flatMap { UInt64($0) } ?? 2000)
        for seed in UInt64(10_000) ..< 10_000 + count {
            let failure = try Scenario.run(seed: seed, replicas: Int(seed % 4) + 2, steps: 80)
            #expect(failure == nil, "\(failure ?? "")")
            if failure != nil { break }
        }
    }
}
