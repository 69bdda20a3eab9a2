import AnvcsTestSupport
import Foundation

/// A working repository plus a place for remotes, with git-remote-anvcs on PATH.
final class RemoteFixture: @unchecked Sendable {
    let work: TemporaryRepository

    init() throws {
        work = try TemporaryRepository(name: "work")
        guard FileManager.default.isExecutableFile(atPath: Built.binDirectory + "/git-remote-anvcs") else {
            throw TestFailure("git-remote-anvcs is not built in \(Built.binDirectory): run swift build --product git-remote-anvcs")
        }
    }

    var root: String { work.root }

    /// Commits `count` files on the current branch; returns the last commit id.
    @discardableResult
    func commits(_ count: Int, prefix: String = "file", in repo: TemporaryRepository? = nil) throws -> String {
        let repo = repo ?? work
        var last = ""
        for i in 0..<count {
            last = try repo.commitFile("\(prefix)-\(i).txt", "content \(prefix) \(i)\n", message: "\(prefix) \(i)")
        }
        return last
    }

    /// A clone of `url` into `name` under the fixture's root; returns its path.
    @discardableResult
    func clone(_ url: String, into name: String, extra: [String] = []) throws -> String {
        let r = try work.run(["git", "clone", "-q"] + extra + [url, root + "/" + name], in: root)
        guard r.succeeded else { throw TestFailure("git clone \(url) failed (\(r.status)): \(r.stderr)") }
        return root + "/" + name
    }

    func git(_ arguments: [String], in path: String, env: [String: String] = [:]) throws -> ProcessResult {
        try work.run(["git"] + arguments, env: env, in: path)
    }

    /// Runs git in `path` and fails loudly when it fails.
    @discardableResult
    func must(_ arguments: [String], in path: String, env: [String: String] = [:]) throws -> String {
        let r = try git(arguments, in: path, env: env)
        guard r.succeeded else { throw TestFailure("git \(arguments.joined(separator: " ")) in \(path) failed (\(r.status)): \(r.stderr)") }
        return r.stdout
    }

    func rev(_ revision: String, in path: String) throws -> String {
        try must(["rev-parse", revision], in: path).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Commits one file in the repository at `path`.
    @discardableResult
    func commit(_ file: String, _ text: String, in path: String) throws -> String {
        try text.write(toFile: path + "/" + file, atomically: true, encoding: .utf8)
        try must(["add", file], in: path)
        try must(["commit", "-q", "-m", "edit \(file)"], in: path)
        return try rev("HEAD", in: path)
    }
}

/// One moto server (AnvcsTestSupport's MotoProcess, signatures checked) for the S3 tests,
/// with the buckets they use: three versioned, one without versioning.
enum SharedMoto {
    static let server: Result<MotoProcess, TestFailure> = {
        do {
            return .success(try MotoProcess(authenticated: true, buckets: ["repo-a+versioned", "repo-b+versioned", "repo-c+versioned", "repo-plain"]))
        } catch let failure as TestFailure {
            return .failure(failure)
        } catch {
            return .failure(TestFailure("moto: \(error)"))
        }
    }()
}

extension MotoProcess {
    func environment(wrongSecret: Bool = false) -> [String: String] {
        ["AWS_ACCESS_KEY_ID": accessKeyId, "AWS_SECRET_ACCESS_KEY": wrongSecret ? "wrong" + secretAccessKey : secretAccessKey,
         "AWS_REGION": "us-east-1"]
    }
}
