@testable import AnvcsStorage
import Foundation
import Synchronization
import Testing

struct BlobStoreTests {
    @Test(arguments: ["local", "nfs"])
    func directoryStoresKeepVersions(kind: String) throws {
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store: any BlobStore = kind == "local" ? LocalBlobStore(root: directory + "/store")
                                                   : NFSBlobStore(mountPath: directory + "/store")
        let file = directory + "/data.bin"
        try TestEnvironment.writeRandomFile(at: file, size: 3 << 20, seed: 10)
        let first = try store.upload(localPath: file, key: "datasets/train.bin")
        try TestEnvironment.writeRandomFile(at: file, size: 1 << 20, seed: 11)
        let second = try store.upload(localPath: file, key: "datasets/train.bin")
        #expect(first.versionId != second.versionId)
        #expect(first.storage == kind)
        #expect(try store.upload(localPath: file, key: "datasets/train.bin") == second)

        try store.download(pin: first, to: directory + "/back")
        #expect(try ContentDigest.hashFile(at: directory + "/back").sha256 == first.sha256)
        #expect(try store.exists(key: "datasets/train.bin", versionId: first.versionId))
        try store.deleteVersion(key: "datasets/train.bin", versionId: first.versionId)
        #expect(try store.exists(key: "datasets/train.bin", versionId: first.versionId) == false)
        #expect(throws: StorageError.self) { try store.download(pin: first, to: directory + "/back") }
        #expect(try store.exists(key: "datasets/train.bin", versionId: second.versionId))
    }

