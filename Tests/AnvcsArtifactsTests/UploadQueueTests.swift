import AnvcsArtifacts
import AnvcsStorage
import Foundation
import Testing

@Suite struct UploadQueueTests {
    func temporaryDirectory() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("anvcs-queue-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    func pointer(_ fill: Character, key: String) throws -> ArtifactPointer {
        try ArtifactPointer(sha256: String(repeating: fill, count: 64), size: 10, key: key)
    }

    @Test func queueIsDurableAndBacksOff() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let a = try pointer("a", key: "a.bin"), b = try pointer("b", key: "b.bin")
        do {
            let queue = try UploadQueue(stateDirectory: dir)
            try queue.enqueue([("c1", "a.bin", a), ("c1", "b.bin", b), ("c1", "a.bin", a)], now: 100)
            #expect(try queue.pending().count == 2)
            #expect(try queue.unscanned(["c1", "c2"]) == ["c1", "c2"])
            try queue.recordScan(of: ["c1"], found: [], now: 100)
            #expect(try queue.unscanned(["c1", "c2"]) == ["c2"])
        }
        // Reopened (another process, after a crash): the rows are still there.
        let queue = try UploadQueue(stateDirectory: dir)
        let items = try queue.pending()
        #expect(items.map(\.path) == ["a.bin", "b.bin"])
        try queue.recordFailures([(items[0], "store down")], now: 1_000)
        #expect(try queue.pending(dueAt: 1_001).map(\.path) == ["b.bin"])
        let failed = try queue.pending().first { $0.path == "a.bin" }
        #expect(failed?.attempts == 1 && failed?.lastError == "store down" && failed?.nextAttempt == 1_002)
        #expect(UploadQueue.backoff(attempts: 3) == 8 && UploadQueue.backoff(attempts: 40) == 3600)
        try queue.remove([items[1]])
        #expect(try queue.pending().map(\.path) == ["a.bin"])
    }

    @Test func pinIndexFindsPinsByContent() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let queue = try UploadQueue(stateDirectory: dir)
        let sha = String(repeating: "c", count: 64)
        let old = ArtifactPin(key: "m.bin", storage: "s3", bucket: "b", region: "r", versionId: "v1", sha256: sha, size: 3, path: "m.bin")
        let new = ArtifactPin(key: "m.bin", storage: "s3", bucket: "b", region: "r", versionId: "v2", sha256: sha, size: 3, path: "m.bin")
        try queue.remember([old, new, old])
        #expect(try queue.pins(sha256: sha).map(\.versionId) == ["v2", "v1"])
        #expect(try queue.pins(sha256: String(repeating: "d", count: 64)).isEmpty)
    }
}

@Suite struct ArtifactMergeTests {
    let a = Array(try! ArtifactPointer(sha256: String(repeating: "a", count: 64), size: 1, key: "m.bin").text.utf8)
    let b = Array(try! ArtifactPointer(sha256: String(repeating: "b", count: 64), size: 2, key: "m.bin").text.utf8)
    let c = Array(try! ArtifactPointer(sha256: String(repeating: "c", count: 64), size: 3, key: "m.bin").text.utf8)
    let bRenamed = Array(try! ArtifactPointer(sha256: String(repeating: "b", count: 64), size: 2, key: "n.bin").text.utf8)

    @Test func decisions() {
        #expect(ArtifactMerge.merge(base: a, ours: b, theirs: b, path: "m.bin") == .clean(b))
        #expect(ArtifactMerge.merge(base: a, ours: b, theirs: bRenamed, path: "m.bin") == .clean(b))
        #expect(ArtifactMerge.merge(base: a, ours: a, theirs: c, path: "m.bin") == .clean(c))
        #expect(ArtifactMerge.merge(base: a, ours: b, theirs: a, path: "m.bin") == .clean(b))
        guard case .conflict(let text) = ArtifactMerge.merge(base: a, ours: b, theirs: c, path: "m.bin") else {
            Issue.record("expected a conflict")
            return
        }
        let message = String(decoding: text, as: UTF8.self)
        #expect(message.contains("ours: sha256 \(String(repeating: "b", count: 64)) size 2"))
        #expect(message.contains("theirs: sha256 \(String(repeating: "c", count: 64)) size 3"))
        #expect(ArtifactPointer.parse(text) == nil)
        guard case .conflict(let deleted) = ArtifactMerge.merge(base: a, ours: [], theirs: c, path: "m.bin") else {
            Issue.record("expected a conflict for delete/modify")
            return
        }
        #expect(String(decoding: deleted, as: UTF8.self).contains("ours: deleted"))
    }
}
