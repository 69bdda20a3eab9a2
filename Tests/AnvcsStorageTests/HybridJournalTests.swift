@testable import AnvcsStorage
import Foundation
import Testing

/// The hybrid store's durable queue: what the primary is owed survives the store object (a
/// process), is paid from the fallback when the original file is gone, and one drain at a time.
@Suite struct HybridJournalTests {
    private func blockedPrimary(_ directory: String) -> NFSBlobStore {
        // The primary's root is a regular file, so every write fails until it is removed.
        _ = FileManager.default.createFile(atPath: directory + "/primary", contents: Data("not a directory".utf8))
        return NFSBlobStore(mountPath: directory + "/primary")
    }

    @Test func theQueueOutlivesTheStoreAndIsPaidFromTheFallbackWhenTheFileIsGone() throws {
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let queue = directory + "/queue"
        let primary = blockedPrimary(directory)
        let fallback = LocalBlobStore(root: directory + "/fallback")
        try TestEnvironment.writeRandomFile(at: directory + "/f", size: 70_000, seed: 51)
        let pin = try CompositeBlobStore(primary: primary, fallback: fallback, queueDirectory: queue)
            .upload(localPath: directory + "/f", key: "models/f.bin")
        #expect(pin.storage == "local")

        // Another process: a new store over the same queue sees the debt.
        let later = CompositeBlobStore(primary: primary, fallback: fallback, queueDirectory: queue)
        #expect(later.pendingUploads.map(\.fallbackPin) == [pin])
        #expect(later.retryPendingUploads().isEmpty)
        #expect(later.pendingUploads.first?.primaryFailure.isEmpty == false)

        // The primary is back but the working file is gone: the bytes come from the fallback.
        try FileManager.default.removeItem(atPath: directory + "/primary")
        try FileManager.default.removeItem(atPath: directory + "/f")
        let drained = CompositeBlobStore(primary: primary, fallback: fallback, queueDirectory: queue).retryPendingUploads()
        #expect(drained.count == 1)
        let sent = try #require(drained.first)
        #expect(sent.fallbackPin == pin && sent.primaryPin.storage == "nfs" && sent.primaryPin.sha256 == pin.sha256)
        try primary.download(key: "models/f.bin", versionId: sent.primaryPin.versionId, to: directory + "/back", expectedSHA256: pin.sha256)
        #expect(CompositeBlobStore(primary: primary, fallback: fallback, queueDirectory: queue).pendingUploads.isEmpty)
        // No scratch copies are left beside the journal.
        #expect(try FileManager.default.contentsOfDirectory(atPath: queue).filter { !$0.hasPrefix(".drain") }.isEmpty)
    }

    @Test func aDrainInProgressElsewhereIsNotRunTwice() throws {
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let queue = directory + "/queue"
        let primary = blockedPrimary(directory)
        let fallback = LocalBlobStore(root: directory + "/fallback")
        try TestEnvironment.writeRandomFile(at: directory + "/f", size: 4096, seed: 52)
        let store = CompositeBlobStore(primary: primary, fallback: fallback, queueDirectory: queue)
        _ = try store.upload(localPath: directory + "/f", key: "k")
        try FileManager.default.removeItem(atPath: directory + "/primary")
        // Hold the drain lock as another process would (flock locks belong to the open file).
        let fd = open(queue + "/.drain.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        #expect(fd >= 0 && flock(fd, LOCK_EX) == 0)
        #expect(store.retryPendingUploads().isEmpty)
        #expect(store.pendingUploads.count == 1)
        close(fd)
        #expect(store.retryPendingUploads().count == 1)
        #expect(store.pendingUploads.isEmpty)
    }

    @Test func anEntryThatDoesNotDecodeIsLeftAloneNotTrusted() throws {
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let queue = directory + "/queue"
        try FileManager.default.createDirectory(atPath: queue, withIntermediateDirectories: true)
        try "{ not json".write(toFile: queue + "/broken.json", atomically: true, encoding: .utf8)
        let store = CompositeBlobStore(primary: LocalBlobStore(root: directory + "/p"), fallback: LocalBlobStore(root: directory + "/f"),
                                       queueDirectory: queue)
        #expect(store.pendingUploads.isEmpty)
        #expect(store.retryPendingUploads().isEmpty)
        #expect(FileManager.default.fileExists(atPath: queue + "/broken.json"))
    }
}
