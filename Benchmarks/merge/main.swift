// Evaluates the merge engine against `git merge-file` on a corpus of real merges
// (scripts/merge-corpus/regenerate.py writes one), then times a 10,000-line file.
//
// Usage: anvcs-merge-benchmark [corpus-directory]   (default /tmp/anvcs-merge-corpus)
import AnvcsMerge
import AnvcsMergeSwift
import Foundation

struct Scenario {
    var name: String
    var path: String
    var base: [UInt8], ours: [UInt8], theirs: [UInt8], result: [UInt8]
}

enum Outcome: String, CaseIterable { case cleanEqual = "clean & equal to human", cleanDifferent = "clean but different", conflict = "conflicts" }

struct Tally {
    var counts: [Outcome: Int] = [:]
    var millis: [Double] = []
    mutating func add(_ outcome: Outcome, _ ms: Double) { counts[outcome, default: 0] += 1; millis.append(ms) }
    var median: Double {
        let sorted = millis.sorted()
        return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
    }
}

func loadCorpus(_ root: URL) throws -> [Scenario] {
    let fm = FileManager.default
    var scenarios: [Scenario] = []
    for repo in try fm.contentsOfDirectory(atPath: root.path).sorted() {
        let repoURL = root.appendingPathComponent(repo)
        for case_ in (try? fm.contentsOfDirectory(atPath: repoURL.path).sorted()) ?? [] {
            let dir = repoURL.appendingPathComponent(case_)
            let meta = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("scenario.json"))) as? [String: Any]
            guard let path = meta?["path"] as? String else { continue }
            let ext = (path as NSString).pathExtension
            func read(_ name: String) throws -> [UInt8] {
                [UInt8](try Data(contentsOf: dir.appendingPathComponent(ext.isEmpty ? name : "\(name).\(ext)")))
            }
            scenarios.append(Scenario(name: "\(repo)/\(case_) \(path)", path: path, base: try read("base"),
                                      ours: try read("ours"), theirs: try read("theirs"), result: try read("result")))
        }
    }
    return scenarios
}

func gitMergeFile(_ s: Scenario, scratch: URL) throws -> (text: [UInt8], clean: Bool, ms: Double) {
    let files = ["ours", "base", "theirs"].map { scratch.appendingPathComponent($0) }
    try Data(s.ours).write(to: files[0])
    try Data(s.base).write(to: files[1])
    try Data(s.theirs).write(to: files[2])
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/git")
    process.arguments = ["merge-file", "-p", "-L", "ours", "-L", "base", "-L", "theirs"] + files.map(\.path)
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    let start = ContinuousClock.now
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let elapsed = ContinuousClock.now - start
    return ([UInt8](data), process.terminationStatus == 0, milliseconds(elapsed))
}

func milliseconds(_ d: Duration) -> Double {
    Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
}

func classify(clean: Bool, text: [UInt8], human: [UInt8]) -> Outcome {
    clean ? (text == human ? .cleanEqual : .cleanDifferent) : .conflict
}

/// ANVCS_BENCH_LAYERS=structure,tokens,... limits the engine's layers (to measure each one).
let layers: Set<MergeLayer> = ProcessInfo.processInfo.environment["ANVCS_BENCH_LAYERS"].map {
    Set($0.split(separator: ",").compactMap { MergeLayer(rawValue: String($0)) })
} ?? [.identicalChange, .whitespace, .tokens, .structure]
let root = URL(fileURLWithPath: CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "/tmp/anvcs-merge-corpus")
let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("anvcs-merge-bench-\(getpid())")
try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
let scenarios = try loadCorpus(root)
guard !scenarios.isEmpty else {
    FileHandle.standardError.write(Data("no scenarios in \(root.path): run scripts/merge-corpus/regenerate.py first\n".utf8))
    exit(1)
}

var git = Tally(), anvcs = Tally()
var gitRightWeWrong: [String] = []
var gitConflicts = 0, resolvedCorrectlyWhereGitConflicted = 0, resolvedDifferentlyWhereGitConflicted = 0
var lineParity = 0
var differentOnlyInWhitespace = 0, differentOnlyInLineOrder = 0
func squeezed(_ b: [UInt8]) -> [UInt8] { b.filter { $0 != 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D } }
func sortedLines(_ b: [UInt8]) -> [ArraySlice<UInt8>] { b.split(separator: 0x0A).sorted { $0.lexicographicallyPrecedes($1) } }
var byLanguage: [String: (total: Int, gitConflicts: Int, ourFixes: Int)] = [:]

