import ArgumentParser

/// `git anvcs storage ...`: the blob store behind artifacts.
public struct StorageCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "storage",
        abstract: "Check the blob store that keeps artifacts (S3, IPFS, NFS, local or hybrid).",
        subcommands: [StorageCheckCommand.self, StorageDoctorCommand.self])

    public init() {}
}
