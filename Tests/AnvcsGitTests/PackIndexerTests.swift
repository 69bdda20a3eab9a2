import AnvcsGit
import AnvcsTestSupport
import Crypto
import Foundation
import Testing

/// The pack indexer against `git index-pack`: the same index, byte for byte, for every pack
/// git accepts, and a refusal (with nothing left behind) for every pack git refuses.
@Suite struct PackIndexerTests {
    /// A history with what packs hold in practice: deltas on deltas, a file grown and cut,
    /// an empty blob, a 200 KB random blob, a submodule entry, an annotated tag, merges.
    private func history(commits: Int) throws -> TemporaryRepository {
        let t = try TemporaryRepository()
        var stream = ""
        func data(_ text: String) { stream += "data \(text.utf8.count)\n\(text)\n" }
        var random = SeededRandom(seed: 7)
        let noise = (0..<200_000).map { _ in UInt8.random(in: 0...255, using: &random) }
        try Data(noise).write(to: URL(fileURLWithPath: t.root + "/noise.bin"))
        for i in 1...commits {
            stream += "commit refs/heads/main\nmark :\(i)\ncommitter c <c@example.com> \(1_700_000_000 + i) +0000\n"
            data("commit \(i)\n")
            if i > 1 { stream += "from :\(i - 1)\n" }
            if i > 3 && i % 17 == 0 { stream += "merge :\(i - 3)\n" }
            stream += "M 100644 inline dir\(i % 7)/file\(i % 23).txt\n"
            data((0..<(1 + i % 40)).map { "line \($0) of \(i % 23)\n" }.joined() + "revision \(i)\n")
            if i == 2 { stream += "M 100644 inline empty\n"; data("") }
            if i == 3 { stream += "M 160000 \(String(repeating: "ab", count: 20)) vendor/sub\n" }
        }
        stream += "tag v1\nfrom :\(commits / 2)\ntagger t <t@example.com> 1700000000 +0000\n"
        data("release\n")
        try stream.write(toFile: t.root + "/stream", atomically: true, encoding: .utf8)
        let r = try t.run(["sh", "-c", "git fast-import --quiet < ../stream"])
        #expect(r.succeeded, "\(r.stderr)")
        try t.git(["read-tree", "main"])
        try t.git(["update-index", "--add", "--cacheinfo", "100644,\(try t.git(["hash-object", "-w", t.root + "/noise.bin"]).trimmingCharacters(in: .whitespacesAndNewlines)),noise.bin"])
        try t.git(["commit", "-qm", "noise"])
        return t
    }

    /// Runs `git index-pack` on a copy of `pack`; its index, or nil when git refuses the pack.
    private func gitIndex(_ pack: [UInt8], in t: TemporaryRepository) throws -> [UInt8]? {
        let dir = t.root + "/git-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data(pack).write(to: URL(fileURLWithPath: dir + "/p.pack"))
        // ChildProcess (posix_spawn, waitpid with a timeout) rather than Foundation's Process: hundreds
        // of short git runs beside the other suites once left a Process never reaped (a hung run).
        do { _ = try ChildProcess.run(["/usr/bin/git", "index-pack", dir + "/p.pack"], environment: t.environment) } catch { return nil }
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/p.idx")))
    }

    /// Feeds `pack` to a PackIndexer in pieces of `piece` bytes; the index it wrote, or the
    /// error. The directory must then hold the pack and index, or nothing at all.
    /// `pieces` forces the scan's split; `used` learns how many pieces it ran in.
    private func index(_ pack: [UInt8], in t: TemporaryRepository, requireConnected: Bool = false,
                       piece: Int = 7919, pieces: Int? = nil, used: ((Int) -> Void)? = nil) throws -> Result<[UInt8], GitError> {
        let dir = t.root + "/ours-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        do {
            let indexer = try PackIndexer(directory: dir, label: "test", requireConnected: requireConnected, scanPieces: pieces)
            var offset = 0
            while offset < pack.count {
                let end = min(pack.count, offset + piece)
                try pack[offset..<end].withUnsafeBytes { try indexer.append($0) }
                offset = end
            }
            let indexed = try indexer.commit()
            used?(indexed.scanPieces)
            let files = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
            #expect(files == ["pack-\(indexed.name).idx", "pack-\(indexed.name).pack"])
            #expect([UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(dir)/pack-\(indexed.name).pack"))) == pack)
            return .success([UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(dir)/pack-\(indexed.name).idx"))))
        } catch let error as GitError {
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty, "a refused pack left files behind")
            return .failure(error)
        }
    }

    private func pack(_ t: TemporaryRepository, _ arguments: String, revisions: String) throws -> [UInt8] {
        let file = t.root + "/out-\(UUID().uuidString).pack"
        let r = try t.run(["sh", "-c", "git pack-objects \(arguments) --stdout > '\(file)'"], input: revisions)
        #expect(r.succeeded, "\(r.stderr)")
        defer { try? FileManager.default.removeItem(atPath: file) }
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
    }