/// What the human's result is, for a scenario git leaves in conflict: how far a merge tool, which
/// sees only base, ours and theirs, can get to it at all.
enum HumanResult: String, CaseIterable {
    case oneSide = "equal to one side (the other side's change dropped)"
    case composed = "made of the inputs' lines only"
    case novel = "has lines none of the inputs has"

    init(_ s: Scenario) {
        if s.result == s.ours || s.result == s.theirs { self = .oneSide; return }
        let known = Set([s.base, s.ours, s.theirs].flatMap { $0.split(separator: 0x0A, omittingEmptySubsequences: false) })
        self = s.result.split(separator: 0x0A, omittingEmptySubsequences: false).allSatisfy(known.contains) ? .composed : .novel
    }
}
var byHumanResult: [HumanResult: [Outcome: Int]] = [:]
/// ANVCS_BENCH_DUMP=FILE writes one JSON line per scenario: outcomes and the engine's resolutions.
let dump: FileHandle? = ProcessInfo.processInfo.environment["ANVCS_BENCH_DUMP"].flatMap {
    _ = FileManager.default.createFile(atPath: $0, contents: nil)
    return FileHandle(forWritingAtPath: $0)
}
for s in scenarios {
    let g = try gitMergeFile(s, scratch: scratch)
    let gitOutcome = classify(clean: g.clean, text: g.text, human: s.result)
    git.add(gitOutcome, g.ms)
    // Parity of the line layer with git merge-file, output and status, on every mined case.
    let line = MergeEngine.lineMerge(MergeInput(base: s.base, ours: s.ours, theirs: s.theirs,
                                                labels: ConflictLabels(ours: "ours", base: "base", theirs: "theirs")))
    if line.text == g.text && line.isClean == g.clean { lineParity += 1 } else { print("  line layer differs from git: \(s.name)") }
    let start = ContinuousClock.now
    let output = MergeEngine.merge(MergeInput(base: s.base, ours: s.ours, theirs: s.theirs, path: s.path, labels: ConflictLabels(ours: "ours", base: "base", theirs: "theirs"), layers: layers,
                                                 parsers: SwiftLanguageSupport.parsers))
    let ms = milliseconds(ContinuousClock.now - start)
    let ourOutcome = classify(clean: output.isClean, text: output.text, human: s.result)
    anvcs.add(ourOutcome, ms)
    if gitOutcome == .cleanEqual && ourOutcome != .cleanEqual { gitRightWeWrong.append(s.name) }
    let ext = (s.path as NSString).pathExtension.lowercased()
    var entry = byLanguage[ext] ?? (0, 0, 0)
    entry.total += 1
    if gitOutcome == .conflict {
        byHumanResult[HumanResult(s), default: [:]][ourOutcome, default: 0] += 1
        gitConflicts += 1
        entry.gitConflicts += 1
        if ourOutcome == .cleanEqual { resolvedCorrectlyWhereGitConflicted += 1; entry.ourFixes += 1 }
        if ourOutcome == .cleanDifferent {
            resolvedDifferentlyWhereGitConflicted += 1
            if squeezed(output.text) == squeezed(s.result) { differentOnlyInWhitespace += 1 }
            else if sortedLines(output.text) == sortedLines(s.result) { differentOnlyInLineOrder += 1 }
            if ProcessInfo.processInfo.environment["ANVCS_BENCH_VERBOSE"] != nil { print("  clean-but-different: \(s.name)") }
        }
    }
    byLanguage[ext] = entry
    if let dump {
        let record: [String: Any] = ["name": s.name, "git": gitOutcome.rawValue, "anvcs": ourOutcome.rawValue,
                                     "resolutions": output.resolutions.map { "\($0.layer.rawValue): \($0.detail)" },
                                     "structureGaveUp": output.structureGaveUp ?? ""]
        dump.write(try JSONSerialization.data(withJSONObject: record) + Data("\n".utf8))
    }
}

