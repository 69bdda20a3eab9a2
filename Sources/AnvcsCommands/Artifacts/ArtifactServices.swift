import AnvcsArtifacts
import AnvcsConfig
import AnvcsGit
import AnvcsProvenance
import AnvcsStorage
import Foundation

/// What the artifact commands and hooks share: the cache, the upload queue, the configured
/// blob store, and the bridge between pins and provenance notes (AnvcsArtifacts knows nothing
/// of notes; pins reach the note of the commit that introduced the content through here).
struct ArtifactServices {
    let context: Context
    let repository: Repository
    let settings: Settings
    let provenance: ProvenanceStore
    /// One instance for every user in this process: it remembers which entries this process
    /// already hashed, so a fetch's verification is not repeated when the filter streams them.
    let cache: ContentCache

    init(context: Context, repository: Repository, settings: Settings? = nil) {
        self.context = context
        self.repository = repository
        self.settings = settings ?? context.settings(for: repository)
        provenance = ProvenanceStore(repository: repository)
        cache = ContentCache(stateDirectory: provenance.stateDirectory)
    }

    var stateDirectory: String { provenance.stateDirectory }
    var workTree: String? { repository.workingDirectory }
    var git: GitRunner { GitRunner(directory: workTree ?? repository.gitDirectory, environment: context.environment) }
    var keyScheme: String { settings.string("blobs.key") ?? "path" }
    var uploadOnCommit: Bool { settings.bool("blobs.upload_on_commit") }
    var lazy: Bool { (settings.string("artifacts.hydrate") ?? "eager") == "lazy" }
    /// Artifact fetches and writes running at once (`artifacts.concurrency`, at least 1).
    var concurrency: Int { max(1, settings.integer("artifacts.concurrency") ?? 8) }

    func queue() throws -> UploadQueue { try UploadQueue(stateDirectory: stateDirectory) }

    /// The configured store (`storage.*`, `adapters.*`); the local one lives in `<state>/store`.
    func store() throws -> any BlobStore {
        let storage = try StorageSettings(lookup: { settings.string($0) }, defaultLocalPath: stateDirectory + "/store",
                                          hybridQueuePath: stateDirectory + "/hybrid-queue", environment: context.environment)
        return try BlobStoreFactory.make(storage)
    }

    // MARK: pins and notes

    /// A pin as the note stores it (DESIGN.md's fields, in that order, nulls kept).
    static func json(_ pin: ArtifactPin) -> JSONValue {
        .object(JSONObject([
            ("type", .string(pin.type)), ("key", .string(pin.key)), ("storage", .string(pin.storage)),
            ("bucket", pin.bucket.map(JSONValue.string) ?? .null), ("region", pin.region.map(JSONValue.string) ?? .null),
            ("version_id", .string(pin.versionId)), ("sha256", .string(pin.sha256)), ("size", .number(Double(pin.size))),
            ("path", pin.path.map(JSONValue.string) ?? .null),
        ]))
    }

    static func pin(_ value: JSONValue) -> ArtifactPin? {
        guard let key = value["key"]?.stringValue, let storage = value["storage"]?.stringValue,
              let version = value["version_id"]?.stringValue, let sha = value["sha256"]?.stringValue,
              let size = value["size"]?.numberValue else { return nil }
        return ArtifactPin(type: value["type"]?.stringValue ?? "blob", key: key, storage: storage, bucket: value["bucket"]?.stringValue,
                           region: value["region"]?.stringValue, versionId: version, sha256: sha, size: UInt64(size),
                           path: value["path"]?.stringValue)
    }

    /// Adds pins to the notes of their commits, merged with what each note holds (a compare-and-
    /// swap update of the notes ref: other fields and other writers' pins are kept).
    func recordPins(_ byCommit: [String: [ArtifactPin]]) throws {
        var notes: [ObjectID: ProvenanceNote] = [:]
        for (commit, pins) in byCommit {
            guard let id = ObjectID(hex: commit) else { continue }
            var meta = JSONObject()
            meta["artifacts"] = .array(pins.map(ArtifactServices.json))
            notes[id] = ProvenanceNote(json: JSONObject([
                ("schema", .string(ProvenanceNote.schema)), ("commit_id", .string(commit)), ("ai_meta", .object(meta)),
            ]))
        }
        try provenance.record(notes, now: context.now, mirror: settings.bool("provenance.mirror"))
    }

    /// Uploads a hybrid store had left on its fallback (`CompositeBlobStore`'s durable queue),
    /// sent to the primary now; each primary pin joins the notes that hold the fallback pin, so
    /// a clone configured with the primary alone finds the bytes. Returns how many were sent.
    func drainHybridQueue() throws -> (sent: Int, stillQueued: Int) {
        guard let hybrid = try store() as? CompositeBlobStore else { return (0, 0) }
        let drained = hybrid.retryPendingUploads()
        if !drained.isEmpty {
            // Matched on what identifies stored bytes; a note's pin also carries its type and path.
            func identity(_ pin: ArtifactPin) -> String { "\(pin.storage)\u{0}\(pin.key)\u{0}\(pin.versionId)\u{0}\(pin.sha256)" }
            let replacements = Dictionary(drained.map { (identity($0.fallbackPin), $0.primaryPin) }, uniquingKeysWith: { first, _ in first })
            var byCommit: [String: [ArtifactPin]] = [:]
            for entry in try repository.noteEntries(ref: provenance.notesRef) {
                guard let text = try? repository.blob(entry.blob),
                      let note = try? ProvenanceNote.parse(String(decoding: text, as: UTF8.self)) else { continue }
                for pin in note.artifacts.compactMap(ArtifactServices.pin) {
                    guard var recorded = replacements[identity(pin)] else { continue }
                    recorded.type = pin.type
                    recorded.path = pin.path
                    byCommit[entry.annotated.hex, default: []].append(recorded)
                }
            }
            if !byCommit.isEmpty { try recordPins(byCommit) }
        }
        return (drained.count, hybrid.pendingUploads.count)
    }

