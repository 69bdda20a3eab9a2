import AnvcsTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Paths and helpers the storage tests share.
enum TestEnvironment {
    static let repositoryRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// The virtualenv scripts/test-deps.d/*.sh create.
    static var venv: String { TestVenv.path }

    static var venvPython: String { TestVenv.python }

    /// A port nobody listens on right now (bound then released).
    static func freePort() throws -> Int { try freeLoopbackPort() }

    /// A fresh temporary directory, removed by the caller.
    static func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "anvcs-storage-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// A file of `size` seeded pseudo-random bytes (xorshift), written in 1 MiB chunks.
    static func writeRandomFile(at path: String, size: Int, seed: UInt64) throws {
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        // Mixed so that neighbouring seeds (20 and 21) give different bytes; never zero.
        var state = (seed &+ 1) &* 0x9E37_79B9_7F4A_7C15 | 1
        var remaining = size
        while remaining > 0 {
            let count = min(remaining, 1 << 20)
            var chunk = [UInt8](repeating: 0, count: count)
            var index = 0
            while index < count {
                state ^= state << 13; state ^= state >> 7; state ^= state << 17
                var word = state
                for _ in 0..<8 where index < count {
                    chunk[index] = UInt8(truncatingIfNeeded: word)
                    word >>= 8
                    index += 1
                }
            }
            try handle.write(contentsOf: chunk)
            remaining -= count
        }
    }

    /// Runs a program to completion (bounded) and returns its stdout; throws with stderr when it fails.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                    input: String? = nil, timeout: Double = 60) throws -> String {
        try ChildProcess.run([executable] + arguments, environment: environment, input: input, timeout: timeout)
    }
}