func row(_ label: String, _ a: String, _ b: String) {
    print(label.padding(toLength: 44, withPad: " ", startingAt: 0) + a.padding(toLength: 18, withPad: " ", startingAt: 0) + b)
}
print("Merge evaluation on \(scenarios.count) real scenarios from \(root.path); layers: \(layers.map(\.rawValue).sorted().joined(separator: ","))")
row("", "git merge-file", "anvcs merge")
for outcome in Outcome.allCases {
    row(outcome.rawValue, "\(git.counts[outcome] ?? 0)", "\(anvcs.counts[outcome] ?? 0)")
}
row("line layer byte-identical to git", "-", "\(lineParity)/\(scenarios.count)")
row("crashes", "0", "0 (in-process: a crash would end this run)")
row("git right, anvcs wrong (must be 0)", "-", "\(gitRightWeWrong.count)")
row("median ms per file", String(format: "%.2f (process)", git.median), String(format: "%.2f (in-process)", anvcs.median))
let percent = gitConflicts == 0 ? 0 : 100.0 * Double(resolvedCorrectlyWhereGitConflicted) / Double(gitConflicts)
print(String(format: "Where git conflicts (%d): anvcs resolves %d exactly as the human did (%.1f%%), %d differently.",
             gitConflicts, resolvedCorrectlyWhereGitConflicted, percent, resolvedDifferentlyWhereGitConflicted))
print("  of those different: \(differentOnlyInWhitespace) only in whitespace, \(differentOnlyInLineOrder) only in the order of lines")
print("  by what the human's result is (anvcs: as the human did / differently / conflict):")
for kind in HumanResult.allCases {
    let c = byHumanResult[kind] ?? [:]
    print("    \(kind.rawValue): \(c.values.reduce(0, +)) (\(c[.cleanEqual] ?? 0) / \(c[.cleanDifferent] ?? 0) / \(c[.conflict] ?? 0))")
}
for (ext, e) in byLanguage.sorted(by: { $0.key < $1.key }) {
    print("  .\(ext): \(e.total) scenarios, git conflicts \(e.gitConflicts), anvcs resolves \(e.ourFixes) of them as the human did")
}
for name in gitRightWeWrong.prefix(10) { print("  git right, anvcs wrong: \(name)") }

// A 10,000-line Python file: both sides append functions and edit distinct functions.
var lines: [String] = []
for f in 0 ..< 1000 {
    lines += ["def f\(f)(x):", "    y = x + \(f)", "    if y > 10:", "        y -= 1", "    return y * 2", "", "", ""].prefix(10)
    lines += ["", ""]
}
lines = Array(lines.prefix(10_000))
let bigBase = lines.joined(separator: "\n") + "\n"
var oursLines = lines, theirsLines = lines
for k in stride(from: 1, to: 9000, by: 400) { oursLines[k] = "    y = x + \(k) * 3" }
for k in stride(from: 201, to: 9000, by: 400) { theirsLines[k] = "    y = x - \(k)" }
let bigOurs = (oursLines + ["", "", "def ours_tail():", "    return 1"]).joined(separator: "\n") + "\n"
let bigTheirs = (theirsLines + ["", "", "def theirs_tail():", "    return 2"]).joined(separator: "\n") + "\n"
var samples: [Double] = []
var bigClean = false
for _ in 0 ..< 5 {
    let start = ContinuousClock.now
    let out = MergeEngine.merge(MergeInput(base: Array(bigBase.utf8), ours: Array(bigOurs.utf8), theirs: Array(bigTheirs.utf8), path: "big.py"))
    samples.append(milliseconds(ContinuousClock.now - start))
    bigClean = out.isClean
}
let bigGit = try gitMergeFile(Scenario(name: "big", path: "big.py", base: Array(bigBase.utf8), ours: Array(bigOurs.utf8),
                                       theirs: Array(bigTheirs.utf8), result: []), scratch: scratch)
print(String(format: "10,000-line file: anvcs %.1f ms median of 5 (%@), git merge-file %.1f ms (%@)",
             samples.sorted()[2], bigClean ? "clean" : "conflicts", bigGit.ms, bigGit.clean ? "clean" : "conflicts"))
try? FileManager.default.removeItem(at: scratch)
