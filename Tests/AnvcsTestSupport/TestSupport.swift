import Foundation

/// Where the built executables are: `$ANVCS_BIN`, or beside the running test bundle
/// (SwiftPM puts test bundles and products in the same folder).
public enum Built {
    public static var binDirectory: String {
        if let dir = ProcessInfo.processInfo.environment["ANVCS_BIN"] { return dir }
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var dir = (exe as NSString).deletingLastPathComponent
        // XCTest bundles on Linux are executables in the bin folder; Swift Testing too.
        while !FileManager.default.fileExists(atPath: dir + "/git-anvcs") && dir != "/" {
            dir = (dir as NSString).deletingLastPathComponent
        }
        return dir
    }

    public static var gitAnvcs: String { binDirectory + "/git-anvcs" }
    /// The merge engine that `git anvcs merge-driver` and `merge-file` exec (found beside git-anvcs).
    public static var mergeEngine: String { binDirectory + "/anvcs-merge-engine" }

    /// The source checkout (for hooks/ and fixtures).
    public static var sourceRoot: String {
        var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while dir.path != "/" && !FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) {
            dir.deleteLastPathComponent()
        }
        return dir.path
    }
}

/// The output of a finished process.
public struct ProcessResult: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String
    public var succeeded: Bool { status == 0 }
}

/// Runs real processes with a controlled environment.
public enum ProcessRunner {
    public static func run(_ arguments: [String], directory: String, environment: [String: String], input: String? = nil) throws -> ProcessResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.environment = environment
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let outFile = FileManager.default.temporaryDirectory.appendingPathComponent("anvcs-test-out-\(UUID().uuidString)")
        let errFile = FileManager.default.temporaryDirectory.appendingPathComponent("anvcs-test-err-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: outFile.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errFile.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: outFile)
            try? FileManager.default.removeItem(at: errFile)
        }
        let out = try FileHandle(forWritingTo: outFile), err = try FileHandle(forWritingTo: errFile)
        process.standardOutput = out
        process.standardError = err
        let inPipe = Pipe()
        process.standardInput = input == nil ? FileHandle.nullDevice : inPipe
        try process.run()
        if let input {
            inPipe.fileHandleForWriting.write(Data(input.utf8))
            try inPipe.fileHandleForWriting.close()
        }
        // Not waitUntilExit(): on Linux it waits in 50 ms run-loop slices (most commands a test
        // runs end in a few ms; thousands of them), and it has no deadline. Foundation's monitor
        // sets the status before it clears isRunning. The child leads its own process group
        // (Foundation spawns with POSIX_SPAWN_SETPGROUP), so an overrunning command is killed with
        // whatever it started and fails the test by name instead of holding the suite.
        let limit = environment["ANVCS_TEST_COMMAND_TIMEOUT"].flatMap(Double.init)
            ?? ProcessInfo.processInfo.environment["ANVCS_TEST_COMMAND_TIMEOUT"].flatMap(Double.init) ?? 300
        let deadline = Date().addingTimeInterval(limit)
        var interval: useconds_t = 50
        while process.isRunning {
            if Date() >= deadline {
                kill(-process.processIdentifier, SIGKILL)
                while process.isRunning { usleep(1_000) }
                try? out.close(); try? err.close()
                let errors = String(decoding: (try? Data(contentsOf: errFile)) ?? Data(), as: UTF8.self)
                throw TestFailure("\(arguments.joined(separator: " ").prefix(200)) in \(directory) did not finish within \(Int(limit)) s and was killed with its process group; stderr so far: \(errors.suffix(2000))")
            }
            usleep(interval)
            interval = min(interval * 2, 2_000)
        }
        try out.close(); try err.close()
        return ProcessResult(status: process.terminationStatus,
                             stdout: String(decoding: (try? Data(contentsOf: outFile)) ?? Data(), as: UTF8.self),
                             stderr: String(decoding: (try? Data(contentsOf: errFile)) ?? Data(), as: UTF8.self))
    }
}

/// A git repository in a temporary directory with a hermetic environment: no system or user
/// git config, an empty HOME, fixed author and committer dates, and the built ANVCS first on PATH.
public final class TemporaryRepository: @unchecked Sendable {
    public let root: String
    public let path: String
    public var environment: [String: String]
    private var tick = 0

    public init(name: String = "repo", bare: Bool = false, initialize: Bool = true) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("anvcs-test-\(UUID().uuidString)").path
        path = root + "/" + name
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/home", withIntermediateDirectories: true)
        let inherited = ProcessInfo.processInfo.environment
        environment = [
            "PATH": Built.binDirectory + ":" + (inherited["PATH"] ?? "/usr/bin:/bin"),
            "HOME": root + "/home",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": root + "/home/.gitconfig",
            "GIT_AUTHOR_NAME": "Test Author", "GIT_AUTHOR_EMAIL": "author@example.com",
            "GIT_COMMITTER_NAME": "Test Committer", "GIT_COMMITTER_EMAIL": "committer@example.com",
            "LANG": "C.UTF-8", "TMPDIR": inherited["TMPDIR"] ?? "/tmp",
            "ANVCS_HOOKS_DIR": Built.sourceRoot + "/hooks",
        ]
        setDate()
        if initialize {
            try git(bare ? ["init", "-q", "--bare", "-b", "main"] : ["init", "-q", "-b", "main"])
        }
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    /// Moves the fixed clock on by one minute so each commit has its own, stable date.
    public func setDate() {
        let date = "@\(1_767_225_600 + tick * 60) +0000"
        environment["GIT_AUTHOR_DATE"] = date
        environment["GIT_COMMITTER_DATE"] = date
        tick += 1
    }

    @discardableResult
    public func run(_ arguments: [String], env extra: [String: String] = [:], input: String? = nil, in directory: String? = nil) throws -> ProcessResult {
        var env = environment
        for (k, v) in extra { env[k] = v }
        return try ProcessRunner.run(arguments, directory: directory ?? path, environment: env, input: input)
    }

    /// Runs git and fails loudly when it fails.
    @discardableResult
    public func git(_ arguments: [String], env: [String: String] = [:], input: String? = nil) throws -> String {
        let r = try run(["git"] + arguments, env: env, input: input)
        guard r.succeeded else { throw TestFailure("git \(arguments.joined(separator: " ")) failed (\(r.status)): \(r.stderr)") }
        return r.stdout
    }

    /// Runs `git anvcs` (the built binary) and returns the result, failing or not.
    @discardableResult
    public func anvcs(_ arguments: [String], env: [String: String] = [:], input: String? = nil) throws -> ProcessResult {
        try run([Built.gitAnvcs] + arguments, env: env, input: input)
    }

    public func write(_ relative: String, _ text: String) throws {
        let url = URL(fileURLWithPath: path + "/" + relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
    }

    public func read(_ relative: String) -> String? {
        FileManager.default.contents(atPath: path + "/" + relative).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Writes a file, stages it and commits with plain git; returns the new commit id.
    @discardableResult
    public func commitFile(_ relative: String, _ text: String, message: String, env: [String: String] = [:]) throws -> String {
        try write(relative, text)
        try git(["add", "--", relative])
        setDate()
        try git(["commit", "-q", "-m", message], env: env)
        return try git(["rev-parse", "HEAD"]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    public func head() throws -> String { try git(["rev-parse", "HEAD"]).trimmingCharacters(in: .whitespacesAndNewlines) }
}

public struct TestFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A small, fast, seedable generator (SplitMix64) so random tests can print and replay a seed.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    public private(set) var state: UInt64
    public let seed: UInt64
    public init(seed: UInt64) { self.seed = seed; state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
