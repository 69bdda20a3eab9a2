import AnvcsMerge
import AnvcsProcess
import Foundation

/// File and configuration plumbing shared by the merge commands.
enum MergeFileIO {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func read(_ path: String, role: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Failure(description: "cannot read \(role) '\(path)': no such readable file")
        }
        return [UInt8](data)
    }

    static func write(_ bytes: [UInt8], to path: String) throws {
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path))
        } catch {
            throw Failure(description: "cannot write the merged result to '\(path)': \(error.localizedDescription)")
        }
    }

    /// Appends one JSON line to the report `git anvcs merge` asked for (ANVCS_MERGE_REPORT).
    /// A report that cannot be written must not fail git's merge: it is skipped.
    static func appendReport(_ report: MergeFileReport, to path: String) {
        guard var line = try? JSONEncoder().encode(report) else { return }
        line.append(0x0A)
        if let handle = FileHandle(forWritingAtPath: path) {
            handle.seekToEndOfFile()
            handle.write(line)
            try? handle.close()
        } else {
            _ = FileManager.default.createFile(atPath: path, contents: line)
        }
    }

    /// git's test: a NUL byte in the first 8000 bytes means binary.
    static func looksBinary(_ bytes: [UInt8]) -> Bool {
        bytes.prefix(8000).contains(0)
    }

    /// The flag if given, else `git config merge.conflictStyle` when run inside a repository.
    static func style(flag: String?) throws -> ConflictStyle {
        if let flag {
            guard let style = ConflictStyle(rawValue: flag) else {
                throw Failure(description: "unknown conflict style '\(flag)': use merge, diff3 or zdiff3")
            }
            return style
        }
        let configured = gitConfig("merge.conflictStyle")
        return configured.flatMap { ConflictStyle(rawValue: $0) } ?? .merge
    }

    private static func gitConfig(_ key: String) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "config", "--get", key]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExitPromptly()
        guard process.terminationStatus == 0 else { return nil }
        let value = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return value.isEmpty ? nil : value
    }
}
