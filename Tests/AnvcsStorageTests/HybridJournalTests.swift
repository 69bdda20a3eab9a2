@testable import AnvcsStorage
import Foundation
import Testing

/// The hybrid store's durable queue: what the primary is owed survives the store object (a
/// process), is paid from the fallback when the original file is gone, and one drain at a time.
@Suite struct HybridJournalTests {
    /// A temporary directory with a primary that fails every write until `unblock()` (its root
    /// is a regular file), a local fallback, a queue directory and a random file `f`.
    private struct Setup {
        let directory: String
        let queue: String
        let primary: NFSBlobStore
        let fallback: LocalBlobStore

        init(fileSize: Int, seed: UInt64) throws {
            directory = try TestEnvironment.temporaryDirectory()
            queue = directory + "/queue"
            _ = FileManager.default.createFile(atPath: directory + "/primary", contents: Data("not a directory".utf8))
            primary = NFSBlobStore(mountPath: directory + "/primary")
            fallback = LocalBlobStore(root: directory + "/fallback")
            try TestEnvironment.writeRandomFile(at: directory + "/f", size: fileSize, seed: seed)
        }

        func store() -> CompositeBlobStore { CompositeBlobStore(primary: primary, fallback: fallback, queueDirectory: queue) }
        func unblock() throws { try FileManager.default.removeItem(atPath: directory + "/primary") }
        func remove() { try? FileManager.default.removeItem(atPath: directory) }
    }

    @Test func theQueueOutlivesTheStoreAndIsPaidFromTheFallbackWhenTheFileIsGone() throws {
        let t = try Setup(fileSize: 70_000, seed: 51)
        defer { t.remove() }
        let pin = try t.store().upload(localPath: t.directory + "/f", key: "models/f.bin")
        #expect(pin.storage == "local")

        // Another process: a new store over the same queue sees the debt.
        let later = t.store()
        #expect(later.pendingUploads.map(\.fallbackPin) == [pin])
        #expect(later.retryPendingUploads().isEmpty)
        #expect(later.pendingUploads.first?.primaryFailure.isEmpty == false)

        // The primary is back but the working file is gone: the bytes come from the fallback.
        try t.unblock()
        try FileManager.default.removeItem(atPath: t.directory + "/f")
        let drained = t.store().retryPendingUploads()
        #expect(drained.count == 1)
        let sent = try #require(drained.first)
        #expect(sent.fallbackPin == pin && sent.primaryPin.storage == "nfs" && sent.primaryPin.sha256 == pin.sha256)
        try t.primary.download(key: "models/f.bin", versionId: sent.primaryPin.versionId, to: t.directory + "/back", expectedSHA256: pin.sha256)
        #expect(t.store().pendingUploads.isEmpty)
        // No scratch copies are left beside the journal.
        #expect(try FileManager.default.contentsOfDirectory(atPath: t.queue).filter { !$0.hasPrefix(".drain") }.isEmpty)
    }

    @Test func aDrainInProgressElsewhereIsNotRunTwice() throws {
        let t = try Setup(fileSize: 4096, seed: 52)
        defer { t.remove() }
        let store = t.store()
        _ = try store.upload(localPath: t.directory + "/f", key: "k")
        try t.unblock()
        // Hold the drain lock as another process would (flock locks belong to the open file).
        let fd = open(t.queue + "/.drain.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
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
