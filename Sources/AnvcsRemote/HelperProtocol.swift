import AnvcsGit

/// Options git sets with `option <name> <value>` (gitremote-helpers(7)).
public struct HelperOptions: Sendable {
    public var verbosity = 1
    public var progress = false
    public var dryRun = false
    public var atomic = false
    public var force = false
    public var cloning = false
    /// git asks (on clone) whether the fetched pack is self-contained and connected, so it
    /// can skip its own `rev-list --objects` walk over everything received.
    public var checkConnectivity = false
    public init() {}
}

/// A ref as `list` reports it.
public struct ListedRefs: Sendable {
    public var refs: [(name: String, id: ObjectID)] = []
    /// The ref HEAD points at, reported as `@<ref> HEAD`.
    public var head: String?
    public init(refs: [(name: String, id: ObjectID)] = [], head: String? = nil) {
        self.refs = refs
        self.head = head
    }
}

/// One `push [+]<src>:<dst>` line. A nil source deletes the destination.
public struct PushCommand: Sendable, Equatable {
    public var source: String?
    public var destination: String
    public var force: Bool
    public init(source: String?, destination: String, force: Bool) {
        self.source = source
        self.destination = destination
        self.force = force
    }
}

/// The answer for one pushed ref: `ok <dst>` or `error <dst> <why>`.
public enum PushOutcome: Sendable, Equatable {
    case ok(ref: String, forced: Bool)
    case rejected(ref: String, reason: String)

    public var ref: String {
        switch self {
        case .ok(let ref, _), .rejected(let ref, _): return ref
        }
    }
    var line: String {
        switch self {
        case .ok(let ref, let forced): return forced ? "ok \(ref) forced update" : "ok \(ref)"
        case .rejected(let ref, let reason): return "error \(ref) \(reason)"
        }
    }
}

/// What a fetch tells git besides the objects: `lock <file>` for each `.keep` file that
/// guards a new pack until git's refs point into it (git removes them), and
/// `connectivity-ok` when the one new pack was verified self-contained and connected.
public struct FetchReport: Sendable, Equatable {
    public var lockFiles: [String] = []
    public var connectivityOK = false
    public init(lockFiles: [String] = [], connectivityOK: Bool = false) {
        self.lockFiles = lockFiles
        self.connectivityOK = connectivityOK
    }
    var lines: String {
        lockFiles.map { "lock \($0)\n" }.joined() + (connectivityOK ? "connectivity-ok\n" : "")
    }
}

/// Where refs and objects of one remote live; the protocol loop below drives it.
public protocol RemoteBackend: AnyObject {
    func list(forPush: Bool, options: HelperOptions) throws -> ListedRefs
    /// Brings the objects of `wants` (and what they reach) into the local repository.
    func fetch(_ wants: [(id: ObjectID, name: String)], options: HelperOptions) throws -> FetchReport
    /// Answers every command, in order; the same count and refs as `commands`.
    func push(_ commands: [PushCommand], options: HelperOptions) throws -> [PushOutcome]
}

/// git's remote helper protocol as a loop over lines: `capabilities`, `list`, `option`,
/// batches of `fetch` and of `push` ended by a blank line. Only protocol goes to `write`.
public struct HelperSession {
    public let backend: any RemoteBackend
    public private(set) var options = HelperOptions()

    public init(backend: any RemoteBackend) { self.backend = backend }

    public static let capabilities = ["fetch", "push", "option", "check-connectivity"]

    /// Runs until git closes our input (or sends an empty line outside a batch).
    /// `write` receives whole responses; the caller flushes after each.
    public mutating func run(readLine: () -> String?, write: (String) -> Void) throws {
        while let line = readLine() {
            if line.isEmpty { return }
            let (command, argument) = split(line)
            switch command {
            case "capabilities":
                write(Self.capabilities.map { $0 + "\n" }.joined() + "\n")
            case "list":
                let listed = try backend.list(forPush: argument == "for-push", options: options)
                var out = ""
                for ref in listed.refs { out += "\(ref.id.hex) \(ref.name)\n" }
                if let head = listed.head, listed.refs.contains(where: { $0.name == head }) { out += "@\(head) HEAD\n" }
                write(out + "\n")
            case "option":
                write(setOption(argument) + "\n")
            case "fetch":
                var wants: [(id: ObjectID, name: String)] = []
                var current: String? = line
                while let l = current, !l.isEmpty {
                    let (c, a) = split(l)
                    guard c == "fetch" else { throw RemoteError.protocolViolation(line: l, reason: "expected fetch in a fetch batch") }
                    let parts = a.split(separator: " ", maxSplits: 1)
                    guard parts.count == 2, let id = ObjectID(hex: parts[0]) else {
                        throw RemoteError.protocolViolation(line: l, reason: "expected 'fetch <sha1> <name>'")
                    }
                    wants.append((id, String(parts[1])))
                    current = readLine()
                }
                let report = try backend.fetch(wants, options: options)
                write(report.lines + "\n")
            case "push":
                var commands: [PushCommand] = []
                var current: String? = line
                while let l = current, !l.isEmpty {
                    let (c, a) = split(l)
                    guard c == "push" else { throw RemoteError.protocolViolation(line: l, reason: "expected push in a push batch") }
                    commands.append(try Self.parsePush(a, line: l))
                    current = readLine()
                }
                let outcomes = try backend.push(commands, options: options)
                write(outcomes.map { $0.line + "\n" }.joined() + "\n")
            default:
                throw RemoteError.protocolViolation(line: line, reason: "unknown command '\(command)'")
            }
        }
    }

    /// The parse of one push line (for tests of the protocol's edge cases).
    public static func parsePushForTesting(_ spec: String) throws(RemoteError) -> PushCommand { try parsePush(spec, line: "push " + spec) }

    static func parsePush(_ spec: String, line: String) throws(RemoteError) -> PushCommand {
        var spec = Substring(spec)
        let force = spec.hasPrefix("+")
        if force { spec = spec.dropFirst() }
        guard let colon = spec.lastIndex(of: ":") else {
            throw .protocolViolation(line: line, reason: "expected 'push [+]<src>:<dst>'")
        }
        let source = String(spec[..<colon])
        return PushCommand(source: source.isEmpty ? nil : source, destination: String(spec[spec.index(after: colon)...]), force: force)
    }

    private mutating func setOption(_ argument: String) -> String {
        let (name, value) = split(argument)
        let flag = value == "true"
        switch name {
        case "verbosity":
            guard let level = Int(value) else { return "error verbosity needs a number" }
            options.verbosity = level
        case "progress": options.progress = flag
        case "dry-run": options.dryRun = flag
        case "atomic": options.atomic = flag
        case "force": options.force = flag
        case "cloning": options.cloning = flag
        case "check-connectivity": options.checkConnectivity = flag
        default: return "unsupported"
        }
        return "ok"
    }

    private func split(_ line: String) -> (String, String) {
        guard let space = line.firstIndex(of: " ") else { return (line, "") }
        return (String(line[..<space]), String(line[line.index(after: space)...]))
    }
}
