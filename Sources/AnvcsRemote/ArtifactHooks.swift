import AnvcsGit

/// The artifact side of a push or fetch, done by `git-anvcs` (the artifacts layer), so that a
/// remote helper never moves refs before the artifacts of the pushed commits are stored.
struct ArtifactHooks {
    let context: HelperContext

    /// One line per ref, as git's pre-push hook reads them:
    /// `<local ref> <local sha> <remote ref> <remote sha>`.
    struct Update {
        var localRef: String
        var localID: ObjectID?
        var remoteRef: String
        var remoteID: ObjectID?
    }

    static let zero = String(repeating: "0", count: 40)

    /// Uploads artifacts of the commits being pushed. Throws when the upload failed, so that
    /// no ref moves; a git-anvcs without the hook is skipped with a debug message. A repository
    /// where the artifact filter was never set up (`git anvcs init` registers
    /// `filter.anvcs.process`) has no artifacts of ours, so no process is started for it, as
    /// git-lfs does nothing on push where `git lfs install` never ran.
    func beforePush(_ updates: [Update], repository: Repository) throws(RemoteError) {
        guard !updates.isEmpty else { return }
        let filter = (try? repository.config().string("filter.anvcs.process")) ?? nil
        guard filter?.isEmpty == false else {
            context.debug("artifact upload skipped: filter.anvcs.process is not configured here")
            return
        }
        let input = updates.map {
            "\($0.localRef) \($0.localID?.hex ?? Self.zero) \($0.remoteRef) \($0.remoteID?.hex ?? Self.zero)\n"
        }.joined()
        try runGitAnvcs(["hook", "pre-push", context.remoteName, "anvcs::" + context.url], input: input, purpose: "artifact upload")
    }

    /// Hydrates artifacts of fetched commits when `artifacts.hydrate` is `eager`.
    func afterFetch(_ commits: [ObjectID], repository: Repository) throws(RemoteError) {
        guard !commits.isEmpty else { return }
        let mode = (try? repository.config().string("artifacts.hydrate")) ?? nil
        guard mode?.lowercased() == "eager" else { return }
        do {
            try runGitAnvcs(["hydrate", "--prefetch"] + commits.map(\.hex), input: nil, purpose: "artifact hydration")
        } catch {
            // A fetch has already succeeded; hydration is retried by checkout (lazy), so only warn.
            context.log("warning: \(error)")
        }
    }

    private func runGitAnvcs(_ arguments: [String], input: String?, purpose: String) throws(RemoteError) {
        let result: ChildProcess.Result
        do {
            result = try ChildProcess.run(["git-anvcs"] + arguments, context: context, input: input)
        } catch {
            context.debug("\(purpose) skipped: git-anvcs is not on PATH")
            return
        }
        if result.status == 0 { return }
        // 127: not found by env; 64: swift-argument-parser's usage error (a git-anvcs without this subcommand).
        if result.status == 127 || (result.status == 64 && result.stderr.contains("nexpected argument")) {
            context.debug("\(purpose) skipped: this git-anvcs has no '\(arguments.prefix(2).joined(separator: " "))'")
            return
        }
        throw .process(command: "git-anvcs " + arguments.prefix(3).joined(separator: " "), status: result.status, stderr: result.stderr)
    }
}
