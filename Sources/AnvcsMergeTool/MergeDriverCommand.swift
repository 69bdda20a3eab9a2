import AnvcsMerge
import AnvcsMergeSwift
import ArgumentParser
import Foundation

/// `git anvcs merge-driver %O %A %B %L %P [%S %X %Y]`: the merge driver git runs per file
/// (`git-anvcs` hands the call to `anvcs-merge-engine merge-driver`, which runs this).
///
/// git's contract: the merged text replaces %A; exit 0 when clean, 1 when conflicts remain,
/// above 128 only when the merge could not be attempted at all.
struct MergeDriverCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge-driver",
        abstract: "Merge one file for git (configured as merge.anvcs.driver).",
        discussion: """
        Configure with: git config merge.anvcs.driver 'git anvcs merge-driver %O %A %B %L %P %S %X %Y'
        and a .gitattributes line such as '*.py merge=anvcs'.
        """,
        shouldDisplay: false)

    @Argument(help: "%O: the common ancestor's version (a temporary file).")
    var base: String
    @Argument(help: "%A: our version; the result is written here.")
    var ours: String
    @Argument(help: "%B: their version.")
    var theirs: String
    @Argument(help: "%L: the conflict marker size.")
    var markerSize: Int = 7
    @Argument(help: "%P: the path being merged, which selects the language.")
    var path: String?
    @Argument(help: "%S: the ancestor's label.")
    var baseLabel: String?
    @Argument(help: "%X: our label.")
    var oursLabel: String?
    @Argument(help: "%Y: their label.")
    var theirsLabel: String?

    @Option(name: .customLong("conflict-style"),
            help: "merge, diff3 or zdiff3 (default: git config merge.conflictStyle, else merge).")
    var conflictStyle: String?

    func run() throws {
        let code: Int32
        do {
            code = try merge()
        } catch {
            FileHandle.standardError.write(Data("git anvcs merge-driver: \(error)\n".utf8))
            throw ExitCode(129)
        }
        if code != 0 { throw ExitCode(code) }
    }

    private func merge() throws -> Int32 {
        let style = try MergeFileIO.style(flag: conflictStyle)
        let baseText = try MergeFileIO.read(base, role: "%O (ancestor)")
        let oursText = try MergeFileIO.read(ours, role: "%A (ours)")
        let theirsText = try MergeFileIO.read(theirs, role: "%B (theirs)")
        if [baseText, oursText, theirsText].contains(where: MergeFileIO.looksBinary) {
            // As git's own merge does for binary files: keep ours and report a conflict.
            FileHandle.standardError.write(Data("warning: Cannot merge binary files: \(path ?? ours) (ours kept)\n".utf8))
            return 1
        }
        // git before 2.44 passes %S %X %Y through unexpanded: treat those as absent.
        func label(_ given: String?, _ placeholder: String, _ fallback: String) -> String {
            guard let given, given != placeholder, !given.isEmpty else { return fallback }
            return given
        }
        let labels = ConflictLabels(ours: label(oursLabel, "%X", "ours"), base: label(baseLabel, "%S", "base"),
                                    theirs: label(theirsLabel, "%Y", "theirs"), markerSize: markerSize)
        let output = MergeEngine.merge(MergeInput(base: baseText, ours: oursText, theirs: theirsText,
                                                  path: path, style: style, labels: labels,
                                                  parsers: SwiftLanguageSupport.parsers))
        try MergeFileIO.write(output.text, to: ours)
        if let report = ProcessInfo.processInfo.environment["ANVCS_MERGE_REPORT"], !report.isEmpty {
            MergeFileIO.appendReport(MergeFileReport(path: path ?? ours, clean: output.isClean,
                                                     conflicts: output.conflictCount, resolutions: output.resolutions),
                                     to: report)
        }
        return output.isClean ? 0 : 1
    }
}
