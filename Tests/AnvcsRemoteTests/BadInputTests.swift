import AnvcsRemote
import AnvcsTestSupport
import Foundation
import Testing

/// Clear refusals; a failed fetch leaves the local repository untouched.
@Suite struct BadInputTests {
    func published(_ f: RemoteFixture) throws -> (url: String, store: String, pack: String) {
        try f.commits(2)
        let store = f.root + "/store"
        try f.work.git(["push", "-q", "anvcs::file://\(store)", "main"])
        let pack = try FileManager.default.contentsOfDirectory(atPath: store + "/packs").first { $0.hasSuffix(".pack") }!
        return ("anvcs::file://\(store)", store, store + "/packs/" + pack)
    }

    @Test func corruptPackFailsTheFetchAndTouchesNothing() throws {
        let f = try RemoteFixture()
        let (url, _, pack) = try published(f)
        var bytes = [UInt8](FileManager.default.contents(atPath: pack)!)
        bytes[bytes.count / 2] ^= 0xff
        try Data(bytes).write(to: URL(fileURLWithPath: pack))
        let target = f.root + "/target"
        try f.must(["init", "-q", "-b", "main", target], in: f.root)
        let before = try FileManager.default.contentsOfDirectory(atPath: target + "/.git/objects/pack")
        let r = try f.git(["fetch", url, "main:refs/heads/fetched"], in: target)
        #expect(!r.succeeded)
        #expect(r.stderr.contains("failed verification"), "\(r.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: target + "/.git/objects/pack") == before)
        #expect(try f.must(["for-each-ref"], in: target).isEmpty)
    }

    /// A file-size limit (`ulimit -f`, SIGXFSZ ignored) stands in for a disk that fills while
    /// the pack is written: the push fails with the errno, the remote keeps its refs and packs,
    /// and no temporary pack stays under .git/anvcs.
    @Test func diskFullWhileWritingThePackFailsThePushAndKeepsTheRemoteSimulatedWithAFileSizeLimit() throws {
        let f = try RemoteFixture()
        let (url, store, _) = try published(f)
        let before = try f.must(["ls-remote", url], in: f.work.path)
        let packsBefore = try FileManager.default.contentsOfDirectory(atPath: store + "/packs").sorted()
        var generator = SystemRandomNumberGenerator()
        let noise = (0..<(2 << 20)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        try Data(noise).write(to: URL(fileURLWithPath: f.work.path + "/noise.bin"))
        try f.work.git(["add", "noise.bin"])
        try f.work.git(["commit", "-qm", "noise"])
        let r = try f.work.run(["/bin/sh", "-c", "trap '' XFSZ; ulimit -f 1024; exec git push \"$0\" main", url])
        #expect(!r.succeeded)
        #expect(r.stderr.contains("File too large"), "\(r.stderr)")
        #expect(try f.must(["ls-remote", url], in: f.work.path) == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: store + "/packs").sorted() == packsBefore)
        let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: f.work.path + "/.git/anvcs")) ?? []
        #expect(!leftovers.contains { $0.hasPrefix("outgoing-") }, "\(leftovers)")
        // With room again, the same push goes through.
        try f.work.git(["push", "-q", url, "main"])
        #expect(try f.must(["ls-remote", url], in: f.work.path) != before)
    }

    @Test func missingPackAndInvalidManifestAreNamed() throws {
        let f = try RemoteFixture()
        let (url, store, pack) = try published(f)
        try FileManager.default.removeItem(atPath: pack)
        let missing = try f.work.run(["git", "clone", url, f.root + "/c1"], in: f.root)
        #expect(!missing.succeeded && missing.stderr.contains("missing from the store"), "\(missing.stderr)")

        try "{\"schema\": \"anvcs/remote-refs/1\", \"refs\": {\"refs/heads/a..b\": \"x\"}}".write(toFile: store + "/refs.json", atomically: true, encoding: .utf8)
        let invalid = try f.work.run(["git", "ls-remote", url], in: f.root)
        #expect(!invalid.succeeded && invalid.stderr.contains("not a valid anvcs refs manifest"), "\(invalid.stderr)")
        try "not json".write(toFile: store + "/refs.json", atomically: true, encoding: .utf8)
        let garbage = try f.work.run(["git", "ls-remote", url], in: f.root)
        #expect(!garbage.succeeded && garbage.stderr.contains("not a valid anvcs refs manifest"))
    }

    @Test func urlsWithoutBucketOrWithUnknownQueryAreRefused() throws {
        #expect(throws: RemoteError.self) { try S3Location.parse("s3:///prefix") }
        #expect(throws: RemoteError.self) { try S3Location.parse("s3://Bad_Bucket/x") }
        #expect(throws: RemoteError.self) { try S3Location.parse("s3://bucket/x?endpont=http://x") }
        let s3 = try S3Location.parse("s3://bucket/a/b/?endpoint=http%3A%2F%2F127.0.0.1%3A9000&region=eu-west-1&profile=p")
        #expect(s3.prefix == "a/b" && s3.endpoint == "http://127.0.0.1:9000" && s3.region == "eu-west-1" && s3.profile == "p")
        let f = try RemoteFixture()
        let r = try f.work.run(["git", "ls-remote", "anvcs::s3:///nobucket"])
        #expect(!r.succeeded && r.stderr.contains("no bucket"), "\(r.stderr)")
    }

    @Test func protocolParsesPushLinesAndRefusesInvalidRefNames() throws {
        #expect(try HelperSession.parsePushForTesting("+refs/heads/a:refs/heads/b") == PushCommand(source: "refs/heads/a", destination: "refs/heads/b", force: true))
        #expect(try HelperSession.parsePushForTesting(":refs/heads/gone") == PushCommand(source: nil, destination: "refs/heads/gone", force: false))
        // Straight to the helper, bypassing git's own refspec checks.
        let f = try RemoteFixture()
        try f.commits(1)
        let r = try f.work.run(["git-remote-anvcs", "origin", "file://\(f.root)/store"], env: ["GIT_DIR": f.work.path + "/.git"],
                               input: "push refs/heads/main:refs/heads/bad..name\n\n")
        #expect(r.stdout == "error refs/heads/bad..name invalid ref name\n\n", "\(r.stdout) \(r.stderr)")
        let caps = try f.work.run(["git-remote-anvcs", "origin", "file://\(f.root)/store"], env: ["GIT_DIR": f.work.path + "/.git"],
                                  input: "capabilities\noption dry-run true\noption depth 1\n")
        #expect(caps.stdout == "fetch\npush\noption\ncheck-connectivity\n\nok\nunsupported\n")
    }
}
