// git-remote-anvcs: git runs `git-remote-anvcs <remote> <url>` for `anvcs::<url>` remotes
// (gitremote-helpers(7)). stdout carries only the protocol; everything else goes to stderr.
import AnvcsConfig
import AnvcsGit
import AnvcsRemote
import Foundation

func diagnostic(_ text: String) {
    FileHandle.standardError.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
}

// A child that exits before reading its stdin must not kill the helper; writes then fail with EPIPE.
signal(SIGPIPE, SIG_IGN)
let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    diagnostic("usage: git-remote-anvcs <remote> [<url>]\n(git runs this for remotes whose URL starts with anvcs::; see git-remote-anvcs(1))")
    exit(2)
}
let environment = ProcessInfo.processInfo.environment
let remoteName = arguments[1]
var url = arguments.count >= 3 ? arguments[2] : arguments[1]
if url.hasPrefix("anvcs::") { url = String(url.dropFirst("anvcs::".count)) }
let gitDirectory = environment["GIT_DIR"] ?? ".git"
let debugging = ["1", "true"].contains(environment["ANVCS_DEBUG"] ?? "") || environment["GIT_TRANSPORT_HELPER_DEBUG"] != nil

let context = HelperContext(
    remoteName: remoteName, url: url, gitDirectory: gitDirectory, environment: environment,
    log: { diagnostic($0) }, debug: { if debugging { diagnostic($0) } })

func isGitRepository(_ path: String) -> Bool {
    let fm = FileManager.default
    return fm.fileExists(atPath: path + "/.git") || (fm.fileExists(atPath: path + "/HEAD") && fm.fileExists(atPath: path + "/objects"))
}

func writeProtocol(_ text: String) {
    let bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeBytes { write(1, $0.baseAddress! + offset, $0.count - offset) }
        if n < 0 { if errno == EINTR { continue }; exit(128) }
        offset += n
    }
}

/// What the URL's query leaves out of an S3 location comes from the repository's settings
/// (`adapters.s3.endpoint_url`, `region`, `profile`: git config `anvcs.*`, ANVCS_* variables,
/// ai-vcs.config.yaml), so `anvcs::s3://bucket/prefix` works with the endpoint configured once.
func withConfiguredDefaults(_ location: RemoteLocation) -> RemoteLocation {
    guard case .s3(var s3) = location, let repository = try? Repository.open(gitDirectory) else { return location }
    let gitConfig = (try? repository.config().entries(withPrefix: "anvcs.")) ?? []
    let settings = SettingsLoader.load(repositoryRoot: repository.workingDirectory, gitConfig: gitConfig, environment: environment)
    s3.endpoint = s3.endpoint ?? settings.string("adapters.s3.endpoint_url")
    s3.region = s3.region ?? settings.string("adapters.s3.region")
    s3.profile = s3.profile ?? settings.string("adapters.s3.profile")
    return .s3(s3)
}

do {
    let location = withConfiguredDefaults(try RemoteLocation.parse(url, isGitRepository: isGitRepository))
    let backend: any RemoteBackend
    if case .git(let inner) = location {
        backend = GitRemoteBackend(context: context, innerURL: inner)
    } else {
        backend = StoreRemoteBackend(context: context, store: try ObjectStores.open(location, environment: environment)!)
    }
    var session = HelperSession(backend: backend)
    try session.run(readLine: { Swift.readLine(strippingNewline: true) }, write: writeProtocol)
} catch {
    diagnostic("fatal: anvcs: \(error)")
    exit(1)
}
