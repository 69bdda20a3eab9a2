import AnvcsArtifacts
import AnvcsProvenance
import AnvcsStorage
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
        let services = ArtifactServices(context: context, repository: repository)
        let settings = services.settings
        // The store and the queue's database are opened on the first fetch only: most filter
        // runs (git add, git status, checkouts from the cache) never need them.
        let opener = FetcherOpener(services: services)
        let fetch: FilterProcess.Fetch = { (pointer, path) throws(ArtifactError) in
            try opener.fetcher(for: path, pointer: pointer).fetch(pointer, path: path)
        }
        let filter = FilterProcess(
            input: STDIN_FILENO, output: STDOUT_FILENO, cache: services.cache,
            settings: .init(keyScheme: services.keyScheme,
                            keepSmallerThan: UInt64(max(0, settings.integer("blobs.min_size") ?? 0)),
                            lazy: services.lazy,
                            concurrency: services.concurrency,
                            writeAfterCheckoutFrom: UInt64(max(0, settings.integer("artifacts.write_after_checkout") ?? 0))),
            fetch: fetch, report: { Terminal.write($0 + "\n") })
        if repository.workingDirectory != nil {
            let deferred = DeferredWrites(repository: repository)
            filter.onWriteAfterCheckout = { deferred.record($0) }
            filter.afterCheckout = { paths in
                let report = deferred.complete(also: paths, cache: services.cache,
                                               concurrency: services.concurrency)
                report?.print()
            }
        }
        filter.stagedPointer = { path in
            guard let blob = try? repository.stagedBlob(path: path),
                  let bytes = try? repository.blob(blob, atMost: ArtifactPointer.maxLength) else { return nil }
            return ArtifactPointer.parse(bytes)
        }
        do {
            try filter.run()
        } catch {
            Terminal.error(Failure.describe(error))
            throw ExitCode(1)
        }
    }
}

/// Opens the fetcher once, from whichever thread asks first.
final class FetcherOpener: @unchecked Sendable {
    let services: ArtifactServices
    let lock = NSLock()
    var opened: Result<ArtifactFetcher, ArtifactError>?

    init(services: ArtifactServices) { self.services = services }

    func fetcher(for path: String, pointer: ArtifactPointer) throws(ArtifactError) -> ArtifactFetcher {
        lock.lock()
        defer { lock.unlock() }
        if opened == nil {
            do {
                opened = .success(services.fetcher(queue: try services.queue(), store: try services.store()))
            } catch {
                // Without a store, checkout still works from the cache; the rest stay pointers.
                opened = .failure(.io("the blob store cannot be opened: \(Failure.describe(error))"))
            }
        }
        switch opened! {
        case .success(let fetcher): return fetcher
        case .failure(let error):
            throw .io("artifact \(path) (sha256 \(pointer.sha256.prefix(12))…) is not cached and \(error.description); the pointer file stays")
        }
    }
}

/// `git anvcs track <pattern>...` / `untrack`: which files are artifacts.
struct Track: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "track", abstract: "Store files matching patterns as artifacts (writes .gitattributes).")

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
    static let configuration = CommandConfiguration(commandName: "untrack", abstract: "Stop storing files matching patterns as artifacts.")

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
        // Only a file no longer than a pointer can be one: the rest is hashed, never read whole.
        guard let handle = FileHandle(forReadingAtPath: file) else { throw Failure("cannot read \(file)") }
        let head = (try? handle.read(upToCount: ArtifactPointer.maxLength + 1)) ?? Data()
        try? handle.close()
        if head.count <= ArtifactPointer.maxLength, let pointer = ArtifactPointer.parse(Array(head)) {
            print("artifact sha256 \(pointer.sha256)\nsize \(pointer.size)\nkey \(pointer.key)")
        } else {
            let digest = try ContentDigest.hashFile(at: file)
            print("artifact sha256 \(digest.sha256)\nsize \(digest.size)")
        }
    }
}
