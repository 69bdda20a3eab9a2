import AnvcsProcess
import Foundation

/// Runs a program and collects its output. Used to drive git itself where git, not libgit2,
/// must do the work (commits that run the user's hooks, pushes through configured transports).
enum Subprocess {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs `arguments` (looked up on PATH), waiting for it to finish.
    /// With `inheritOutput`, the child writes straight to our stdout and stderr.
    @discardableResult
    static func run(_ arguments: [String], environment: [String: String]? = nil, directory: String? = nil,
                    inheritOutput: Bool = false, input: Data? = nil) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let out = Pipe(), err = Pipe()
        if !inheritOutput {
            process.standardOutput = out
            process.standardError = err
        }
        let inPipe = Pipe()
        if input != nil { process.standardInput = inPipe }
        do { try process.run() } catch {
            throw Failure("cannot start \(arguments.first ?? "?"): \(error.localizedDescription)")
        }
        if let input {
            inPipe.fileHandleForWriting.write(input)
            try? inPipe.fileHandleForWriting.close()
        }
        var outData = Data(), errData = Data()
        if !inheritOutput {
            // Read both pipes concurrently so a chatty child cannot fill one and block.
            let group = DispatchGroup()
            let errBox = DataBox()
            group.enter()
            DispatchQueue.global().async {
                errBox.data = err.fileHandleForReading.readDataToEndOfFile()
                group.leave()
            }
            outData = out.fileHandleForReading.readDataToEndOfFile()
            group.wait()
            errData = errBox.data
        }
        process.waitUntilExitPromptly()
        return Result(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
    }

    private final class DataBox: @unchecked Sendable { var data = Data() }
}
