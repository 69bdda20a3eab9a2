import ArgumentParser

/// `git anvcs merge-driver %O %A %B %L %P [%S %X %Y]`: the merge driver git runs per file.
/// Handed unchanged to `anvcs-merge-engine merge-driver`, which honours git's contract: the
/// result in %A, exit 0 when clean, 1 when conflicts remain, above 128 only on real failure.
struct MergeDriverCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge-driver",
        abstract: "Merge one file for git (configured as merge.anvcs.driver).",
        discussion: """
        Configure with: git config merge.anvcs.driver 'git anvcs merge-driver %O %A %B %L %P %S %X %Y'
        and a .gitattributes line such as '*.py merge=anvcs'. Runs in the sibling executable anvcs-merge-engine.
        """,
        shouldDisplay: false)

    @Argument(parsing: .captureForPassthrough,
              help: "%O %A %B %L %P [%S %X %Y] [--conflict-style merge|diff3|zdiff3], passed to anvcs-merge-engine.")
    var arguments: [String] = []

    func run() throws {
        try MergeEngineHandoff.exec(subcommand: "merge-driver", arguments: arguments, failureExitCode: 129)
    }
}