    /// The whole history packed by git twice: its own packs use deltas on offsets; without
    /// --delta-base-offset, deltas on object ids.
    private func offsetAndIDDeltaPacks(_ t: TemporaryRepository) throws -> [[UInt8]] {
        [try pack(t, "--revs --all --delta-base-offset --depth=60", revisions: ""),
         try pack(t, "--revs --all --window=20", revisions: "")]
    }

    private func withTrailer(_ body: ArraySlice<UInt8>) -> [UInt8] {
        Array(body) + Array(Insecure.SHA1.hash(data: Array(body)))
    }

    @Test func writesTheIndexGitIndexPackWritesForOffsetAndIDDeltas() throws {
        let t = try history(commits: 400)
        for bytes in try offsetAndIDDeltaPacks(t) {
            let expected = try #require(try gitIndex(bytes, in: t))
            #expect(try index(bytes, in: t).get() == expected)
            #expect(try index(bytes, in: t, requireConnected: true, piece: 13).get() == expected)
        }
        // libgit2's pack builder (what a push to a store writes).
        let repository = try Repository.open(t.path)
        let written = try repository.writePack(tips: [try repository.resolveCommit("main")], known: [], to: t.root + "/libgit2.pack")
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: written.path)))
        #expect(try index(bytes, in: t, requireConnected: true).get() == gitIndex(bytes, in: t))
    }

    /// The scan split into pieces side by side (each piece's start found by searching, proven by
    /// the piece before it ending there) gives the serial scan's index, for any number of pieces.
    @Test func theScanInPiecesGivesTheSerialScansIndex() throws {
        let t = try history(commits: 400)
        for bytes in try offsetAndIDDeltaPacks(t) {
            let expected = try #require(try gitIndex(bytes, in: t))
            for pieces in [2, 3, 7, 16] {
                var scanned = 0
                #expect(try index(bytes, in: t, requireConnected: true, pieces: pieces, used: { scanned = $0 }).get() == expected)
                #expect(scanned > 1, "\(pieces) pieces asked, the scan ran serially")
            }
        }
    }

    @Test func aPartialHistoryIsIndexedButNotProvenConnected() throws {
        let t = try history(commits: 30)
        let bytes = try pack(t, "--revs", revisions: "main\n^main~1\n")
        #expect(try index(bytes, in: t).get() == gitIndex(bytes, in: t))
        let refused = try index(bytes, in: t, requireConnected: true)
        guard case .failure(let error) = refused else { Issue.record("a partial history passed as connected"); return }
        #expect(error.message.hasPrefix("the pack is not a whole history: it names "), "\(error.message)")
    }

    @Test func aThinPackIsRefusedNamingTheMissingBase() throws {
        let t = try history(commits: 30)
        try t.write("big.txt", (0..<2000).map { "line \($0)\n" }.joined())
        try t.git(["add", "big.txt"])
        try t.git(["commit", "-qm", "big"])
        try t.write("big.txt", (0..<2001).map { "line \($0)\n" }.joined())
        try t.git(["commit", "-qam", "one more line"])
        let bytes = try pack(t, "--revs --thin", revisions: "main\n^main~1\n")
        #expect(try gitIndex(bytes, in: t) == nil)
        guard case .failure(let error) = try index(bytes, in: t) else { Issue.record("a thin pack was accepted"); return }
        #expect(error.message.contains("which the pack does not hold"), "\(error.message)")
    }

    @Test func truncatedOrDamagedPacksFailTheChecksum() throws {
        let t = try history(commits: 20)
        let bytes = try pack(t, "--revs --all", revisions: "")
        for cut in [0, 11, 12, 31, bytes.count / 2, bytes.count - 21, bytes.count - 1] {
            guard case .failure(let error) = try index(Array(bytes[..<cut]), in: t) else { Issue.record("a pack cut at \(cut) was accepted"); continue }
            #expect(error.message.contains("truncated"), "\(cut): \(error.message)")
        }
        var flipped = bytes
        flipped[bytes.count / 3] ^= 0x10
        guard case .failure(let error) = try index(flipped, in: t) else { Issue.record("a damaged pack was accepted"); return }
        #expect(error.message.contains("checksum does not match"), "\(error.message)")
    }

    /// Damage that keeps the checksum right (it is recomputed), so only the parsing stands
    /// between the bytes and the index: each of 150 seeded mutations gets git's verdict, and
    /// where git accepts, git's index.
    @Test func damagedPacksWithAValidChecksumGetGitsVerdict() throws {
        let t = try history(commits: 12)
        let original = try pack(t, "--revs --all --delta-base-offset", revisions: "")
        var random = SeededRandom(seed: 20_261_207)
        var refused = 0
        for round in 0..<150 {
            var body = Array(original.dropLast(20))
            let at = Int.random(in: 0..<body.count, using: &random)
            switch round % 3 {
            case 0: body[at] ^= UInt8.random(in: 1...255, using: &random)
            case 1: body.remove(at: at)
            default: body.insert(UInt8.random(in: 0...255, using: &random), at: at)
            }
            let damaged = withTrailer(body[...])
            // Every other round through the scan in pieces, which must come to the same verdict.
            let ours = try index(damaged, in: t, pieces: round % 2 == 0 ? nil : 4)
            let git = try gitIndex(damaged, in: t)
            switch ours {
            case .success(let idx): #expect(idx == git, "round \(round) (seed \(random.seed)): git refused or indexed differently")
            case .failure(let error):
                refused += 1
                #expect(git == nil, "round \(round) (seed \(random.seed)): git accepts what we refused: \(error.message)")
            }
        }
        #expect(refused > 120)
    }

    /// Packs no git writes, built byte by byte: each must be refused with a reason.
    @Test func handCraftedHostilePacksAreRefused() throws {
        let t = try TemporaryRepository()
        let script = #"""
        import hashlib, struct, sys, zlib
        def header(kind, size):
            out = bytearray(); byte = (kind << 4) | (size & 15); size >>= 4
            while size: out.append(byte | 0x80); byte = size & 0x7f; size >>= 7
            out.append(byte); return bytes(out)
        def entry(kind, data, prefix=b""): return header(kind, len(data)) + prefix + zlib.compress(data)
        def varint(n):
            out = bytearray()
            while True:
                b = n & 0x7f; n >>= 7
                if n: out.append(b | 0x80)
                else: out.append(b); return bytes(out)
        def pack(entries, count=None):
            body = b"PACK" + struct.pack(">II", 2, len(entries) if count is None else count) + b"".join(entries)
            return body + hashlib.sha1(body).digest()
        blob = entry(3, b"hello\n")
        blob_id = hashlib.sha1(b"blob 6\0hello\n").digest()
        cases = {
            "copy-past-base": pack([blob, entry(7, varint(6) + varint(10) + bytes([0x91, 2, 10]), blob_id)]),
            "insert-past-end": pack([blob, entry(7, varint(6) + varint(5) + bytes([9]) + b"ab", blob_id)]),
            "opcode-zero": pack([blob, entry(7, varint(6) + varint(1) + bytes([0]), blob_id)]),
            "wrong-base-size": pack([blob, entry(7, varint(7) + varint(1) + bytes([1]) + b"x", blob_id)]),
            "twice": pack([blob, blob]),
            "count-too-high": pack([blob], count=2),
            "junk-after": pack([blob + b"junk"]),
            "offset-outside": pack([blob, header(6, 3) + bytes([0x7f]) + zlib.compress(b"abc")]),
            "offset-mid-entry": pack([blob, header(6, 3) + bytes([len(blob) - 1]) + zlib.compress(b"abc")]),
            "unknown-type": pack([entry(5, b"x")]),
            "size-lie": pack([header(3, 5) + zlib.compress(b"hello\n")]),
            "commit-without-tree": pack([entry(1, b"author a <a> 1 +0000\n\nx\n")]),
            "malformed-tree": pack([entry(2, b"100644 name-without-id")]),
        }
        for name, data in cases.items(): open(sys.argv[1] + "/" + name + ".pack", "wb").write(data)
        """#
        try script.write(toFile: t.root + "/craft.py", atomically: true, encoding: .utf8)
        let r = try t.run(["python3", t.root + "/craft.py", t.root])
        try #require(r.succeeded, "\(r.stderr)")
        let expectations = [
            "copy-past-base": "copies 10 bytes at 2 of a 6-byte base", "insert-past-end": "inserts 9 bytes past its end",
            "opcode-zero": "reserved instruction 0", "wrong-base-size": "for a base of 7 bytes", "twice": "holds ce013625030ba8dba906f756967f9e9ca394464a twice",
            "count-too-high": "ends after 1 of the 2 objects", "junk-after": "4 bytes after the 1 objects",
            "offset-outside": "on a base outside the pack", "offset-mid-entry": "where no object starts",
            "unknown-type": "unknown type 5", "size-lie": "does not inflate to the 5 bytes",
            "commit-without-tree": "is a commit without a tree line", "malformed-tree": "is a malformed tree",
        ]
        for (name, reason) in expectations {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(t.root)/\(name).pack")))
            guard case .failure(let error) = try index(bytes, in: t, requireConnected: true) else {
                Issue.record("\(name) was accepted"); continue
            }
            #expect(error.message.contains(reason), "\(name): \(error.message)")
        }
    }
}