    @Test func storedBytesThatRotAreRefused() throws {
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = LocalBlobStore(root: directory + "/store")
        try TestEnvironment.writeRandomFile(at: directory + "/f", size: 10_000, seed: 12)
        let pin = try store.upload(localPath: directory + "/f", key: "f")
        let stored = store.store.versionPath(key: "f", versionId: pin.versionId)
        chmod(stored, 0o644)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: stored))
        try handle.seek(toOffset: 500)
        try handle.write(contentsOf: [0xFF, 0x00])
        try handle.close()
        try Data("keep".utf8).write(to: URL(fileURLWithPath: directory + "/dest"))
        #expect(throws: StorageError.self) { try store.download(pin: pin, to: directory + "/dest") }
        #expect(try String(contentsOfFile: directory + "/dest", encoding: .utf8) == "keep")
    }

    /// Into a cache on the same disk a version is linked, not copied (same inode), after it is
    /// hashed where it lies; a rotten version is refused either way and the destination kept.
    @Test func cacheDownloadsLinkTheVersionAndStillVerifyIt() throws {
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = LocalBlobStore(root: directory + "/store")
        try TestEnvironment.writeRandomFile(at: directory + "/f", size: 300_000, seed: 31)
        let pin = try store.upload(localPath: directory + "/f", key: "m.bin")
        let stored = store.store.versionPath(key: "m.bin", versionId: pin.versionId)
        try store.download(key: pin.key, versionId: pin.versionId, to: directory + "/cached", expectedSHA256: pin.sha256, mode: .cacheEntry)
        var version = stat(), cached = stat(), copied = stat()
        stat(stored, &version)
        stat(directory + "/cached", &cached)
        #expect(version.st_ino == cached.st_ino)
        try store.download(pin: pin, to: directory + "/copied")
        stat(directory + "/copied", &copied)
        #expect(copied.st_ino != version.st_ino, "a durable download is a copy the user may edit")
        #expect(try ContentDigest.hashFile(at: directory + "/copied").sha256 == pin.sha256)

        #expect(throws: StorageError.self) {
            try store.download(key: pin.key, versionId: pin.versionId, to: directory + "/x", expectedSHA256: String(repeating: "0", count: 64),
                               mode: .cacheEntry)
        }
        unlink(directory + "/cached")
        chmod(stored, 0o644)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: stored))
        try handle.seek(toOffset: 1000)
        try handle.write(contentsOf: [0xAA, 0x55])
        try handle.close()
        try Data("keep".utf8).write(to: URL(fileURLWithPath: directory + "/cached"))
        #expect(throws: StorageError.self) {
            try store.download(key: pin.key, versionId: pin.versionId, to: directory + "/cached", expectedSHA256: pin.sha256, mode: .cacheEntry)
        }
        #expect(try String(contentsOfFile: directory + "/cached", encoding: .utf8) == "keep")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasPrefix(".") }.isEmpty)
        #expect(throws: StorageError.self) {
            try store.download(key: "absent.bin", versionId: pin.versionId, to: directory + "/y", expectedSHA256: pin.sha256, mode: .cacheEntry)
        }
    }

    /// A verified cache entry is linked, not copied: same inode, nothing read twice; a cache that
    /// lied about its digest is caught when the version is downloaded.
    @Test func verifiedFilesAreLinkedIntoTheLocalStore() throws {
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = LocalBlobStore(root: directory + "/store")
        try TestEnvironment.writeRandomFile(at: directory + "/entry", size: 200_000, seed: 30)
        let digest = try ContentDigest.hashFile(at: directory + "/entry").sha256
        let pin = try store.upload(verifiedPath: directory + "/entry", key: "models/m.bin", sha256: digest, size: 200_000)
        #expect(pin.versionId == digest && pin.sha256 == digest && pin.size == 200_000 && pin.storage == "local")
        var source = stat(), stored = stat()
        stat(directory + "/entry", &source)
        stat(store.store.versionPath(key: "models/m.bin", versionId: digest), &stored)
        #expect(source.st_ino == stored.st_ino)
        #expect(try store.upload(verifiedPath: directory + "/entry", key: "models/m.bin", sha256: digest, size: 200_000) == pin)
        try store.download(pin: pin, to: directory + "/back")
        #expect(try ContentDigest.hashFile(at: directory + "/back").sha256 == digest)

        let wrong = String(repeating: "ab", count: 32)
        let lie = try store.upload(verifiedPath: directory + "/entry", key: "models/other.bin", sha256: wrong, size: 200_000)
        #expect(throws: StorageError.self) { try store.download(pin: lie, to: directory + "/lied") }
        #expect(!FileManager.default.fileExists(atPath: directory + "/lied"))
        #expect(throws: StorageError.self) {
            try store.upload(verifiedPath: directory + "/entry", key: "models/x.bin", sha256: "not-a-digest", size: 1)
        }
    }

    @Test func keysThatEscapeAreRefused() throws {
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = LocalBlobStore(root: directory)
        try Data("x".utf8).write(to: URL(fileURLWithPath: directory + "/f"))
        for key in ["", "/etc/passwd", "a/../b", "../x", "a//b", "./a"] {
            #expect(throws: StorageError.self, "\(key)") { try store.upload(localPath: directory + "/f", key: key) }
        }
    }

    @Test func concurrentWritersOfTheSameKeyConverge() throws {
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = NFSBlobStore(mountPath: directory + "/share")
        for index in 0..<4 {
            try TestEnvironment.writeRandomFile(at: directory + "/in\(index)", size: 2 << 20, seed: UInt64(20 + index % 2))
        }
        // Four writers at once, two of them with the same bytes as the other two.
        let results = Mutex([Result<ArtifactPin, any Error>?](repeating: nil, count: 4))
        DispatchQueue.concurrentPerform(iterations: 4) { index in
            let result = Result { try store.upload(localPath: directory + "/in\(index)", key: "shared.bin") }
            results.withLock { $0[index] = result }
        }
        let pins = try results.withLock { $0 }.map { try #require($0).get() }
        // Same bytes give the same version whoever wrote them; nothing temporary remains.
        #expect(pins[0] == pins[2] && pins[1] == pins[3] && pins[0] != pins[1])
        let bucket = store.store.bucket("shared.bin")
        let names = try FileManager.default.contentsOfDirectory(atPath: bucket)
        let expected = pins[0 ... 1].map { (store.store.versionPath(key: "shared.bin", versionId: $0.versionId) as NSString).lastPathComponent }
        #expect(Set(names) == Set(expected), "versions only: the key's name is in the journal")
        #expect(store.store.keyNames() == ["shared.bin"])
        #expect(try store.versions(of: "shared.bin").sorted() == [pins[0].versionId, pins[1].versionId].sorted())
    }

    /// Stores written before the flat layout (`keys/<xx>/<d>/versions/<sha>`) stay readable:
    /// found, listed, downloaded and deleted; a new upload of the same bytes is not stored twice.
    @Test func versionsInTheEarlierLayoutAreStillServed() throws {
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = LocalBlobStore(root: directory + "/store")
        try TestEnvironment.writeRandomFile(at: directory + "/old", size: 5_000, seed: 40)
        let digest = try ContentDigest.hashFile(at: directory + "/old").sha256
        let legacy = store.store.legacyVersionPath(key: "models/m.bin", versionId: digest)
        try FileManager.default.createDirectory(atPath: (legacy as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: directory + "/old", toPath: legacy)
        let pin = ArtifactPin(key: "models/m.bin", storage: "local", versionId: digest, sha256: digest, size: 5_000)
        #expect(try store.exists(key: pin.key, versionId: digest))
        #expect(try store.versions(of: pin.key) == [digest])
        try store.download(pin: pin, to: directory + "/back")
        #expect(try ContentDigest.hashFile(at: directory + "/back").sha256 == digest)
        // The same bytes uploaded again: the legacy version is the stored one, no second copy.
        #expect(try store.upload(localPath: directory + "/old", key: pin.key) == pin)
        #expect(!FileManager.default.fileExists(atPath: store.store.versionPath(key: pin.key, versionId: digest)))
        try TestEnvironment.writeRandomFile(at: directory + "/new", size: 6_000, seed: 41)
        let newer = try store.upload(localPath: directory + "/new", key: pin.key)
        #expect(FileManager.default.fileExists(atPath: store.store.versionPath(key: pin.key, versionId: newer.versionId)))
        #expect(Set(try store.versions(of: pin.key)) == [digest, newer.versionId])
        try store.deleteVersion(key: pin.key, versionId: digest)
        #expect(try !store.exists(key: pin.key, versionId: digest))
        #expect(throws: StorageError.self) { try store.deleteVersion(key: pin.key, versionId: digest) }
        #expect(try store.versions(of: pin.key) == [newer.versionId])
    }

    /// A version id becomes part of a path: one that is not a sha256 never reaches the file system.
    @Test func versionIdsThatAreNotDigestsAreRefused() throws {
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = LocalBlobStore(root: directory + "/store")
        try Data("secret".utf8).write(to: URL(fileURLWithPath: directory + "/secret"))
        for version in ["../../../secret", "", String(repeating: "A", count: 64), "key"] {
            #expect(throws: StorageError.self, "\(version)") { try store.exists(key: "k", versionId: version) }
            #expect(throws: StorageError.self, "\(version)") {
                try store.download(key: "k", versionId: version, to: directory + "/out", expectedSHA256: nil, mode: .durable)
            }
            #expect(throws: StorageError.self, "\(version)") { try store.deleteVersion(key: "k", versionId: version) }
        }
        #expect(FileManager.default.fileExists(atPath: directory + "/secret"))
        #expect(!FileManager.default.fileExists(atPath: directory + "/out"))
    }

    @Test func compositeFallsBackAndQueuesForThePrimary() throws {
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // The primary's root is a file, so every write to it fails until it is replaced.
        _ = FileManager.default.createFile(atPath: directory + "/primary", contents: Data("not a directory".utf8))
        let primary = NFSBlobStore(mountPath: directory + "/primary")
        let fallback = LocalBlobStore(root: directory + "/fallback")
        let composite = CompositeBlobStore(primary: primary, fallback: fallback)
        try TestEnvironment.writeRandomFile(at: directory + "/f", size: 4096, seed: 30)
        let pin = try composite.upload(localPath: directory + "/f", key: "k")
        #expect(pin.storage == "local")
        #expect(composite.pendingUploads.count == 1)
        try composite.download(pin: pin, to: directory + "/back")
        #expect(try ContentDigest.hashFile(at: directory + "/back").sha256 == pin.sha256)
        #expect(composite.retryPendingUploads().isEmpty)
        #expect(composite.pendingUploads.count == 1)

        try FileManager.default.removeItem(atPath: directory + "/primary")
        let drained = composite.retryPendingUploads()
        #expect(drained.map(\.primaryPin.storage) == ["nfs"] && drained.map(\.fallbackPin) == [pin])
        #expect(composite.pendingUploads.isEmpty)
        #expect(try primary.exists(key: "k", versionId: pin.versionId))
    }

    @Test func pinEncodesWithTheDesignKeys() throws {
        let pin = ArtifactPin(type: "model", key: "m.pt", storage: "s3", bucket: "b", region: "eu-west-1",
                              versionId: "v", sha256: "ab", size: 3, path: "models/m.pt")
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = String(decoding: try encoder.encode(pin), as: UTF8.self)
        #expect(json == #"{"bucket":"b","key":"m.pt","path":"models\/m.pt","region":"eu-west-1","sha256":"ab","size":3,"storage":"s3","type":"model","version_id":"v"}"#)
        #expect(try JSONDecoder().decode(ArtifactPin.self, from: Data(json.utf8)) == pin)
    }

    @Test func fileHashMatchesSha256sum() throws {
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try TestEnvironment.writeRandomFile(at: directory + "/f", size: 3_000_001, seed: 40)
        let expected = try TestEnvironment.run("/usr/bin/sha256sum", [directory + "/f"]).prefix(64)
        #expect(try ContentDigest.hashFile(at: directory + "/f").sha256 == String(expected))
        let parts = try ContentDigest.hashFile(at: directory + "/f", partSize: 1_000_000)
        #expect(parts.partSHA256.count == 4)
    }
}