    /// Uploads owed to a hybrid store's primary (0 for any other store).
    func hybridQueueCount() -> Int {
        ((try? store()) as? CompositeBlobStore)?.pendingUploads.count ?? 0
    }

    /// Pins in the notes of `commits`.
    func pins(of commits: [ObjectID]) throws -> [ArtifactPin] {
        var out: [ArtifactPin] = []
        for commit in commits {
            if case .note(let note) = try provenance.lookup(commit) { out += note.artifacts.compactMap(ArtifactServices.pin) }
        }
        return out
    }

    /// Copies the pins of notes not read before into the queue's pin index (a note blob, once
    /// read, is never parsed again: notes are content-addressed).
    func refreshPinIndex(_ queue: UploadQueue) throws {
        let tip = try repository.referenceTarget(provenance.notesRef)?.hex ?? ""
        guard try queue.value("notes_tip") != tip else { return }
        let blobs = try repository.noteEntries(ref: provenance.notesRef).map(\.blob)
        let unread = Set(try queue.unreadNotes(blobs.map(\.hex)))
        var pins: [ArtifactPin] = []
        for blob in blobs where unread.contains(blob.hex) {
            guard let text = try? repository.blob(blob), let note = try? ProvenanceNote.parse(String(decoding: text, as: UTF8.self)) else { continue }
            pins += note.artifacts.compactMap(ArtifactServices.pin)
        }
        try queue.recordNotes(Array(unread), pins: pins)
        try queue.setValue("notes_tip", tip)
    }

    /// Pin lookup for fetches: the index first; on a miss the notes are read once more.
    func fetcher(queue: UploadQueue, store: any BlobStore) -> ArtifactFetcher {
        let services = self
        return ArtifactFetcher(cache: cache, store: store) { sha in
            let known = (try? queue.pins(sha256: sha)) ?? []
            if !known.isEmpty { return known }
            try? services.refreshPinIndex(queue)
            return (try? queue.pins(sha256: sha)) ?? []
        }
    }

    // MARK: uploads

    /// Queues the artifacts that `commits` introduced (each commit is scanned once).
    @discardableResult
    func queueIntroduced(by commits: [String], queue: UploadQueue) throws -> Int {
        let fresh = try queue.unscanned(commits)
        guard !fresh.isEmpty else { return 0 }
        let found = try ArtifactScanner(git: git).introduced(by: fresh)
        try queue.recordScan(of: fresh, found: found.map { ($0.commit, $0.path, $0.pointer) }, now: context.now)
        return found.count
    }

    /// Uploads queued artifacts (only those past their backoff unless `all`) and records their pins.
    /// One uploader at a time per repository (`<state>/upload.lock`), so no content is sent twice:
    /// with `wait` false a busy lock means another uploader is at work and nothing is done.
    func uploadQueued(queue: UploadQueue, all: Bool, wait: Bool = true) throws -> ArtifactUploader.Outcome {
        try withUploadLock(wait: wait) {
            var total = ArtifactUploader.Outcome()
            var attempted = Set<String>()
            // Rows queued while this runs (commits made meanwhile) are taken in the next round.
            while true {
                let items = try queue.pending(dueAt: all ? nil : context.now)
                    .filter { attempted.insert("\($0.sha256) \($0.key) \($0.commit)").inserted }
                guard !items.isEmpty else { return total }
                let outcome = try ArtifactUploader(cache: cache, store: try store(), queue: queue)
                    .upload(items, now: context.now) { try recordPins($0) }
                total.uploaded += outcome.uploaded
                total.reused += outcome.reused
                total.failed += outcome.failed
            }
        } ?? ArtifactUploader.Outcome()
    }

    /// Runs `body` holding the upload lock; nil when `wait` is false and the lock is taken.
    func withUploadLock<T>(wait: Bool, _ body: () throws -> T) throws -> T? {
        try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true)
        let fd = open(stateDirectory + "/upload.lock", O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return try body() }
        defer { close(fd) }
        guard flock(fd, wait ? LOCK_EX : LOCK_EX | LOCK_NB) == 0 else { return nil }
        defer { flock(fd, LOCK_UN) }
        return try body()
    }

    /// Work tree files (relative paths, optionally limited to `pathspecs`) that are pointer files.
    func unhydrated(_ pathspecs: [String] = []) throws -> [String] {
        guard let root = workTree else { return [] }
        let listed = try git.run(["ls-files", "-z", "--"] + pathspecs)
        let hydrator = Hydrator(workTree: root, cache: cache, fetcher: nil)
        return listed.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }.filter { hydrator.pointer(at: $0) != nil }
    }
}
