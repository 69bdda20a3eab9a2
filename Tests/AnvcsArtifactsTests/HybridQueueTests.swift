import AnvcsTestSupport
import Foundation
import Testing

/// `storage.mode: hybrid` end to end: an upload the primary refused lands on the fallback, the
/// debt survives the process, and `git anvcs retry-uploads` pays it and records the new pin.
@Suite struct HybridQueueTests {
    @Test func uploadsOwedToThePrimaryOutliveTheProcessAndAreRecordedWhenSent() throws {
        let p = try ArtifactWorkflowTests.Project()
        let nfs = p.t.root + "/blocker/nfs"
        // The primary (an NFS mount path under a regular file) fails every write until the file goes.
        try "not a directory\n".write(toFile: p.t.root + "/blocker", atomically: true, encoding: .utf8)
        for (key, value) in [("anvcs.storage.mode", "hybrid"), ("anvcs.storage.primary", "nfs"),
                             ("anvcs.storage.fallback", "local"), ("anvcs.adapters.nfs.path", nfs)] {
            try p.t.git(["config", key, value])
        }
        let bytes = try p.bytes("w.bin", count: 20_000, seed: 41)
        try p.commitAll("w", env: ["ANVCS_HOOK_SYNC": "1"])
        try p.waitForUploads()
        #expect(try p.pins().map { $0["storage"] as? String } == ["local"])
        #expect(try p.status()["owed_to_primary"] as? Int == 1)
        let journal = p.path + "/.git/anvcs/hybrid-queue"
        #expect(try FileManager.default.contentsOfDirectory(atPath: journal).filter { $0.hasSuffix(".json") }.count == 1)

        // Still failing: the debt stays, and says so.
        let failing = try p.t.run([Built.gitAnvcs, "retry-uploads"])
        #expect(failing.succeeded, "\(failing.stderr)")
        #expect(failing.stdout.contains("hybrid primary: sent 0, still owed 1"), "\(failing.stdout)")

        // The primary comes back; a new process sends the bytes and records the primary's pin
        // beside the fallback's in the same note.
        try FileManager.default.removeItem(atPath: p.t.root + "/blocker")
        let ok = try p.t.run([Built.gitAnvcs, "retry-uploads"])
        #expect(ok.succeeded, "\(ok.stderr)")
        #expect(ok.stdout.contains("hybrid primary: sent 1, still owed 0"), "\(ok.stdout)")
        let pins = try p.pins()
        #expect(Set(pins.compactMap { $0["storage"] as? String }) == ["local", "nfs"])
        #expect(pins.allSatisfy { $0["path"] as? String == "w.bin" })
        #expect(try p.status()["owed_to_primary"] as? Int == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: journal).filter { $0.hasSuffix(".json") }.isEmpty)

        // A clone that knows only the primary hydrates from it.
        try p.t.git(["push", "-q", "origin", "main", "refs/notes/anvcs"])
        let clone = p.t.root + "/nfs-only"
        let r = try p.t.run(["git", "clone", "-q", "-c", "filter.anvcs.process=git anvcs filter-process", "-c", "filter.anvcs.required=true",
                             "-c", "anvcs.storage.mode=nfs", "-c", "anvcs.adapters.nfs.path=\(nfs)", p.remote, clone], in: p.t.root)
        #expect(r.succeeded, "\(r.stderr)")
        #expect(p.contents("w.bin", in: clone) == bytes)
    }
}
