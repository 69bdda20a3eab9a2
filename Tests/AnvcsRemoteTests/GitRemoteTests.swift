import AnvcsTestSupport
import Foundation
import Testing

/// `anvcs::<git url>`: objects through git's own transport, notes beside them.
@Suite struct GitRemoteTests {
    @Test func cloneFetchPushThroughABareRepositoryCarryNotes() throws {
        let f = try RemoteFixture()
        let bare = f.root + "/bare.git"
        try f.must(["init", "-q", "--bare", "-b", "main", bare], in: f.root)
        let first = try f.commits(2)
        try f.work.git(["notes", "--ref", "anvcs", "add", "-m", #"{"schema":"anvcs/provenance/1","ai_meta":{"model":"m"}}"#, first])
        try f.work.git(["remote", "add", "origin", "anvcs::\(bare)"])
        try f.work.git(["push", "-q", "origin", "main"])
        // The bare repository got the branch and the notes, as plain git sees them.
        let refs = try f.must(["for-each-ref", "--format=%(refname)"], in: bare)
        #expect(refs.contains("refs/heads/main") && refs.contains("refs/notes/anvcs"))

        let clone = try f.clone("anvcs::file://\(bare)", into: "clone")
        #expect(try f.rev("HEAD", in: clone) == first)
        #expect(try f.must(["notes", "--ref", "anvcs", "show", first], in: clone).contains("\"model\""))

        let next = try f.commit("x.txt", "x\n", in: clone)
        try f.must(["push", "-q"], in: clone)
        try f.work.git(["fetch", "-q", "origin"])
        #expect(try f.rev("origin/main", in: f.work.path) == next)

        // A rejected push reports git's reason per ref.
        try f.work.commitFile("y.txt", "y\n", message: "diverges")
        let rejected = try f.work.run(["git", "push", "origin", "main"])
        #expect(!rejected.succeeded && rejected.stderr.contains("non-fast-forward"), "\(rejected.stderr)")
    }
}
