import ArgumentParser

/// `git anvcs merge-file <base> <ours> <theirs>`: try the merge engine on three files.
/// Handed unchanged to `anvcs-merge-engine merge-file` (exit 0 clean, 1 conflicts, 2 failure).
struct MergeFileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge-file",
        abstract: "Merge three versions of a file with the syntax-aware engine.",
        discussion: "Options: --explain, --in-place, --line-only, --path, --conflict-style, --marker-size (see git help anvcs-merge-file).")

    @Argument(parsing: .captureForPassthrough, help: "<base> <ours> <theirs> and options, passed to anvcs-merge-engine.")
    var arguments: [String] = []

    func run() throws {
        try MergeEngineHandoff.exec(subcommand: "merge-file", arguments: arguments, failureExitCode: 2)
    }
}
