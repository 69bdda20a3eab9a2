import Foundation
import Testing

/// Real `git merge` and `git rebase` with `git anvcs merge-driver` configured for *.py and *.json.
/// Needs the built `git-anvcs` and `anvcs-merge-engine` next to the test bundle (`swift build` builds both).
@Suite(.serialized) struct MergeDriverIntegrationTests {
    struct Repo {
        let directory: URL
        let binDirectory: URL

        init() throws {
            binDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            // git-anvcs hands merge-driver to its sibling anvcs-merge-engine: both must be built.
            for name in ["git-anvcs", "anvcs-merge-engine"] {
                let tool = binDirectory.appendingPathComponent(name)
                guard FileManager.default.isExecutableFile(atPath: tool.path) else {
                    throw Failure("\(name) is not built at \(tool.path); run `swift build` before the tests")
                }
            }
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("anvcs-driver-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try git("init", "-q", "-b", "main")
            try git("config", "merge.anvcs.driver", "git-anvcs merge-driver %O %A %B %L %P %S %X %Y")
            try write(".gitattributes", "*.py merge=anvcs\n*.json merge=anvcs\n")
        }

        struct Failure: Error, CustomStringConvertible {
            var description: String
            init(_ d: String) { description = d }
        }

        @discardableResult
        func git(_ arguments: String...) throws -> (status: Int32, output: String) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/git")
            process.arguments = arguments
            process.currentDirectoryURL = directory
            process.environment = [
                "PATH": binDirectory.path + ":/usr/bin:/bin", "HOME": directory.path, "GIT_CONFIG_NOSYSTEM": "1",
                "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
                "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z",
                "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z",
            ]
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            try process.run()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return (process.terminationStatus, String(decoding: data, as: UTF8.self))
        }

        func write(_ path: String, _ text: String) throws {
            try text.write(to: directory.appendingPathComponent(path), atomically: true, encoding: .utf8)
        }

        func read(_ path: String) throws -> String {
            try String(contentsOf: directory.appendingPathComponent(path), encoding: .utf8)
        }

        func commitAll(_ message: String) throws {
            try git("add", "-A")
            try git("commit", "-q", "-m", message)
        }
    }

    /// Two branches each add a function at the end and a dependency to package.json.
    func prepare() throws -> Repo {
        let repo = try Repo()
        try repo.write("m.py", "import os\n\n\ndef a():\n    return 1\n")
        try repo.write("package.json", "{\n  \"dependencies\": {\n    \"a\": \"1\"\n  }\n}\n")
        try repo.commitAll("base")
        try repo.git("checkout", "-q", "-b", "feature")
        try repo.write("m.py", "import os\n\n\ndef a():\n    return 1\n\n\ndef c():\n    return 3\n")
        try repo.write("package.json", "{\n  \"dependencies\": {\n    \"a\": \"1\",\n    \"c\": \"3\"\n  }\n}\n")
        try repo.commitAll("feature")
        try repo.git("checkout", "-q", "main")
        try repo.write("m.py", "import os\n\n\ndef a():\n    return 1\n\n\ndef b():\n    return 2\n")
        try repo.write("package.json", "{\n  \"dependencies\": {\n    \"a\": \"1\",\n    \"b\": \"2\"\n  }\n}\n")
        try repo.commitAll("main")
        return repo
    }

    @Test func gitMergeUsesTheDriverAndMergesCleanly() throws {
        let repo = try prepare()
        let merge = try repo.git("merge", "-q", "--no-edit", "feature")
        #expect(merge.status == 0, "git merge failed: \(merge.output)")
        #expect(try repo.read("m.py") == "import os\n\n\ndef a():\n    return 1\n\n\ndef b():\n    return 2\n\n\ndef c():\n    return 3\n")
        #expect(try repo.read("package.json") == "{\n  \"dependencies\": {\n    \"a\": \"1\",\n    \"b\": \"2\",\n    \"c\": \"3\"\n  }\n}\n")
    }

    @Test func gitRebaseUsesTheDriver() throws {
        let repo = try prepare()
        try repo.git("checkout", "-q", "feature")
        let rebase = try repo.git("rebase", "main")
        #expect(rebase.status == 0, "git rebase failed: \(rebase.output)")
        #expect(try repo.read("m.py").contains("def b():") && repo.read("m.py").contains("def c():"))
    }

    @Test func realConflictExitsOneWithGitsMarkers() throws {
        let repo = try Repo()
        try repo.write("m.py", "def a():\n    return 1\n")
        try repo.commitAll("base")
        try repo.git("checkout", "-q", "-b", "feature")
        try repo.write("m.py", "def a():\n    return 3\n")
        try repo.commitAll("feature")
        try repo.git("checkout", "-q", "main")
        try repo.write("m.py", "def a():\n    return 2\n")
        try repo.commitAll("main")
        try repo.git("config", "merge.conflictStyle", "diff3")
        let merge = try repo.git("merge", "-q", "--no-edit", "feature")
        #expect(merge.status != 0)
        let text = try repo.read("m.py")
        #expect(text.contains("<<<<<<< ") && text.contains("||||||| ") && text.contains(">>>>>>> "), "got:\n\(text)")
    }

    /// git-anvcs without its engine beside it or on PATH: one clear line and git's failure code.
    @Test func missingEngineIsAFailureAbove128() throws {
        let repo = try Repo()
        let lonely = repo.directory.appendingPathComponent("lonely")
        try FileManager.default.createDirectory(at: lonely, withIntermediateDirectories: true)
        let copy = lonely.appendingPathComponent("git-anvcs")
        try FileManager.default.copyItem(at: repo.binDirectory.appendingPathComponent("git-anvcs"), to: copy)
        for name in ["o", "a", "b"] { try repo.write(name, "x\n") }
        let process = Process()
        process.executableURL = copy
        process.arguments = ["merge-driver", "o", "a", "b", "7", "m.py"]
        process.currentDirectoryURL = repo.directory
        process.environment = ["PATH": "/usr/bin:/bin"]
        let pipe = Pipe()
        process.standardError = pipe
        try process.run()
        let stderr = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 129)
        #expect(stderr.split(separator: "\n").count == 1 && stderr.contains("anvcs-merge-engine"), "got: \(stderr)")
    }
}
