import ArgumentParser
import Foundation

/// `anvcs-merge-engine`: the merge engine with every language parser, run by `git anvcs
/// merge-driver` and `git anvcs merge-file` (which hand their arguments over unchanged).
public struct MergeEngineMain: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "anvcs-merge-engine",
        abstract: "The syntax-aware merge engine behind git anvcs merge-driver and merge-file.",
        discussion: "Run through git anvcs; see git help anvcs-merge-driver and git help anvcs-merge-file.",
        subcommands: [MergeDriverCommand.self, MergeFileCommand.self])

    public init() {}

    /// Exit codes as `git anvcs` gives them: 1 for failures, 2 for usage.
    public static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as ExitCode {
            Foundation.exit(error.rawValue)
        } catch {
            let code = exitCode(for: error).rawValue
            if code == 0 { exit(withError: error) }
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            Foundation.exit(code == ExitCode.validationFailure.rawValue || error is ValidationError ? 2 : 1)
        }
    }
}
