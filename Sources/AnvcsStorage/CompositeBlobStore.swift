import Foundation
import Synchronization

/// `storage.mode: hybrid`: writes go to the primary; when it fails they go to the fallback and
/// the upload is queued for the primary (`pendingUploads`, drained by `retryPendingUploads`).
/// Reads try the store named by the pin's version first, then the other.
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

    private let pending = Mutex<[PendingUpload]>([])

    public init(primary: any BlobStore, fallback: any BlobStore) {
        self.primary = primary
        self.fallback = fallback
    }

    public var pendingUploads: [PendingUpload] { pending.withLock { $0 } }

    public func upload(localPath: String, key: String) throws -> ArtifactPin {
        do {
            return try primary.upload(localPath: localPath, key: key)
        } catch let primaryError {
            do {
                let pin = try fallback.upload(localPath: localPath, key: key)
                pending.withLock {
                    $0.append(PendingUpload(localPath: localPath, key: key, fallbackPin: pin,
                                            primaryFailure: "\(primaryError)"))
                }
                return pin
            } catch {
                throw StorageError.allStoresFailed(operation: "upload \(key)",
                                                   failures: ["\(primary.storageName): \(primaryError)", "\(fallback.storageName): \(error)"])
            }
        }
    }

    /// Sends queued uploads to the primary; returns the pins it made and keeps what still fails.
    public func retryPendingUploads() -> [ArtifactPin] {
        let queued = pending.withLock { queue in
            defer { queue.removeAll() }
            return queue
        }
        var done: [ArtifactPin] = []
        var still: [PendingUpload] = []
        for upload in queued {
            do {
                done.append(try primary.upload(localPath: upload.localPath, key: upload.key))
            } catch {
                var kept = upload
                kept.primaryFailure = "\(error)"
                still.append(kept)
            }
        }
        pending.withLock { $0.append(contentsOf: still) }
        return done
    }

    public func download(key: String, versionId: String, to destinationPath: String, expectedSHA256: String?) throws {
        var failures: [String] = []
        for store in [primary, fallback] {
            do {
                try store.download(key: key, versionId: versionId, to: destinationPath, expectedSHA256: expectedSHA256)
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
