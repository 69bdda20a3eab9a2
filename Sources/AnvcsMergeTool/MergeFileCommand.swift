import AnvcsMerge
import AnvcsMergeSwift
import ArgumentParser
import Foundation

/// `git anvcs merge-file <base> <ours> <theirs>`: try the merge engine on three files.
/// The result goes to stdout (or back into <ours> with --in-place); --explain tells on stderr
/// which layer settled what.
struct MergeFileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge-file",
        abstract: "Merge three versions of a file with the syntax-aware engine.")

    @Argument(help: "The common ancestor.")
    var base: String
    @Argument(help: "Our version.")
    var ours: String
    @Argument(help: "Their version.")
    var theirs: String

    @Flag(help: "Say which layer of the engine resolved what (on stderr).")
    var explain = false
    @Flag(help: "Write the result into <ours>, as git merge-file does, instead of stdout.")
    var inPlace = false
    @Flag(help: "Only git's line merge (what git merge-file would do).")
    var lineOnly = false
    @Option(help: "The path whose extension picks the language (default: <ours>).")
    var path: String?
    @Option(name: .customLong("conflict-style"), help: "merge, diff3 or zdiff3.")
    var conflictStyle: String?
    @Option(help: "Conflict marker size.")
    var markerSize = 7

    func run() throws {
        let output: MergeOutput
        do {
            let style = try MergeFileIO.style(flag: conflictStyle)
            let input = MergeInput(
                base: try MergeFileIO.read(base, role: "<base>"),
                ours: try MergeFileIO.read(ours, role: "<ours>"),
                theirs: try MergeFileIO.read(theirs, role: "<theirs>"),
                path: path ?? ours, style: style,
                labels: ConflictLabels(ours: ours, base: base, theirs: theirs, markerSize: markerSize),
                parsers: SwiftLanguageSupport.parsers)
            output = lineOnly ? MergeEngine.lineMerge(input) : MergeEngine.merge(input)
            if inPlace {
                try MergeFileIO.write(output.text, to: ours)
            } else {
                FileHandle.standardOutput.write(Data(output.text))
            }
        } catch {
            FileHandle.standardError.write(Data("git anvcs merge-file: \(error)\n".utf8))
            throw ExitCode(2)
        }
        if explain {
            var lines = output.resolutions.map { "\($0.layer.rawValue): \($0.detail)" }
            if let reason = output.structureGaveUp { lines.append("structure: gave up: \(reason)") }
            lines.append(output.isClean ? "result: clean" : "result: \(output.conflictCount) conflict(s) left")
            FileHandle.standardError.write(Data((lines.joined(separator: "\n") + "\n").utf8))
        }
        if !output.isClean { throw ExitCode(1) }
    }
}
