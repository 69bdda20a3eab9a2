import AnvcsGit
import Foundation

/// Why `git anvcs init` could not set a repository up.
public struct SetupError: Error, CustomStringConvertible, Sendable {
    public let reason: String
    public var description: String { reason }
}

/// What `git anvcs init` changes in a repository, and how `--uninstall` puts it back.
///
/// Every change is recorded in `<state>/install.json` with the value it replaced, so that
/// uninstall restores exactly what was there and running init twice changes nothing.
public struct RepositorySetup {
    public static let hookNames = ["prepare-commit-msg", "post-commit", "post-rewrite", "post-checkout", "post-merge", "pre-push"]
    static let marker = "installed by `git anvcs init`"
    static let excludeLine = ".ai/meta/"

    public let repository: Repository
    public let stateDirectory: String

    public init(repository: Repository) throws(SetupError) {
        guard !repository.isBare else {
            throw SetupError(reason: "\(repository.gitDirectory) is a bare repository; ANVCS records provenance where commits are made, so run 'git anvcs init' in a clone with a work tree")
        }
        self.repository = repository
        stateDirectory = ProvenanceStore(repository: repository).stateDirectory
    }

    /// The directory git runs hooks from: `core.hooksPath` (relative to the work tree) or `<common>/hooks`.
    public func hooksDirectory() throws -> String {
        if let configured = try repository.config().string("core.hooksPath"), !configured.isEmpty {
            var path = (configured as NSString).expandingTildeInPath
            if !path.hasPrefix("/") { path = (repository.workingDirectory ?? repository.commonDirectory) + path }
            return (path as NSString).standardizingPath
        }
        return ((repository.commonDirectory + "hooks") as NSString).standardizingPath
    }

    // MARK: record

    struct Record {
        var hooksDirectory: String = ""
        /// hook name -> whether a previous hook was moved aside to NAME.pre-anvcs.
        var hooks: [String: Bool] = [:]
        /// config key -> the values it had before init touched it.
        var config: [String: [String]] = [:]
        /// Multi-valued keys where init added one value (key -> value added).
        var added: [String: [String]] = [:]
        var excludeAdded = false
        var configFileSHA256: String?

