// git-remote-anvcs: git runs `git-remote-anvcs <remote> <url>` for `anvcs::<url>` remotes
// (gitremote-helpers(7)). stdout carries only the protocol; everything else goes to stderr.
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

do {
    let location = try RemoteLocation.parse(url, isGitRepository: isGitRepository)
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
