@testable import AnvcsArtifacts
import AnvcsStorage
import CFileAttributes
import AnvcsTestSupport
import Crypto
import Foundation
import Testing

/// The cache's ingest when the content is expected to equal an entry already cached (git
/// cleaning a racily clean file again): matching bytes are hashed, not written; whatever
/// diverges ends up stored byte for byte under its own hash.
@Suite struct ContentCacheIngestTests {
    func bytes(_ count: Int, seed: UInt8) -> [UInt8] {
        var state = UInt32(seed) &* 2_654_435_761 | 1
        return (0..<count).map { _ in
            state ^= state << 13; state ^= state >> 17; state ^= state << 5
            return UInt8(truncatingIfNeeded: state)
        }
    }

    func sha(_ bytes: [UInt8]) -> String { ContentDigest.hex(SHA256.hash(data: bytes)) }

    /// A fresh cache in a directory removed when `body` returns.
    func withCache(_ body: (ContentCache) throws -> Void) throws {
        let directory = NSTemporaryDirectory() + "anvcs-cache-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try body(ContentCache(stateDirectory: directory))
    }

    /// Ingests `content` in 64 KiB pieces, comparing with `expected`.
    func ingest(_ cache: ContentCache, _ content: [UInt8], expecting expected: String?) throws -> (sha: String, written: UInt64) {
        let ingest = try cache.ingest()
        if let expected { ingest.compare(with: expected) }
        var offset = 0
        while offset < content.count {
            let end = min(content.count, offset + 65_536)
            try ingest.append(content[offset..<end])
            offset = end
        }
        let written = ingest.written
        return (try ingest.finish(), written)
    }

    func stored(_ cache: ContentCache, _ sha: String) -> [UInt8]? {
        FileManager.default.contents(atPath: cache.path(for: sha)).map { Array($0) }
    }

    @Test func matchingContentIsHashedNotWritten() throws {
        try withCache { cache in
        let original = bytes(1_200_000, seed: 1)
        let first = try ingest(cache, original, expecting: nil)
        #expect(first.sha == sha(original) && first.written == 1_200_000)
        // The writer stamps its entry, so the next process trusts it without hashing; a write voids it.
        let entry = cache.path(for: first.sha)
        if setxattr(entry, "user.anvcs.probe", "1", 1, 0) == 0 {
            #expect(VerificationStamp.confirms(path: entry, sha256: first.sha, size: 1_200_000))
        }
        let again = try ingest(cache, original, expecting: first.sha)
        #expect(again.sha == first.sha)
        #expect(again.written == 0, "the content equalled the entry: nothing was written")
        // The next process, with the stamp gone: the entry is not trusted, the content is hashed.
        removexattr(entry, "user.anvcs.verified")
        let next = ContentCache(stateDirectory: (cache.root as NSString).deletingLastPathComponent)
        let untrusted = try ingest(next, original, expecting: first.sha)
        #expect(untrusted.sha == first.sha && untrusted.written == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: cache.root + "/tmp").isEmpty)
        }
    }

    /// Entries of the older two-level layout (`ab/cd/<sha>`) are found and moved to `ab/<sha>`.
    @Test func entriesOfTheTwoLevelLayoutAreStillFound() throws {
        try withCache { cache in
            let content = bytes(5_000, seed: 9)
            let digest = sha(content)
            let legacy = "\(cache.root)/\(digest.prefix(2))/\(digest.dropFirst(2).prefix(2))/\(digest)"
            try FileManager.default.createDirectory(atPath: (legacy as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(content).write(to: URL(fileURLWithPath: legacy))
            #expect(cache.contains(digest))
            #expect(cache.path(for: digest) == "\(cache.root)/\(digest.prefix(2))/\(digest)")
            #expect(stored(cache, digest) == content)
            #expect(!FileManager.default.fileExists(atPath: legacy))
            var streamed: [UInt8] = []
            try cache.read(digest, size: 5_000, path: "x.bin") { (chunk) throws(ArtifactError) in streamed += chunk }
            #expect(streamed == content)
        }
    }

    @Test(arguments: ["changed in the middle", "shorter", "longer", "empty"])
    func divergingContentIsStoredExactly(change: String) throws {
        try withCache { cache in
        // Past several of the background writer's batches, so the copy after the divergence and
        // the writes after it are ordered across the thread.
        let original = bytes(3_500_000, seed: 2)
        let expected = try ingest(cache, original, expecting: nil).sha
        var content = original
        switch change {
        case "changed in the middle": content[2_400_000] ^= 0xFF
        case "shorter": content = Array(original[0..<2_300_123])
        case "longer": content += bytes(5_000, seed: 3)
        default: content = []
        }
        let result = try ingest(cache, content, expecting: expected)
        #expect(result.sha == sha(content))
        #expect(stored(cache, result.sha) == content)
        #expect(stored(cache, expected) == original, "the expected entry is untouched")
        }
    }

    /// An entry whose bytes are not its name (rot, tampering): content equal to those bytes
    /// is stored under its real hash, never reported as the entry's name.
    @Test func aCorruptExpectedEntryIsNotTakenForTheContent() throws {
        try withCache { cache in
        let original = bytes(200_000, seed: 4)
        let expected = try ingest(cache, original, expecting: nil).sha
        var rotten = original
        rotten[1_000] ^= 0x01
        // Replaced by other bytes (a new inode, so no stamp vouches for them), seen by the next
        // process (a new cache object: nothing verified in memory).
        try Data(rotten).write(to: URL(fileURLWithPath: cache.path(for: expected)), options: .atomic)
        let next = ContentCache(stateDirectory: (cache.root as NSString).deletingLastPathComponent)
        let result = try ingest(next, rotten, expecting: expected)
        #expect(result.sha == sha(rotten) && result.sha != expected)
        #expect(stored(cache, result.sha) == rotten)
        }
    }
}
