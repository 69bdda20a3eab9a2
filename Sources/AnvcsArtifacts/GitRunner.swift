import AnvcsProcess
import Foundation

/// Runs the `git` executable in a repository with an environment the caller gives (this module
/// never reads the process environment). Used where git's own plumbing does the work in one
/// process over many objects (`diff-tree --stdin`, `cat-file --batch`, `ls-files`).
public struct GitRunner: Sendable {
    public let directory: String
    public let environment: [String: String]

    public init(directory: String, environment: [String: String]) {
        self.directory = directory
        self.environment = environment
    }

    /// Runs `git <arguments>` feeding `input`, and returns stdout; a non-zero exit throws with stderr.
    public func run(_ arguments: [String], input: [UInt8]? = nil) throws(ArtifactError) -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git"] + arguments
        process.environment = environment
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let out = Pipe(), err = Pipe(), inPipe = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input == nil ? FileHandle.nullDevice : inPipe
        do { try process.run() } catch {
            throw .io("cannot start git \(arguments.first ?? ""): \(error.localizedDescription)")
        }
        // Feed and drain concurrently: git may fill a pipe before reading all of its input.
        let group = DispatchGroup()
        let errorBox = Box()
        if let input {
            let writer = inPipe.fileHandleForWriting
            group.enter()
            DispatchQueue.global().async {
                writer.write(Data(input))
                try? writer.close()
                group.leave()
            }
        }
        group.enter()
        DispatchQueue.global().async {
            errorBox.data = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let output = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExitPromptly()
        guard process.terminationStatus == 0 else {
            let message = String(decoding: errorBox.data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw .io("git \(arguments.prefix(3).joined(separator: " ")) failed (exit \(process.terminationStatus)): \(message)")
        }
        return Array(output)
    }

    public func text(_ arguments: [String], input: String? = nil) throws(ArtifactError) -> String {
        String(decoding: try run(arguments, input: input.map { Array($0.utf8) }), as: UTF8.self)
    }

    private final class Box: @unchecked Sendable { var data = Data() }
}
