import AnvcsArtifacts
import AnvcsProvenance
import ArgumentParser
import Foundation

/// `git anvcs filter-process`: git's long-running clean/smudge filter for tracked artifacts
/// (registered by `git anvcs init` as `filter.anvcs.process`). stdout is the protocol.
struct FilterProcessCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "filter-process",
        abstract: "git's long-running filter for artifacts (git runs it; see gitattributes(5)).")

    func run() throws {
        let context = Context()
        let repository = try context.repository()
        let settings = context.settings(for: repository)
        let store = ProvenanceStore(repository: repository)
        let filter = FilterProcess(
            input: STDIN_FILENO, output: STDOUT_FILENO, cache: ContentCache(stateDirectory: store.stateDirectory),
            settings: .init(keyScheme: settings.string("blobs.key") ?? "path",
                            keepSmallerThan: UInt64(max(0, settings.integer("blobs.min_size") ?? 0))),
            fetch: nil, report: { Terminal.write($0 + "\n") })
        do {
            try filter.run()
        } catch {
            Terminal.error(Failure.describe(error))
            throw ExitCode(1)
        }
    }
}

/// `git anvcs track <pattern>...` / `untrack`: which files are artifacts.
struct Track: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Store files matching patterns as artifacts (writes .gitattributes).")

    @Argument(help: "Patterns as .gitattributes takes them (\"*.pt\", \"data/**\"). None: list the tracked ones.")
    var patterns: [String] = []
    @Flag(help: "Take a pattern over from git-lfs.")
    var takeOver = false

    func run() throws {
        let context = Context()
        let repository = try context.repository()
        guard let root = repository.workingDirectory else { throw Failure("a bare repository has no work tree to track files in") }
        var file = GitAttributesFile(path: root + ".gitattributes")
        if patterns.isEmpty {
            for p in file.trackedPatterns { print(p) }
            return
        }
        for pattern in patterns {
            do {
                print(try file.track(pattern, takeOver: takeOver) ? "tracking \"\(pattern)\"" : "\"\(pattern)\" is already tracked")
            } catch {
                throw Failure(error.description)
            }
        }
        try file.save()
    }
}

struct Untrack: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Stop storing files matching patterns as artifacts.")

    @Argument(help: "Patterns to stop tracking.")
    var patterns: [String]

    func run() throws {
        let context = Context()
        let repository = try context.repository()
        guard let root = repository.workingDirectory else { throw Failure("a bare repository has no work tree") }
        var file = GitAttributesFile(path: root + ".gitattributes")
        for pattern in patterns {
            print(file.untrack(pattern) ? "untracked \"\(pattern)\"" : "\"\(pattern)\" was not tracked")
        }
        try file.save()
    }
}

/// `git anvcs artifact-textconv <file>`: what `git diff` shows for an artifact (diff.anvcs.textconv).
struct ArtifactTextconv: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "artifact-textconv",
        abstract: "Describe an artifact for git diff (sha256 and size).", shouldDisplay: false)

    @Argument(help: "The file git hands to the diff driver.")
    var file: String

    func run() throws {
        guard let data = FileManager.default.contents(atPath: file) else { throw Failure("cannot read \(file)") }
        if let pointer = ArtifactPointer.parse(Array(data)) {
            print("artifact sha256 \(pointer.sha256)\nsize \(pointer.size)\nkey \(pointer.key)")
        } else {
            let (sha, size) = try ContentCache.hash(file: file)
            print("artifact sha256 \(sha)\nsize \(size)")
        }
    }
}
