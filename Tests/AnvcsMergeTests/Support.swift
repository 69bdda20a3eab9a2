import AnvcsTestSupport
import AnvcsMerge
import Foundation
import Testing

/// The suite-wide seedable generator (SplitMix64) from AnvcsTestSupport.
typealias SeededGenerator = SeededRandom

/// Base and two edited sides built from a small vocabulary so that edits collide often.
struct GeneratedScenario {
    var base: [UInt8]
    var ours: [UInt8]
    var theirs: [UInt8]

    static let vocabulary = ["a", "b", "c", "d", "e", "}", "", "  x = 1", "return", "{", "# note", "f(x)"]

    static func random(using rng: inout SeededGenerator) -> GeneratedScenario {
        let count = Int.random(in: 0 ... 30, using: &rng)
        var lines = (0 ..< count).map { _ in vocabulary.randomElement(using: &rng)! }
        let crlf = Int.random(in: 0 ..< 10, using: &rng) == 0
        let baseMissingNewline = Int.random(in: 0 ..< 6, using: &rng) == 0
        let base = join(lines, crlf: crlf, finalNewline: !baseMissingNewline)
        func edit(_ rng: inout SeededGenerator) -> [UInt8] {
            var copy = lines
            for _ in 0 ..< Int.random(in: 0 ... 4, using: &rng) {
                let op = Int.random(in: 0 ..< 3, using: &rng)
                let at = Int.random(in: 0 ... copy.count, using: &rng)
                switch op {
                case 0: copy.insert(vocabulary.randomElement(using: &rng)! + (Bool.random(using: &rng) ? "" : "1"), at: at)
                case 1: if at < copy.count { copy.remove(at: at) }
                default: if at < copy.count { copy[at] = vocabulary.randomElement(using: &rng)! + "2" }
                }
            }
            let finalNewline = Int.random(in: 0 ..< 8, using: &rng) == 0 ? baseMissingNewline : !baseMissingNewline
            return join(copy, crlf: crlf, finalNewline: finalNewline)
        }
        let ours = edit(&rng)
        let theirs = edit(&rng)
        lines.removeAll()
        return GeneratedScenario(base: base, ours: ours, theirs: theirs)
    }

    static func join(_ lines: [String], crlf: Bool, finalNewline: Bool) -> [UInt8] {
        var text = lines.joined(separator: crlf ? "\r\n" : "\n")
        if finalNewline && !lines.isEmpty { text += crlf ? "\r\n" : "\n" }
        return Array(text.utf8)
    }
}

/// Runs the real `git merge-file` on three texts in a temporary directory.
struct GitMergeFileOracle {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("anvcs-merge-oracle-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/git") else {
            throw OracleError(message: "git is required at /usr/bin/git for the parity test")
        }
    }

    struct OracleError: Error, CustomStringConvertible { var message: String; var description: String { message } }

    func merge(base: [UInt8], ours: [UInt8], theirs: [UInt8], style: ConflictStyle) throws -> (text: [UInt8], conflictCount: Int) {
        let paths = ["ours", "base", "theirs"].map { directory.appendingPathComponent($0) }
        try Data(ours).write(to: paths[0])
        try Data(base).write(to: paths[1])
        try Data(theirs).write(to: paths[2])
        var arguments = ["merge-file", "-p", "-L", "ours", "-L", "base", "-L", "theirs"]
        if style != .merge { arguments.append("--\(style.rawValue)") }
        arguments += paths.map(\.path)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.environment = ["GIT_CONFIG_NOSYSTEM": "1", "HOME": directory.path, "PATH": "/usr/bin:/bin"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let status = Int(process.terminationStatus)
        guard status >= 0 && status < 128 else { throw OracleError(message: "git merge-file failed with status \(status)") }
        return ([UInt8](data), status)
    }
}
