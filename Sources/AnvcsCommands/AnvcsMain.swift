import ArgumentParser
import Foundation

/// `git anvcs`: the root command. Subcommands are grouped in folders by what they touch.
public struct AnvcsMain: ParsableCommand {
    public static let version = "0.1.0"

    public static let configuration = CommandConfiguration(
        commandName: "git anvcs",
        abstract: "Provenance, artifacts and merges for many AI agents and people on plain git.",
        discussion: "Every subcommand has a man page: git help anvcs-<subcommand>.",
        version: version,
        subcommands: [
            Init.self, Commit.self, Show.self, Log.self, Graph.self, Reindex.self, Push.self, Fetch.self, Pull.self, Adopt.self, Track.self, Untrack.self, FilterProcessCommand.self, ArtifactTextconv.self, DebugCommand.self, MergeDriverCommand.self, MergeFileCommand.self, SessionGroup.self, Demo.self, Hook.self, StorageCommand.self,
            Hydrate.self, RetryUploads.self, ArtifactStatus.self, ArtifactMergeDriver.self, ImportLFS.self, MergeCommand.self, RemoteCommand.self,
        ]
    )

    public init() {}

    /// Runs the command and turns every error into words and an exit code, in one place:
    /// 1 for failures, 2 for usage, as git's own commands do.
    public static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let failure as Failure {
            Terminal.error(failure.message)
            if let hint = failure.hint { Terminal.hint(hint) }
            Foundation.exit(failure.exitCode)
        } catch let error as CleanExit {
            exit(withError: error)
        } catch let error as ExitCode {
            Foundation.exit(error.rawValue)
        } catch {
            let code = exitCode(for: error).rawValue
            if code == 0 { exit(withError: error) }
            if code == ExitCode.validationFailure.rawValue || error is ValidationError {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            Terminal.error(Failure.describe(error))
            Foundation.exit(1)
        }
    }
}
