import AnvcsMerge
import AnvcsTestSupport
import Foundation
import Testing

/// The line layer must agree with real `git merge-file`, output and exit status, on many cases.
@Suite struct GitParityTests {
    @Test(arguments: ConflictStyle.allCases)
    func generatedCasesMatchGitMergeFile(style: ConflictStyle) throws {
        let seed = UInt64(ProcessInfo.processInfo.environment["ANVCS_SEED"] ?? "") ?? 0x5EED_0008
        var rng = SeededGenerator(seed: seed &+ UInt64(style.rawValue.count))
        let oracle = try GitMergeFileOracle()
        var mismatches = 0
        for index in 0 ..< 300 {
            let scenario = GeneratedScenario.random(using: &rng)
            let input = MergeInput(base: scenario.base, ours: scenario.ours, theirs: scenario.theirs, style: style,
                                   labels: ConflictLabels(ours: "ours", base: "base", theirs: "theirs"))
            let ours = MergeEngine.lineMerge(input)
            let git = try oracle.merge(base: scenario.base, ours: scenario.ours, theirs: scenario.theirs, style: style)
            if ours.text != git.text || min(ours.conflictCount, 127) != git.conflictCount {
                mismatches += 1
                if mismatches <= 3 {
                    Issue.record("""
                    case \(index) (seed \(seed), style \(style)) differs from git merge-file
                    base:\n\(String(decoding: scenario.base, as: UTF8.self))
                    ours:\n\(String(decoding: scenario.ours, as: UTF8.self))
                    theirs:\n\(String(decoding: scenario.theirs, as: UTF8.self))
                    git (\(git.conflictCount)):\n\(String(decoding: git.text, as: UTF8.self))
                    anvcs (\(ours.conflictCount)):\n\(String(decoding: ours.text, as: UTF8.self))
                    """)
                }
            }
        }
        #expect(mismatches == 0)
    }

    /// Large, heavily edited files drive the Myers search into xdiff's cost cut-offs.
    @Test func largeFilesMatchGitMergeFile() throws {
        var rng = SeededGenerator(seed: 0x1A26E)
        let oracle = try GitMergeFileOracle()
        for index in 0 ..< 12 {
            let lineCount = 1500 + index * 300
            let base = (0 ..< lineCount).map { _ in "line \(Int.random(in: 0 ..< 40, using: &rng))" }
            func edited(_ rng: inout SeededGenerator) -> [String] {
                var copy = base
                for _ in 0 ..< lineCount / 3 {
                    let at = Int.random(in: 0 ..< copy.count, using: &rng)
                    switch Int.random(in: 0 ..< 3, using: &rng) {
                    case 0: copy.insert("new \(Int.random(in: 0 ..< 60, using: &rng))", at: at)
                    case 1: copy.remove(at: at)
                    default: copy[at] = "line \(Int.random(in: 0 ..< 40, using: &rng))"
                    }
                }
                return copy
            }
            let texts = [base, edited(&rng), edited(&rng)].map { GeneratedScenario.join($0, crlf: false, finalNewline: true) }
            let input = MergeInput(base: texts[0], ours: texts[1], theirs: texts[2],
                                   labels: ConflictLabels(ours: "ours", base: "base", theirs: "theirs"))
            let ours = MergeEngine.lineMerge(input)
            let git = try oracle.merge(base: texts[0], ours: texts[1], theirs: texts[2], style: .merge)
            #expect(ours.text == git.text, "large case \(index) differs from git merge-file")
            #expect(min(ours.conflictCount, 127) == git.conflictCount)
        }
    }
}
