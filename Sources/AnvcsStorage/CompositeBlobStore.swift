import Foundation
import Synchronization

/// `storage.mode: hybrid`: writes go to the primary; when it fails they go to the fallback and
/// the upload is queued for the primary (`pendingUploads`, drained by `retryPendingUploads`).
/// With a queue directory the queue is durable (`HybridUploadJournal`): a later process, such
/// as `git anvcs retry-uploads`, pays the debt. Reads try the store named by the pin first.
public final class CompositeBlobStore: BlobStore {
    public let primary: any BlobStore
    public let fallback: any BlobStore
    public var storageName: String { primary.storageName }

    /// An upload that reached only the fallback.
    public struct PendingUpload: Sendable, Equatable {
        public var localPath: String
        public var key: String
        public var fallbackPin: ArtifactPin
        public var primaryFailure: String
    }

    /// A queued upload the primary now holds: the pin handed out at the time (the fallback's)
    /// and the primary's, so callers can record the new pin where the old one is.
    public struct DrainedUpload: Sendable, Equatable {
        public var fallbackPin: ArtifactPin
        public var primaryPin: ArtifactPin
    }

    /// Without a journal (no queue directory), the queue lives as long as this object.
    private let pending = Mutex<[PendingUpload]>([])
    private let journal: HybridUploadJournal?

    /// `queueDirectory`: where queued uploads are kept across processes (callers pass
    /// `<git-dir>/anvcs/hybrid-queue`); nil keeps them in memory only.
    public init(primary: any BlobStore, fallback: any BlobStore, queueDirectory: String? = nil) {
        self.primary = primary
        self.fallback = fallback
        journal = queueDirectory.map { HybridUploadJournal(directory: $0) }
    }

    public var pendingUploads: [PendingUpload] {
        guard let journal else { return pending.withLock { $0 } }
        return journal.entries().map {
            PendingUpload(localPath: $0.localPath, key: $0.key, fallbackPin: $0.fallbackPin, primaryFailure: $0.primaryFailure)
        }
    }

    public func upload(localPath: String, key: String) throws -> ArtifactPin {
        let primaryError: any Error
        do {
            return try primary.upload(localPath: localPath, key: key)
        } catch {
            primaryError = error
        }
        let pin: ArtifactPin
        do {
            pin = try fallback.upload(localPath: localPath, key: key)
        } catch {
            throw StorageError.allStoresFailed(operation: "upload \(key)",
                                               failures: ["\(primary.storageName): \(primaryError)", "\(fallback.storageName): \(error)"])
        }
        let queued = PendingUpload(localPath: localPath, key: key, fallbackPin: pin, primaryFailure: "\(primaryError)")
        if let journal {
            // The pin is only handed out once the debt to the primary is on disk.
            try journal.record(.init(key: key, localPath: localPath, fallbackPin: pin, primaryFailure: queued.primaryFailure,
                                     queued: Int64(Date().timeIntervalSince1970)))
        } else {
            pending.withLock { $0.append(queued) }
        }
        return pin
    }

    /// Sends queued uploads to the primary; returns the pins it made and keeps what still fails.
    /// The bytes come from the original file when it still hashes to the pin, else from the
    /// fallback. Returns nothing when another process is draining the same journal.
    public func retryPendingUploads() -> [DrainedUpload] {
        guard let journal else {
            let queued = pending.withLock { queue in
                defer { queue.removeAll() }
                return queue
            }
            var done: [DrainedUpload] = []
            for upload in queued {
                do {
                    done.append(.init(fallbackPin: upload.fallbackPin, primaryPin: try sendToPrimary(upload)))
                } catch {
                    var kept = upload
                    kept.primaryFailure = "\(error)"
                    pending.withLock { $0.append(kept) }
                }
            }
            return done
        }
        return journal.whileDraining {
            var done: [DrainedUpload] = []
            for entry in journal.entries() {
                let upload = PendingUpload(localPath: entry.localPath, key: entry.key, fallbackPin: entry.fallbackPin,
                                           primaryFailure: entry.primaryFailure)
                do {
                    done.append(.init(fallbackPin: entry.fallbackPin, primaryPin: try sendToPrimary(upload, scratch: journal.directory)))
                    journal.remove(entry)
                } catch {
                    var kept = entry
                    kept.primaryFailure = "\(error)"
                    try? journal.record(kept)
                }
            }
            return done
        } ?? []
    }

    private func sendToPrimary(_ upload: PendingUpload, scratch: String? = nil) throws -> ArtifactPin {
        if (try? ContentDigest.hashFile(at: upload.localPath).sha256) == upload.fallbackPin.sha256 {
            return try primary.upload(localPath: upload.localPath, key: upload.key)
        }
        let directory = scratch ?? (upload.localPath as NSString).deletingLastPathComponent
        let copy = directory + "/.from-fallback-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { unlink(copy) }
        try fallback.download(key: upload.fallbackPin.key, versionId: upload.fallbackPin.versionId, to: copy,
                              expectedSHA256: upload.fallbackPin.sha256)
        return try primary.upload(localPath: copy, key: upload.key)
    }

    public func download(key: String, versionId: String, to destinationPath: String, expectedSHA256: String?, mode: DownloadMode) throws {
        var failures: [String] = []
        for store in [primary, fallback] {
            do {
                try store.download(key: key, versionId: versionId, to: destinationPath, expectedSHA256: expectedSHA256, mode: mode)
                return
            } catch {
                failures.append("\(store.storageName): \(error)")
            }
        }
        throw StorageError.allStoresFailed(operation: "download \(key) version \(versionId)", failures: failures)
    }

    /// Downloads a pin from the store it names, and from the other one if that fails.
    public func download(pin: ArtifactPin, to destinationPath: String) throws {
        let ordered = pin.storage == fallback.storageName && pin.storage != primary.storageName
            ? [fallback, primary] : [primary, fallback]
        var failures: [String] = []
        for store in ordered {
            do {
                try store.download(key: pin.key, versionId: pin.versionId, to: destinationPath, expectedSHA256: pin.sha256)
                return
            } catch {
                failures.append("\(store.storageName): \(error)")
            }
        }
        throw StorageError.allStoresFailed(operation: "download \(pin.key) version \(pin.versionId)", failures: failures)
    }

    public func exists(key: String, versionId: String) throws -> Bool {
        if (try? primary.exists(key: key, versionId: versionId)) == true { return true }
        return try fallback.exists(key: key, versionId: versionId)
    }

    public func deleteVersion(key: String, versionId: String) throws {
        var deleted = false
        var failures: [String] = []
        for store in [primary, fallback] {
            do {
                if try store.exists(key: key, versionId: versionId) {
                    try store.deleteVersion(key: key, versionId: versionId)
                    deleted = true
                }
            } catch {
                failures.append("\(store.storageName): \(error)")
            }
        }
        if !deleted {
            if failures.isEmpty { throw StorageError.notFound(key: key, versionId: versionId, store: "hybrid") }
            throw StorageError.allStoresFailed(operation: "delete \(key) version \(versionId)", failures: failures)
        }
    }
}
