import ArgumentParser

/// Entry point of `git-anvcs`; subcommands are registered here.
public struct AnvcsMain: ParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "git-anvcs", abstract: "ANVCS: provenance, artifacts and merges for git.")
    public init() {}
}
