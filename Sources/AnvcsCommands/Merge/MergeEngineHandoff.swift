import Foundation

/// `git anvcs merge-driver` and `merge-file` run in `anvcs-merge-engine`, a sibling executable
/// that links the language parsers (swift-syntax): `git-anvcs` itself stays free of them and
/// starts fast for hooks and `log`. The hand-off replaces this process (execv), so git sees the
/// engine's exit code and output exactly.
enum MergeEngineHandoff {
    static let executableName = "anvcs-merge-engine"

    /// Replaces this process with `anvcs-merge-engine <subcommand> <arguments>`; returns only by throwing.
    static func exec(subcommand: String, arguments: [String], failureExitCode: Int32) throws -> Never {
        guard let engine = locate() else {
            throw Failure("\(subcommand): the merge engine '\(executableName)' is not installed beside git-anvcs (\(ownDirectory() ?? "?")) or on PATH; reinstall ANVCS with ./install.sh",
                          exitCode: failureExitCode)
        }
        let argv = ([engine, subcommand] + arguments).map { strdup($0) } + [nil]
        execv(engine, argv)
        let reason = String(cString: strerror(errno))
        throw Failure("\(subcommand): cannot run the merge engine '\(engine)': \(reason)", exitCode: failureExitCode)
    }

    /// The engine beside this executable (`/proc/self/exe`, symlinks resolved), else the first on PATH.
    static func locate() -> String? {
        let fileManager = FileManager.default
        if let directory = ownDirectory() {
            let sibling = directory + "/" + executableName
            if fileManager.isExecutableFile(atPath: sibling) { return sibling }
        }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for directory in path.split(separator: ":") where !directory.isEmpty {
            let candidate = directory + "/" + executableName
            if fileManager.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    private static func ownDirectory() -> String? {
        guard let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return nil }
        return (exe as NSString).deletingLastPathComponent
    }
}
