import AnvcsArtifacts
import AnvcsGit
import AnvcsProvenance
import ArgumentParser
import Foundation

/// `git anvcs hydrate`: replace pointer files in the work tree with their verified bytes, or
/// (`--prefetch`) bring the artifacts of commits into the local cache without touching the work tree.
struct Hydrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hydrate",
        abstract: "Fetch artifact bytes for pointer files in the work tree (lazy hydration), or prefetch commits' artifacts.")

    @Argument(help: "Work tree paths or pathspecs to hydrate.")
    var paths: [String] = []
    @Flag(help: "Hydrate every pointer file in the work tree.")
    var all = false
    @Option(parsing: .upToNextOption, help: "Download the artifacts of these revisions into the local cache; the work tree is not touched.")
    var prefetch: [String] = []
    @Flag(help: "Print the result as JSON.")
    var json = false

    func validate() throws {
        if paths.isEmpty && !all && prefetch.isEmpty {
            throw ValidationError("name paths to hydrate, or pass --all, or --prefetch <rev>...")
        }
    }

    func run() throws {
        let context = Context()
        let repository = try context.repository()
        let services = ArtifactServices(context: context, repository: repository)
        let queue = try services.queue()
        // Without a usable store, what the cache holds is still hydrated; the rest is reported.
        let fetcher: ArtifactFetcher?
        do { fetcher = services.fetcher(queue: queue, store: try services.store()) } catch {
            Terminal.warning("the blob store cannot be opened (\(Failure.describe(error))); only cached artifacts can be hydrated")
            fetcher = nil
        }
        var hydrated: [String] = []
        var prefetched = 0
        var failed: [(String, String)] = []

        if !prefetch.isEmpty {
            var references: [ArtifactReference] = []
            let scanner = ArtifactScanner(git: services.git)
            for revision in prefetch { references += try scanner.pointers(at: revision) }
            var seen = Set<String>()
            references = references.filter { seen.insert($0.pointer.sha256).inserted }
            let results = Results()
            let operations = OperationQueue()
            operations.maxConcurrentOperationCount = services.concurrency
            for r in references {
                operations.addOperation {
                    do throws(ArtifactError) {
                        guard let fetcher else { throw ArtifactError.missing(sha256: r.pointer.sha256, path: r.path) }
                        try fetcher.fetch(r.pointer, path: r.path)
                        results.ok()
                    } catch { results.fail(r.path, error.description) }
                }
            }
            operations.waitUntilAllOperationsAreFinished()
            prefetched = results.done
            failed += results.failures
        }
        if all || !paths.isEmpty {
            guard let root = services.workTree else { throw Failure("a bare repository has no work tree to hydrate") }
            let candidates = try services.unhydrated(all ? [] : paths)
            let report = Hydrator(workTree: root, cache: services.cache, fetcher: fetcher,
                                  concurrency: services.concurrency,
                                  indexFile: services.repository.indexFile).hydrate(candidates)
            hydrated = report.hydrated
            failed += report.failed.map { ($0.path, $0.reason) }
            // Entries the hydrator could not refresh (the index was locked, or git had not recorded
            // the pointer file as up to date) are re-added: the filter cleans them to the same
            // pointer and git records their new size and times; a mere --refresh would say modified.
            let refreshed = Set(report.indexRefreshed ?? [])
            let readd = hydrated.filter { !refreshed.contains($0) }
            if let problem = report.indexProblem { Terminal.note("index not refreshed in place: \(problem)") }
            if !readd.isEmpty {
                _ = try? services.git.run(["update-index", "-q", "-z", "--stdin"], input: Array(readd.joined(separator: "\u{0}").utf8) + [0])
            }
        }
        if json {
            print(JSONValue.object(JSONObject([
                ("hydrated", .array(hydrated.map(JSONValue.string))),
                ("prefetched", .number(Double(prefetched))),
                ("failed", .array(failed.map { .object(JSONObject([("path", .string($0.0)), ("reason", .string($0.1))])) })),
            ])).serialized(pretty: true))
        } else {
            for path in hydrated { print(path) }
            if !prefetch.isEmpty { Terminal.note("prefetched \(prefetched) artifact(s) into the local cache") }
        }
        for (path, reason) in failed { Terminal.error("\(path): \(reason)") }
        if !failed.isEmpty { throw ExitCode(1) }
    }

    private final class Results: @unchecked Sendable {
        let lock = NSLock()
        var done = 0
        var failures: [(String, String)] = []
        func ok() { lock.lock(); done += 1; lock.unlock() }
        func fail(_ path: String, _ why: String) { lock.lock(); failures.append((path, why)); lock.unlock() }
    }
}
