import AnvcsTestSupport
import Foundation
import Testing

/// `anvcs::s3://` against moto's S3 server (signatures checked).
@Suite(.serialized) struct S3RemoteTests {
    func server() throws -> MotoProcess { try SharedMoto.server.get() }

    @Test func pushCloneFetchThroughS3() throws {
        let moto = try server()
        let f = try RemoteFixture()
        f.work.environment.merge(moto.environment()) { $1 }
        let tip = try f.commits(3)
        let url = "anvcs::s3://repo-a/team/project?endpoint=\(moto.endpoint)"
        try f.work.git(["push", "-q", url, "main"])
        let clone = try f.clone(url, into: "clone")
        #expect(try f.rev("HEAD", in: clone) == tip)
        let next = try f.commit("s3.txt", "s3\n", in: clone)
        try f.must(["push", "-q", "origin", "main"], in: clone)
        try f.work.git(["fetch", "-q", url, "main:refs/remotes/s3/main"])
        #expect(try f.rev("refs/remotes/s3/main", in: f.work.path) == next)
        try f.work.commitFile("late.txt", "late\n", message: "late")
        let rejected = try f.work.run(["git", "push", url, "main"])
        #expect(!rejected.succeeded && rejected.stderr.contains("non-fast-forward"), "\(rejected.stderr)")
    }

    /// A pack larger than what the S3 client keeps in memory for a response (64 MiB): the fetch
    /// streams it into the indexer instead of collecting it, so clone works at any pack size.
    @Test func clonesAPackLargerThanTheInMemoryResponseLimit() throws {
        let moto = try server()
        let f = try RemoteFixture()
        f.work.environment.merge(moto.environment()) { $1 }
        // Incompressible, so the pack holds ~70 MiB whatever zlib does.
        var generator = SystemRandomNumberGenerator()
        var bytes = [UInt8](repeating: 0, count: 70 << 20)
        for index in stride(from: 0, to: bytes.count, by: 8) {
            withUnsafeBytes(of: generator.next() as UInt64) { word in
                for offset in 0..<8 { bytes[index + offset] = word[offset] }
            }
        }
        try Data(bytes).write(to: URL(fileURLWithPath: f.work.path + "/large.bin"))
        try f.work.git(["add", "large.bin"])
        try f.work.git(["commit", "-qm", "large"])
        let tip = try f.rev("HEAD", in: f.work.path)
        let url = "anvcs::s3://repo-a/large-pack?endpoint=\(moto.endpoint)"
        try f.work.git(["push", "-q", url, "main"])
        let clone = try f.clone(url, into: "clone")
        #expect(try f.rev("HEAD", in: clone) == tip)
        #expect(FileManager.default.contents(atPath: clone + "/large.bin") == Data(bytes))
    }

    /// The endpoint configured once (git config anvcs.adapters.s3.endpoint-url) serves every
    /// anvcs::s3:// URL of the repository that does not name one.
    @Test func endpointFromTheRepositorysSettings() throws {
        let moto = try server()
        let f = try RemoteFixture()
        f.work.environment.merge(moto.environment()) { $1 }
        let tip = try f.commits(2)
        try f.work.git(["config", "anvcs.adapters.s3.endpoint-url", moto.endpoint])
        try f.work.git(["push", "-q", "anvcs::s3://repo-c/configured", "main"])
        let listed = try f.work.run(["git", "ls-remote", "anvcs::s3://repo-c/configured"])
        #expect(listed.succeeded && listed.stdout.contains(tip), "\(listed.stderr)")
    }

    @Test func wrongCredentialsAndUnversionedBucketsAreRefused() throws {
        let moto = try server()
        let f = try RemoteFixture()
        try f.commits(1)
        f.work.environment.merge(moto.environment(wrongSecret: true)) { $1 }
        let denied = try f.work.run(["git", "push", "anvcs::s3://repo-b/x?endpoint=\(moto.endpoint)", "main"])
        #expect(!denied.succeeded && denied.stderr.contains("access denied"), "\(denied.stderr)")

        f.work.environment.merge(moto.environment()) { $1 }
        let unversioned = try f.work.run(["git", "push", "anvcs::s3://repo-plain/x?endpoint=\(moto.endpoint)", "main"])
        #expect(!unversioned.succeeded && unversioned.stderr.contains("versioning"), "\(unversioned.stderr)")
        let unsafe = try f.work.run(["git", "push", "anvcs::s3://repo-plain/x?endpoint=\(moto.endpoint)&unsafe=true", "main"])
        #expect(unsafe.succeeded, "\(unsafe.stderr)")
    }
}
