import AnvcsGit
import AnvcsProcess
import Foundation

/// What a backend needs to know about the process it runs in; filled by the executable,
/// which is the only place that reads the environment and arguments.
public struct HelperContext: Sendable {
    /// The remote's name as git gave it (`origin`), or the URL when there is none.
    public var remoteName: String
    /// The URL after `anvcs::`.
    public var url: String
    /// The local repository's git directory (git sets `GIT_DIR` for helpers).
    public var gitDirectory: String
    public var environment: [String: String]
    /// Diagnostics (stderr); never the protocol.
    public var log: @Sendable (String) -> Void
    /// Diagnostics shown only at verbosity above 1.
    public var debug: @Sendable (String) -> Void

    public init(remoteName: String, url: String, gitDirectory: String, environment: [String: String],
                log: @escaping @Sendable (String) -> Void, debug: @escaping @Sendable (String) -> Void) {
        self.remoteName = remoteName
        self.url = url
        self.gitDirectory = gitDirectory
        self.environment = environment
        self.log = log
        self.debug = debug
    }

    public func repository() throws(RemoteError) -> Repository {
        do { return try Repository.open(gitDirectory) } catch { throw .git(error) }
    }

    /// A name usable inside a ref for this remote: the remote's name, or a digest of the URL
    /// when git gave us a URL (`git fetch anvcs::... `).
    public var remoteKey: String {
        if Repository.isValidReferenceName("refs/x/\(remoteName)"), !remoteName.contains("/"), !remoteName.contains(":") {
            return remoteName
        }
        return "url-" + String(StableHash.hex(of: url).prefix(16))
    }

    /// Where fetched notes of this remote wait to be merged (as `git anvcs fetch` does).
    public var notesTrackingRef: String { "refs/notes/anvcs-remotes/\(remoteKey)" }
}

/// FNV-1a, 64 bits, for short stable names (not for security).
enum StableHash {
    static func hex(of text: String) -> String {
        var h: UInt64 = 0xcbf29ce484222325
        for b in text.utf8 { h = (h ^ UInt64(b)) &* 0x100000001b3 }
        let s = String(h, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}

/// Runs git (or git-anvcs) as a child: stdout captured (it is never our protocol stream),
/// stderr captured or passed through to ours.
enum ChildProcess {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func run(_ arguments: [String], context: HelperContext, input: String? = nil, passStderr: Bool = false) throws(RemoteError) -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        var environment = context.environment
        environment["GIT_DIR"] = context.gitDirectory
        process.environment = environment
        let out = Pipe(), err = Pipe(), inPipe = Pipe()
        process.standardOutput = out
        process.standardError = passStderr ? FileHandle.standardError : err
        process.standardInput = input == nil ? FileHandle.nullDevice : inPipe
        do { try process.run() } catch {
            throw .process(command: arguments.joined(separator: " "), status: -1, stderr: "cannot start: \(error)")
        }
        if let input {
            let handle = inPipe.fileHandleForWriting
            DispatchQueue.global().async {
                // A child that exits without reading (a missing git-anvcs) closes the pipe: that
                // is EPIPE here (SIGPIPE is ignored by the executable), not a crash.
                try? handle.write(contentsOf: Data(input.utf8))
                try? handle.close()
            }
        }
        let errBox = Box()
        let group = DispatchGroup()
        if !passStderr {
            group.enter()
            DispatchQueue.global().async {
                errBox.data = err.fileHandleForReading.readDataToEndOfFile()
                group.leave()
            }
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExitPromptly()
        return Result(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errBox.data, as: UTF8.self))
    }

    private final class Box: @unchecked Sendable { var data = Data() }
}
