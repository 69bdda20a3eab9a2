import AnvcsArtifacts
import AnvcsConfig
import AnvcsGit
import AnvcsProvenance
import AnvcsStorage
import Foundation

/// Pre-push's refusal: artifacts of the pushed commits that are in no store and cannot be sent.
struct PushRefusal: Error, CustomStringConvertible {
    var missing: [(reference: ArtifactReference, reason: String)]

    var description: String {
        var lines = ["anvcs: push refused: \(missing.count) artifact(s) of the pushed commits are not in the blob store and could not be uploaded:"]
        for (r, reason) in missing.prefix(50) {
            lines.append("  \(r.path) (sha256 \(r.pointer.sha256.prefix(12))…, \(r.pointer.size) bytes, commit \(r.commit.prefix(7))): \(reason)")
        }
        if missing.count > 50 { lines.append("  … and \(missing.count - 50) more") }
        lines.append("Fix the store (git anvcs status, git anvcs retry-uploads) and push again; nothing was half-pinned.")
        return lines.joined(separator: "\n")
    }
}

/// The artifact half of the hooks: queue after commits, upload in the background, and make
/// sure a push never publishes a pointer whose bytes are nowhere.
enum ArtifactHooks {
    /// Commits with a pending capture, and whether each may upload now (no `ANVCS_NO_UPLOAD` in its captured variables).
    static func pendingCommits(_ pending: PendingCaptures) -> [(String, Bool)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: pending.directory)) ?? []
        return names.compactMap { name in
            let commit = name.hasSuffix(".env") ? String(name.dropLast(4)) : name.hasSuffix(".json") ? String(name.dropLast(5)) : name
            guard ObjectID(hex: commit) != nil, commit.count == 40 else { return nil }
            var uploadNow = true
            if name.hasSuffix(".env"), let data = FileManager.default.contents(atPath: pending.directory + "/" + name),
               let env = PendingCaptures.parseEnvironment(Array(data)), env["ANVCS_NO_UPLOAD"] != nil {
                uploadNow = false
            }
            return (commit, uploadNow)
        }
    }

    /// With `blobs.upload_on_commit`, queues what `commits` introduced; uploads now when allowed
    /// and in the background, else starts a background uploader (git never waits for the network).
    static func afterCommit(_ context: Context, repository: Repository, settings: Settings?, commits: [String],
                            uploadNow: Bool, background: Bool) throws {
        let services = ArtifactServices(context: context, repository: repository, settings: settings)
        guard services.uploadOnCommit else { return }
        let queue = try services.queue()
        let queued = try services.queueIntroduced(by: commits, queue: queue)
        let due = try queue.pending(dueAt: context.now)
        guard uploadNow, queued > 0 || !due.isEmpty else { return }
        if background {
            try report(services.uploadQueued(queue: queue, all: false, wait: false), context: context)
        } else {
            try startBackgroundUpload(services)
        }
    }

    /// post-checkout: writes the artifacts the checkout left to ANVCS (`DeferredWrites`), so the
    /// hooks after this one and whatever runs next see the bytes, not pointers.
    static func writeAfterCheckout(_ context: Context) throws {
        let repository = try context.repository()
        let deferred = DeferredWrites(repository: repository)
        guard access(deferred.listPath, F_OK) == 0 else { return }
        let services = ArtifactServices(context: context, repository: repository)
        deferred.complete(cache: services.cache, concurrency: services.concurrency)?.print()
    }

    /// `git anvcs hook --background upload`: drains the queue (respecting backoff).
    static func uploadInBackground(_ context: Context) throws {
        let repository = try context.repository()
        let services = ArtifactServices(context: context, repository: repository)
        try report(services.uploadQueued(queue: services.queue(), all: false, wait: false), context: context)
    }

    static func report(_ outcome: ArtifactUploader.Outcome, context: Context) throws {
        guard !outcome.failed.isEmpty else { return }
        throw Failure("\(outcome.failed.count) artifact upload(s) failed and stay queued: "
            + outcome.failed.prefix(5).map { "\($0.upload.path): \($0.reason)" }.joined(separator: "; "))
    }

    /// A detached `git-anvcs hook --background upload`, its output in the hook log.
    static func startBackgroundUpload(_ services: ArtifactServices) throws {
        let log = services.stateDirectory + "/hook.log"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Context.executablePath)
        process.arguments = ["hook", "--background", "upload"]
        process.environment = services.context.environment
        process.currentDirectoryURL = URL(fileURLWithPath: services.workTree ?? services.repository.gitDirectory)
        process.standardInput = FileHandle.nullDevice
        if !FileManager.default.fileExists(atPath: log) { _ = FileManager.default.createFile(atPath: log, contents: nil) }
        let handle = FileHandle(forWritingAtPath: log)
        handle?.seekToEndOfFile()
        process.standardOutput = handle ?? FileHandle.nullDevice
        process.standardError = handle ?? FileHandle.nullDevice
        try process.run()
    }

    /// pre-push: every artifact introduced by the commits being pushed (and not on the remote
    /// yet) must be in the store; what is only in the local cache is uploaded now and pinned.
    static func prePush(_ context: Context, remote: String, input: String) throws {
        let repository = try context.repository()
        let services = ArtifactServices(context: context, repository: repository)
        // No local cache: this repository never cleaned an artifact, so it holds no bytes to
        // upload, and the pointers it may push came from a remote whose store has them.
        guard FileManager.default.fileExists(atPath: services.cache.root) else { return }
        var revisions: [String] = []
        for line in input.split(separator: "\n") {
            let f = line.split(separator: " ")
            guard f.count == 4 else { continue }
            if !f[1].allSatisfy({ $0 == "0" }) { revisions.append(String(f[1])) }
            if !f[3].allSatisfy({ $0 == "0" }) { revisions.append("^" + f[3]) }
        }
        guard revisions.contains(where: { !$0.hasPrefix("^") }) else { return }
        let list = try services.git.text(["rev-list", "--ignore-missing", "--stdin", "--not", "--remotes=\(remote)"],
                                         input: revisions.joined(separator: "\n") + "\n")
        let commits = list.split(separator: "\n").map(String.init)
        let trace = Trace(enabled: context.environment["ANVCS_TRACE"] != nil)
        trace.mark("pre-push: commits to push")
        let references = try ArtifactScanner(git: services.git, repository: repository).introduced(by: commits)
        trace.mark("pre-push: scan for pointers")
        try ensureStored(references, services: services, trace: trace)
    }

    /// Uploads what is missing from the store among `references`; throws `PushRefusal` listing
    /// what could not be stored.
    static func ensureStored(_ references: [ArtifactReference], services: ArtifactServices,
                             trace: Trace = Trace(enabled: false)) throws {
        guard !references.isEmpty else { return }
        let queue = try services.queue()
        let store: any BlobStore
        do { store = try services.store() } catch {
            throw PushRefusal(missing: references.map { ($0, "the blob store cannot be opened: \(Failure.describe(error))") })
        }
        try services.refreshPinIndex(queue)
        trace.mark("pre-push: pin index")
        // Known pins are checked against the store in parallel (a HEAD request each on S3).
        let candidates = try references.map { ($0, try queue.pins(sha256: $0.pointer.sha256)) }
        let stored = StoredFlags(count: candidates.count)
        let checks = OperationQueue()
        checks.maxConcurrentOperationCount = 8
        for (index, (_, pins)) in candidates.enumerated() where !pins.isEmpty {
            checks.addOperation {
                if pins.contains(where: { (try? store.exists(key: $0.key, versionId: $0.versionId)) == true }) { stored.set(index) }
            }
        }
        checks.waitUntilAllOperationsAreFinished()
        let needed = candidates.enumerated().filter { !stored.get($0.offset) }.map(\.element.0)
        trace.mark("pre-push: check stored pins")
        guard !needed.isEmpty else { return }
        try queue.enqueue(needed.map { ($0.commit, $0.path, $0.pointer) }, now: services.context.now)
        let wanted = Set(needed.map { "\($0.pointer.sha256) \($0.pointer.key) \($0.commit)" })
        let items = try queue.pending().filter { wanted.contains("\($0.sha256) \($0.key) \($0.commit)") }
        trace.mark("pre-push: queue")
        // After any background uploader (whose pins are then known and reused, not sent again).
        let outcome = try services.withUploadLock(wait: true) {
            try ArtifactUploader(cache: services.cache, store: store, queue: queue)
                .upload(items, now: services.context.now) { try services.recordPins($0) }
        } ?? ArtifactUploader.Outcome()
        trace.mark("pre-push: upload and record pins")
        if !outcome.uploaded.isEmpty {
            Terminal.note("anvcs: uploaded \(outcome.uploaded.count) artifact(s) to the \(store.storageName) store before the push")
        }
        guard !outcome.failed.isEmpty else { return }
        let failed = Dictionary(outcome.failed.map { ("\($0.upload.sha256) \($0.upload.key) \($0.upload.commit)", $0.reason) },
                                uniquingKeysWith: { a, _ in a })
        throw PushRefusal(missing: needed.compactMap { r in
            failed["\(r.pointer.sha256) \(r.pointer.key) \(r.commit)"].map { (r, $0) }
        })
    }
}

/// Which references the store already holds, set from parallel checks.
private final class StoredFlags: @unchecked Sendable {
    let lock = NSLock()
    var flags: [Bool]
    init(count: Int) { flags = Array(repeating: false, count: count) }
    func set(_ i: Int) { lock.lock(); flags[i] = true; lock.unlock() }
    func get(_ i: Int) -> Bool { lock.lock(); defer { lock.unlock() }; return flags[i] }
}

extension Hydrator.Report {
    /// What a write after checkout did not manage, on stderr (git shows it to the user).
    func print() {
        for (path, reason) in failed { Terminal.warning("\(path): \(reason)") }
        if let indexProblem { Terminal.note("index not refreshed in place (the next git status reads the artifacts again): \(indexProblem)") }
    }
}
