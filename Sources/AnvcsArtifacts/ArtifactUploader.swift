import AnvcsStorage
import Foundation

/// Sends queued artifacts from the local cache to the blob store and hands their pins to
/// `record` (the provenance notes of the commits that introduced them).
///
/// A row leaves the queue only after its pin is recorded, and a pin is recorded only after the
/// store holds every byte (stores write to a temporary name and rename): an interrupted drain
/// leaves rows queued and nothing half-pinned. Content the store already holds under the same
/// key is not sent again; its known pin is reused.
public struct ArtifactUploader {
    /// Records pins per commit (hex id); must merge with what the commit's note already holds.
    public typealias Record = (_ pinsByCommit: [String: [ArtifactPin]]) throws -> Void

    public struct Outcome: Sendable {
        public var uploaded: [ArtifactPin] = []
        public var reused: [ArtifactPin] = []
        public var failed: [(upload: QueuedUpload, reason: String)] = []
        public init() {}
    }

    let cache: ContentCache
    let store: any BlobStore
    let queue: UploadQueue

    public init(cache: ContentCache, store: any BlobStore, queue: UploadQueue) {
        self.cache = cache
        self.store = store
        self.queue = queue
    }

    /// The pin's `type` from the file name: what a reader of the note most wants to know.
    public static func artifactType(path: String) -> String {
        let ext = (path as NSString).pathExtension.lowercased()
        switch ext {
        case "pt", "pth", "ckpt", "safetensors", "onnx", "h5", "pb", "gguf", "bin", "tflite", "joblib", "pkl": return "model"
        case "parquet", "csv", "tsv", "jsonl", "arrow", "feather", "npy", "npz", "tfrecord", "avro": return "dataset"
        case "png", "jpg", "jpeg", "gif", "webp", "tiff", "bmp", "psd", "svg": return "image"
        default: return "blob"
        }
    }

    /// Uploads `items` (or reuses a pin the store still holds), `concurrency` at a time, records
    /// the pins, and removes the recorded rows. Failures stay queued with their backoff and are returned.
    public func upload(_ items: [QueuedUpload], now: Int64, concurrency: Int = 8, record: Record) throws(ArtifactError) -> Outcome {
        var outcome = Outcome()
        var done: [(QueuedUpload, ArtifactPin)] = []
        var toSend: [QueuedUpload] = []
        for item in items {
            if let known = try? reusablePin(for: item) {
                outcome.reused.append(known)
                done.append((item, known))
            } else {
                toSend.append(item)
            }
        }
        // The store calls run in parallel (latency: network round trips, fsyncs); the queue's
        // database is touched only from this thread.
        let results = UploadResults(count: toSend.count)
        let operations = OperationQueue()
        operations.maxConcurrentOperationCount = max(1, concurrency)
        for (index, item) in toSend.enumerated() {
            operations.addOperation { [cache, store] in
                do {
                    guard cache.contains(item.sha256) else {
                        throw ArtifactError.refused("its bytes are not in the local cache (\(cache.root)); add the file again with 'git add \(item.path)'")
                    }
                    try ArtifactKey.validate(item.key)
                    // The cache entry is named by its verified digest: a store on the same disk
                    // links it instead of copying and hashing it again.
                    var pin = try store.upload(verifiedPath: cache.path(for: item.sha256), key: item.key, sha256: item.sha256, size: item.size)
                    guard pin.sha256 == item.sha256 else {
                        throw ArtifactError.corrupt(sha256: item.sha256, actual: pin.sha256, path: item.path)
                    }
                    pin.path = item.path
                    pin.type = ArtifactUploader.artifactType(path: item.path)
                    results.set(index, .success(pin))
                } catch {
                    results.set(index, .failure("\(error)"))
                }
            }
        }
        operations.waitUntilAllOperationsAreFinished()
        for (index, item) in toSend.enumerated() {
            switch results.get(index) {
            case .success(let pin):
                outcome.uploaded.append(pin)
                done.append((item, pin))
            case .failure(let reason):
                outcome.failed.append((item, reason))
            }
        }
        // One transaction each, not one per artifact: every commit of the queue's database is
        // an fsync, and a thousand of them were most of a push of small files.
        try queue.remember(outcome.uploaded)
        try queue.recordFailures(outcome.failed, now: now)
        guard !done.isEmpty else { return outcome }
        var byCommit: [String: [ArtifactPin]] = [:]
        var recorded: [String: Set<ArtifactPin>] = [:]
        for (item, pin) in done {
            var p = pin
            p.path = item.path
            if recorded[item.commit, default: []].insert(p).inserted { byCommit[item.commit, default: []].append(p) }
        }
        do { try record(byCommit) } catch {
            throw .io("uploaded \(done.count) artifact(s) but could not record their pins in provenance notes: \(error); they stay queued")
        }
        try queue.remove(done.map(\.0))
        return outcome
    }

    /// A pin of the same content and key in this store that the store still has.
    func reusablePin(for item: QueuedUpload) throws -> ArtifactPin? {
        for pin in try queue.pins(sha256: item.sha256) where pin.storage == store.storageName && pin.key == item.key {
            if (try? store.exists(key: pin.key, versionId: pin.versionId)) == true { return pin }
        }
        return nil
    }
}

/// Per-item results of parallel uploads.
private final class UploadResults: @unchecked Sendable {
    enum Result { case success(ArtifactPin), failure(String) }
    let lock = NSLock()
    var values: [Result]
    init(count: Int) { values = Array(repeating: .failure("not attempted"), count: count) }
    func set(_ i: Int, _ r: Result) { lock.lock(); values[i] = r; lock.unlock() }
    func get(_ i: Int) -> Result { lock.lock(); defer { lock.unlock() }; return values[i] }
}