        var json: JSONValue {
            var o = JSONObject()
            o["hooks_directory"] = .string(hooksDirectory)
            o["hooks"] = .object(JSONObject(hooks.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.bool($0.value)) }))
            o["config"] = .object(JSONObject(config.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.array($0.value.map(JSONValue.string))) }))
            o["added"] = .object(JSONObject(added.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.array($0.value.map(JSONValue.string))) }))
            o["exclude_added"] = .bool(excludeAdded)
            if let s = configFileSHA256 { o["config_file_sha256"] = .string(s) }
            return .object(o)
        }

        init() {}
        init(json: JSONValue) {
            hooksDirectory = json["hooks_directory"]?.stringValue ?? ""
            for (k, v) in json["hooks"]?.objectValue ?? JSONObject() { hooks[k] = v.boolValue ?? false }
            for (k, v) in json["config"]?.objectValue ?? JSONObject() { config[k] = v.arrayValue?.compactMap(\.stringValue) ?? [] }
            for (k, v) in json["added"]?.objectValue ?? JSONObject() { added[k] = v.arrayValue?.compactMap(\.stringValue) ?? [] }
            excludeAdded = json["exclude_added"]?.boolValue ?? false
            configFileSHA256 = json["config_file_sha256"]?.stringValue
        }
    }

    var recordPath: String { stateDirectory + "/install.json" }

    func loadRecord() -> Record? {
        guard let data = FileManager.default.contents(atPath: recordPath),
              let json = try? JSONValue.parse(String(decoding: data, as: UTF8.self)) else { return nil }
        return Record(json: json)
    }

    // MARK: install

    /// Whether trailers were turned on by an earlier `init --trailers`.
    public var trailersEnabled: Bool { FileManager.default.fileExists(atPath: stateDirectory + "/trailers") }

    public struct Options: Sendable {
        public var trailers: Bool
        public var remotes: [String]
        public init(trailers: Bool = false, remotes: [String] = []) {
            self.trailers = trailers
            self.remotes = remotes
        }
    }

    /// Installs hooks, config, the exclude line and the config file. Returns what changed,
    /// one line per change (empty when the repository was already set up).
    public func install(templates: String, options: Options) throws -> [String] {
        var record = loadRecord() ?? Record()
        var changes: [String] = []
        let fm = FileManager.default
        let hooksDir = try hooksDirectory()
        if !record.hooksDirectory.isEmpty && record.hooksDirectory != hooksDir {
            throw SetupError(reason: "ANVCS hooks are installed in \(record.hooksDirectory) but git now runs hooks from \(hooksDir); run 'git anvcs init --uninstall' first")
        }
        record.hooksDirectory = hooksDir
        try fm.createDirectory(atPath: hooksDir, withIntermediateDirectories: true)
        for name in RepositorySetup.hookNames {
            // prepare-commit-msg has work only when trailers are on; anywhere else it would cost
            // every commit a shell start for nothing (a tenth of `git commit` on its own).
            if name == "prepare-commit-msg" && !options.trailers {
                if try removeHook(name, in: hooksDir) { changes.append("removed hook \(hooksDir)/\(name) (trailers are off)") }
                record.hooks[name] = nil
                continue
            }
            let templatePath = templates + "/" + name
            guard let template = fm.contents(atPath: templatePath) else {
                throw SetupError(reason: "hook template \(templatePath) is missing; reinstall ANVCS (./install.sh)")
            }
            let target = hooksDir + "/" + name
            let previous = target + ".pre-anvcs"
            if let existing = fm.contents(atPath: target) {
                if existing == template { record.hooks[name] = record.hooks[name] ?? fm.fileExists(atPath: previous); continue }
                if !String(decoding: existing, as: UTF8.self).contains(RepositorySetup.marker) {
                    guard !fm.fileExists(atPath: previous) else {
                        throw SetupError(reason: "both \(target) and \(previous) exist and neither is ANVCS's; move one away and run 'git anvcs init' again")
                    }
                    try fm.moveItem(atPath: target, toPath: previous)
                    record.hooks[name] = true
                    changes.append("kept your \(name) hook as \(name).pre-anvcs (it still runs)")
                }
            }
            try AtomicFile.write(template, to: target)
            chmod(target, 0o755)
            if record.hooks[name] == nil { record.hooks[name] = fm.fileExists(atPath: previous) }
            changes.append("installed hook \(target)")
        }

        let config = try repository.config(level: .local)
        func setOnce(_ key: String, _ value: String) throws {
            let current = try config.strings(key)
            if current.last == value { return }
            if record.config[key] == nil { record.config[key] = current }
            try config.set(key, value)
            changes.append("set \(key)=\(value)")
        }
        func addOnce(_ key: String, _ value: String) throws {
            let current = try config.strings(key)
            if current.contains(value) { return }
            try config.add(key, value)
            record.added[key, default: []].append(value)
            changes.append("added \(key)=\(value)")
        }
        try addOnce("notes.rewriteRef", ProvenanceNote.notesRef)
        try setOnce("notes.rewrite.amend", "true")
        try setOnce("notes.rewrite.rebase", "true")
        try addOnce("notes.displayRef", ProvenanceNote.notesRef)
        // Artifacts: the long-running filter and a diff driver that shows sha256 and size.
        try setOnce("filter.anvcs.process", "git anvcs filter-process")
        try setOnce("filter.anvcs.required", "true")
        try setOnce("diff.anvcs.textconv", "git anvcs artifact-textconv")
        try setOnce("diff.anvcs.binary", "true")
        // Pointer files merge by content identity (same sha256 is clean, else a readable conflict).
        try setOnce("merge.anvcs-artifact.name", "ANVCS artifact pointers")
        try setOnce("merge.anvcs-artifact.driver", "git anvcs artifact-merge-driver %O %A %B %P")
        for remote in options.remotes {
            try addOnce("remote.\(remote).fetch", "+\(ProvenanceNote.notesRef):refs/notes/anvcs-remotes/\(remote)")
        }

        // .ai/meta/ is a local mirror: ignored through info/exclude, which is never committed.
        let exclude = repository.commonDirectory + "info/exclude"
        let current = fm.contents(atPath: exclude).map { String(decoding: $0, as: UTF8.self) } ?? ""
        if !current.split(separator: "\n").contains(Substring(RepositorySetup.excludeLine)) {
            var text = current
            if !text.isEmpty && !text.hasSuffix("\n") { text += "\n" }
            text += "# added by git anvcs init\n\(RepositorySetup.excludeLine)\n"
            try AtomicFile.write(text, to: exclude)
            record.excludeAdded = true
            changes.append("ignored \(RepositorySetup.excludeLine) in info/exclude")
        }

        if let root = repository.workingDirectory {
            let path = root + "ai-vcs.config.yaml"
            if !fm.fileExists(atPath: path) {
                try AtomicFile.write(DefaultConfigFile.text, to: path)
                record.configFileSHA256 = sha256Hex(Array(DefaultConfigFile.text.utf8))
                changes.append("wrote a commented ai-vcs.config.yaml (commit it to share it)")
            }
        }

        try fm.createDirectory(atPath: stateDirectory + "/pending", withIntermediateDirectories: true)
        let trailersMarker = stateDirectory + "/trailers"
        if options.trailers, !fm.fileExists(atPath: trailersMarker) {
            try AtomicFile.write("provenance.trailers is on\n", to: trailersMarker)
            changes.append("enabled AI-Agent:/AI-Model: trailers")
        } else if !options.trailers, fm.fileExists(atPath: trailersMarker) {
            try fm.removeItem(atPath: trailersMarker)
            changes.append("disabled commit trailers")
        }
        try AtomicFile.write(record.json.serialized(pretty: true) + "\n", to: recordPath)
        return changes
    }

    /// Makes a plain `git fetch <remote>` bring the remote's notes into
    /// `refs/notes/anvcs-remotes/<remote>` (for remotes added after `init`). Recorded like
    /// every other change, so `--uninstall` removes it. Does nothing where ANVCS is not set up.
    public func ensureNotesFetch(remote: String) throws {
        guard var record = loadRecord() else { return }
        let key = "remote.\(remote).fetch"
        let value = "+\(ProvenanceNote.notesRef):refs/notes/anvcs-remotes/\(remote)"
        let config = try repository.config(level: .local)
        guard try config.string("remote.\(remote).url") != nil, !(try config.strings(key)).contains(value) else { return }
        try config.add(key, value)
        record.added[key, default: []].append(value)
        try AtomicFile.write(record.json.serialized(pretty: true) + "\n", to: recordPath)
    }

    /// Removes ANVCS's hook `name` and puts back the one it had moved aside. True if anything changed.
    func removeHook(_ name: String, in hooksDir: String) throws -> Bool {
        let fm = FileManager.default
        let target = hooksDir + "/" + name
        let previous = target + ".pre-anvcs"
        var changed = false
        if let data = fm.contents(atPath: target), String(decoding: data, as: UTF8.self).contains(RepositorySetup.marker) {
            try fm.removeItem(atPath: target)
            changed = true
        }
        if fm.fileExists(atPath: previous), !fm.fileExists(atPath: target) {
            try fm.moveItem(atPath: previous, toPath: target)
            changed = true
        }
        return changed
    }

    // MARK: uninstall

    /// Removes ANVCS's hooks (restoring the ones it moved aside) and restores every setting
    /// it changed. Notes and the index are left alone: they are data, not setup.
    public func uninstall() throws -> [String] {
        guard let record = loadRecord() else { return [] }
        let fm = FileManager.default
        var changes: [String] = []
        let hooksDir = record.hooksDirectory.isEmpty ? try hooksDirectory() : record.hooksDirectory
        for name in RepositorySetup.hookNames {
            if try removeHook(name, in: hooksDir) { changes.append("removed hook \(hooksDir)/\(name)") }
        }
        let config = try repository.config(level: .local)
        for (key, values) in record.added {
            for value in values { try config.unset(key, value: value) }
            changes.append("removed \(key) values added by init")
        }
        for (key, previous) in record.config {
            try config.unset(key)
            for value in previous { try config.add(key, value) }
            changes.append(previous.isEmpty ? "unset \(key)" : "restored \(key)")
        }
        if record.excludeAdded {
            let exclude = repository.commonDirectory + "info/exclude"
            if let data = fm.contents(atPath: exclude) {
                var lines = String(decoding: data, as: UTF8.self).components(separatedBy: "\n")
                lines.removeAll { $0 == "# added by git anvcs init" || $0 == RepositorySetup.excludeLine }
                try AtomicFile.write(lines.joined(separator: "\n"), to: exclude)
                changes.append("removed \(RepositorySetup.excludeLine) from info/exclude")
            }
        }
        if let sha = record.configFileSHA256, let root = repository.workingDirectory {
            let path = root + "ai-vcs.config.yaml"
            if let data = fm.contents(atPath: path), sha256Hex(Array(data)) == sha {
                try fm.removeItem(atPath: path)
                changes.append("removed the unedited ai-vcs.config.yaml")
            }
        }
        try? fm.removeItem(atPath: stateDirectory + "/trailers")
        try fm.removeItem(atPath: recordPath)
        return changes
    }
}
