import AnvcsMerge
import ArgumentParser
import Foundation

/// `git anvcs merge-driver %O %A %B %L %P [%S %X %Y]`: the merge driver git runs per file.
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
                                                  path: path, style: style, labels: labels))
        try MergeFileIO.write(output.text, to: ours)
        return output.isClean ? 0 : 1
    }
}

/// File and configuration plumbing shared by the merge commands.
enum MergeFileIO {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func read(_ path: String, role: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Failure(description: "cannot read \(role) '\(path)': no such readable file")
        }
        return [UInt8](data)
    }

    static func write(_ bytes: [UInt8], to path: String) throws {
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path))
        } catch {
            throw Failure(description: "cannot write the merged result to '\(path)': \(error.localizedDescription)")
        }
    }

    /// git's test: a NUL byte in the first 8000 bytes means binary.
    static func looksBinary(_ bytes: [UInt8]) -> Bool {
        bytes.prefix(8000).contains(0)
    }

    /// The flag if given, else `git config merge.conflictStyle` when run inside a repository.
    static func style(flag: String?) throws -> ConflictStyle {
        if let flag {
            guard let style = ConflictStyle(rawValue: flag) else {
                throw Failure(description: "unknown conflict style '\(flag)': use merge, diff3 or zdiff3")
            }
            return style
        }
        let configured = gitConfig("merge.conflictStyle")
        return configured.flatMap { ConflictStyle(rawValue: $0) } ?? .merge
    }

    private static func gitConfig(_ key: String) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "config", "--get", key]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        let value = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return value.isEmpty ? nil : value
    }
}
