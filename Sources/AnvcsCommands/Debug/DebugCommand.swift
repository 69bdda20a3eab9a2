import ArgumentParser

/// `git anvcs debug ...`: tools for measuring and inspecting ANVCS internals.
public struct DebugCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "debug",
        abstract: "Measure and inspect ANVCS internals.",
        subcommands: [CRDTReplay.self])

    public init() {}
}
