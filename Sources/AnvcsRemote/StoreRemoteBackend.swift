import AnvcsGit
import AnvcsProvenance
import Foundation
import Synchronization

/// `anvcs::file:///dir` and `anvcs::s3://bucket/prefix`: the whole repository as immutable,
/// content-named packs plus one refs manifest replaced only by compare-and-swap.
///
/// Push: check every ref against the manifest (fast-forward unless forced), pack only the
/// objects the remote's refs do not reach, upload the pack, then swap the manifest in. When the
/// swap loses to another pusher, everything is checked again on the new manifest, so no
/// update is ever lost and no ref names an object that is not in a listed pack.
/// Fetch: download the listed packs this repository has not seen, verify each with libgit2's
/// indexer in a staging directory, and only then move them into `objects/pack`.
public final class StoreRemoteBackend: RemoteBackend {
    let context: HelperContext
    let store: any ObjectStore
    private var cached: (manifest: RefsManifest, version: String?)?
    /// How many manifest swaps a push tries before giving up.
    public var maxAttempts = 400

    static let notesRef = ProvenanceNote.notesRef

    public init(context: HelperContext, store: any ObjectStore) {
        self.context = context
        self.store = store
    }

    /// The manifest (an empty one when the remote has none yet) and its version.
    public func load() throws(RemoteError) -> (manifest: RefsManifest, version: String?) {
        guard let (bytes, version) = try store.readManifest() else { return (RefsManifest(), nil) }
        let manifest = try RefsManifest.decode(bytes, location: store.location)
        cached = (manifest, version)
        return (manifest, version)
    }

    public func list(forPush: Bool, options: HelperOptions) throws -> ListedRefs {
        let (manifest, _) = try load()
        var listed = ListedRefs(head: manifest.head)
        for (name, value) in manifest.refs.sorted(by: { $0.key < $1.key }) where name != Self.notesRef {
            listed.refs.append((name, ObjectID(hex: value)!))
        }
        return listed
    }

    // MARK: fetch

    public func fetch(_ wants: [(id: ObjectID, name: String)], options: HelperOptions) throws -> FetchReport {
        let repository = try context.repository()
        let manifest = try cached?.manifest ?? load().manifest
        var needed = wants.map(\.id)
        if let notes = manifest.ref(Self.notesRef) { needed.append(notes) }
        var report = FetchReport()
        if try needed.contains(where: { try !repository.hasObject($0) }) {
            // A remote of one pack holds its whole history in it (every push packs what the
            // refs before it did not reach; gc packs the union), so on a clone that pack is
            // indexed with the connectivity check git would otherwise run itself afterwards.
            let proveConnected = options.checkConnectivity && manifest.packs.count == 1
            let fetched = try downloadPacks(of: manifest, into: repository, verbosity: options.verbosity,
                                            lockLonePack: true, requireConnected: proveConnected)
            if fetched.count == 1 { report.lockFiles = ["\(repository.packDirectory)/pack-\(fetched[0]).keep"] }
            report.connectivityOK = proveConnected && fetched.count == 1
        }
        for want in wants where try !repository.hasObject(want.id) {
            // git only removes the locks of a fetch that succeeded.
            for lock in report.lockFiles { unlink(lock) }
            throw RemoteError.invalidManifest(location: store.location, reason: "\(want.name) names \(want.id.hex), which no listed pack holds")
        }
        try mergeRemoteNotes(manifest, repository: repository)
        try ArtifactHooks(context: context).afterFetch(wants.map(\.id), repository: repository)
        return report
    }

    /// Downloads and verifies every listed pack this repository has not indexed yet; they
    /// reach `objects/pack` only when all of them passed the indexer. With `lockLonePack`, a
    /// single new pack gets a `.keep` file first (git's lock: no repack drops it before the refs
    /// point into it; git deletes the file named in the fetch report). git takes one lock per
    /// fetch from a helper (a second only gets "also locked" and would stay forever), so
    /// several new packs are not locked. Returns the new packs' names.
    @discardableResult
    func downloadPacks(of manifest: RefsManifest, into repository: Repository, verbosity: Int,
                       lockLonePack: Bool = false, requireConnected: Bool = false) throws -> [String] {
        let record = FetchedPacks(gitDirectory: repository.commonDirectory, store: store.location)
        let seen = record.names()
        let todo = manifest.packs.filter {
            !seen.contains($0.name) && !FileManager.default.fileExists(atPath: repository.packDirectory + "/pack-\($0.name).pack")
        }
        guard !todo.isEmpty else { return [] }
        let staging = repository.commonDirectory + "anvcs/incoming-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: staging) }
        let store = self.store
        let failures = Mutex<[Int: RemoteError]>([:])
        let started = Date()
        DispatchQueue.concurrentPerform(iterations: min(4, todo.count)) { worker in
            var index = worker
            while index < todo.count {
                let pack = todo[index]
                do throws(RemoteError) {
                    try Self.fetchPack(pack.name, from: store, into: staging, requireConnected: requireConnected)
                } catch {
                    failures.withLock { $0[index] = error }
                    return
                }
                index += min(4, todo.count)
            }
        }
        if let first = failures.withLock({ $0.sorted { $0.key < $1.key }.first?.value }) { throw first }
        // Packs before indexes: git only looks at a pack once its .idx exists.
        for pack in todo {
            if lockLonePack && todo.count == 1 {
                let path = "\(repository.packDirectory)/pack-\(pack.name).keep"
                let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
                guard fd >= 0 else { throw RemoteError.fileSystem(operation: "create", path: path, errno: errno) }
                let text = Array("anvcs fetch from \(store.location)\n".utf8)
                _ = text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                close(fd)
            }
            for suffix in [".pack", ".idx"] {
                let from = "\(staging)/pack-\(pack.name)\(suffix)", to = "\(repository.packDirectory)/pack-\(pack.name)\(suffix)"
                if rename(from, to) != 0 { throw RemoteError.fileSystem(operation: "rename", path: to, errno: errno) }
            }
        }
        record.add(todo.map(\.name))
        try repository.refreshObjects()
        if verbosity > 1 {
            context.log("anvcs: fetched \(todo.count) pack(s) from \(store.location) in \(String(format: "%.2f", Date().timeIntervalSince(started))) s")
        }
        return todo.map(\.name)
    }

    /// Streams one pack from the store into libgit2's indexer, so indexing runs while the rest
    /// is still arriving and a pack of any size stays out of memory. The indexer checks the
    /// pack's trailing checksum against its content, and the name must be that checksum.
    static func fetchPack(_ name: String, from store: any ObjectStore, into directory: String,
                          requireConnected: Bool = false) throws(RemoteError) {
        var indexer: PackIndexer?
        func failed(_ error: GitError) -> RemoteError {
            .corruptPack(name: name, location: store.location, detail: error.message)
        }
        let found = try store.stream(RefsManifest.packKey(name), restart: { () throws(RemoteError) in
            // A retried transfer starts over: the new indexer's temporary files replace the old one's.
            indexer = nil
            do throws(GitError) { indexer = try PackIndexer(directory: directory, label: "pack-\(name)", requireConnected: requireConnected) } catch {
                throw failed(error)
            }
        }, consume: { (piece: UnsafeRawBufferPointer) throws(RemoteError) in
            do throws(GitError) { try indexer?.append(piece) } catch { throw failed(error) }
        })
        guard found, let indexer else { throw .missingPack(name: name, location: store.location) }
        let indexed: IndexedPack
        do throws(GitError) { indexed = try indexer.commit() } catch { throw failed(error) }
        guard indexed.name == name else {
            throw .corruptPack(name: name, location: store.location, detail: "it indexes as \(indexed.name)")
        }
    }

    /// Packs what `tips` reach beyond `known` into a temporary file under `.git/anvcs/` and
    /// uploads it under its content name; nil when there is nothing to pack. The file is
    /// removed whatever happens, and an upload that fails leaves at most an unlisted pack.
    static func uploadPack(tips: [ObjectID], known: [ObjectID], repository: Repository,
                           store: any ObjectStore) throws -> RefsManifest.Pack? {
        let directory = repository.commonDirectory + "anvcs"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        removeAbandonedOutgoingPacks(in: directory)
        let path = directory + "/outgoing-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).pack"
        defer { unlink(path) }
        let pack = try repository.writePack(tips: tips, known: known, to: path)
        guard pack.objectCount > 0 else { return nil }
        try store.put(RefsManifest.packKey(pack.name), file: pack.path)
        return .init(name: pack.name, size: pack.size, objects: pack.objectCount, created: Int64(Date().timeIntervalSince1970))
    }

    /// A push killed while it wrote or uploaded its pack leaves `outgoing-<pid>-<n>.pack`; once
    /// that pid is gone the file is nobody's (a reused pid only delays its removal).
    static func removeAbandonedOutgoingPacks(in directory: String) {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where name.hasPrefix("outgoing-") {
            let fields = name.split(separator: "-")
            guard fields.count == 3, let pid = pid_t(fields[1]), pid != getpid() else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { unlink(directory + "/" + name) }
        }
    }

    private func mergeRemoteNotes(_ manifest: RefsManifest, repository: Repository) throws {
        guard let remote = manifest.ref(Self.notesRef), try repository.hasObject(remote) else { return }
        let tracking = context.notesTrackingRef
        let current = try repository.referenceTarget(tracking)
        if current != remote { try repository.updateReference(tracking, to: remote, expected: current, message: "anvcs: notes of \(context.remoteName)") }
        let outcome = try NotesSync.merge(from: tracking, into: ProvenanceStore(repository: repository), now: Int64(Date().timeIntervalSince1970))
        if case .merged(let added, let merged) = outcome {
            context.debug("notes: \(added) added, \(merged) merged from \(context.remoteName)")
        }
    }

    // MARK: push

    public func push(_ commands: [PushCommand], options: HelperOptions) throws -> [PushOutcome] {
        let repository = try context.repository()
        var sources: [ObjectID?] = []
        var early: [Int: PushOutcome] = [:]
        for (index, command) in commands.enumerated() {
            guard command.destination.hasPrefix("refs/"), Repository.isValidReferenceName(command.destination) else {
                early[index] = .rejected(ref: command.destination, reason: "invalid ref name")
                sources.append(nil)
                continue
            }
            guard let source = command.source else { sources.append(nil); continue }
            if let id = ObjectID(hex: source) {
                sources.append(id)
            } else if let id = try repository.referenceTarget(source) {
                sources.append(id)
            } else {
                early[index] = .rejected(ref: command.destination, reason: "src refspec \(source) does not match any")
                sources.append(nil)
            }
        }
        if !options.dryRun {
            let updates = commands.enumerated().compactMap { index, command -> ArtifactHooks.Update? in
                guard early[index] == nil, let id = sources[index] else { return nil }
                return .init(localRef: command.source ?? "", localID: id, remoteRef: command.destination,
                             remoteID: cached?.manifest.ref(command.destination))
            }
            do { try ArtifactHooks(context: context).beforePush(updates, repository: repository) } catch {
                context.log("error: \(error)")
                return commands.map { .rejected(ref: $0.destination, reason: "artifact upload failed") }
            }
        }
        let explicitNotes = commands.contains { $0.destination == Self.notesRef }
        var uploaded: [RefsManifest.Pack] = []
        var uploadedTips: [ObjectID] = []
        var delay = 0.005
        for attempt in 1...maxAttempts {
            let (manifest, version) = try (attempt == 1 ? cached : nil) ?? load()
            var outcomes: [PushOutcome] = []
            var refs = manifest.refs
            for (index, command) in commands.enumerated() {
                if let rejected = early[index] { outcomes.append(rejected); continue }
                let outcome = try evaluate(command, new: sources[index], old: manifest.ref(command.destination),
                                           forced: command.force || options.force, repository: repository)
                outcomes.append(outcome)
                if case .ok = outcome {
                    if let id = sources[index] { refs[command.destination] = id.hex } else { refs[command.destination] = nil }
                }
            }
            if options.atomic, outcomes.contains(where: { if case .rejected = $0 { return true } else { return false } }) {
                return outcomes.map { outcome in
                    if case .ok(let ref, _) = outcome { return .rejected(ref: ref, reason: "atomic push failed") }
                    return outcome
                }
            }
            guard refs != manifest.refs, !options.dryRun else { return outcomes }
            if !explicitNotes {
                do {
                    if let notes = try notesTip(manifest: manifest, repository: repository, verbosity: options.verbosity) {
                        refs[Self.notesRef] = notes.hex
                    }
                } catch {
                    context.log("warning: provenance notes are not pushed this time: \(error)")
                }
            }
            let tips = Set(refs.compactMap { name, value in manifest.refs[name] == value ? nil : ObjectID(hex: value) })
                .subtracting(uploadedTips)
            if !tips.isEmpty {
                let known = manifest.refs.values.compactMap { ObjectID(hex: $0) } + uploadedTips
                let pack = try Self.uploadPack(tips: Array(tips), known: known, repository: repository, store: store)
                if let pack { uploaded.append(pack) }
                uploadedTips += tips
            }
            var next = manifest
            next.refs = refs
            next.generation += 1
            let listed = Set(manifest.packs.map(\.name))
            next.packs += uploaded.filter { !listed.contains($0.name) }
            if next.head == nil {
                let heads = refs.keys.filter { $0.hasPrefix("refs/heads/") }.sorted()
                next.head = ["refs/heads/main", "refs/heads/master"].first { refs[$0] != nil } ?? heads.first
            }
            if version == nil { try store.checkSafety() }
            if try store.replaceManifest(with: next.encoded(), expected: version) {
                cached = nil
                FetchedPacks(gitDirectory: repository.commonDirectory, store: store.location).add(uploaded.map(\.name))
                return outcomes
            }
            context.debug("anvcs: refs manifest changed under us (attempt \(attempt)); checking again")
            usleep(UInt32(Double.random(in: 0...delay) * 1_000_000))
            delay = min(delay * 1.6, 0.5)
        }
        throw RemoteError.contention(location: store.location, attempts: maxAttempts)
    }

    /// git's rules for one ref: new refs and fast-forwards pass; anything else needs force;
    /// tags never move without force.
    private func evaluate(_ command: PushCommand, new: ObjectID?, old: ObjectID?, forced: Bool,
                          repository: Repository) throws -> PushOutcome {
        let ref = command.destination
        guard let new else {
            return old == nil ? .rejected(ref: ref, reason: "remote ref does not exist") : .ok(ref: ref, forced: false)
        }
        guard let old, old != new else { return .ok(ref: ref, forced: false) }
        if forced { return .ok(ref: ref, forced: true) }
        if ref.hasPrefix("refs/tags/") { return .rejected(ref: ref, reason: "already exists") }
        guard try repository.hasObject(old) else { return .rejected(ref: ref, reason: "fetch first") }
        guard let newCommit = try? repository.resolveCommit(new.hex), let oldCommit = try? repository.resolveCommit(old.hex),
              newCommit == new, oldCommit == old else {
            return .rejected(ref: ref, reason: "needs force")
        }
        return try repository.isAncestor(old, of: new) ? .ok(ref: ref, forced: false) : .rejected(ref: ref, reason: "non-fast-forward")
    }

    /// The notes commit to publish: ours when it contains the remote's, else ours merged with
    /// theirs field by field (downloading their packs first); nil when there is nothing to send.
    private func notesTip(manifest: RefsManifest, repository: Repository, verbosity: Int) throws -> ObjectID? {
        guard let local = try repository.referenceTarget(Self.notesRef) else { return nil }
        guard let remote = manifest.ref(Self.notesRef) else { return local }
        if remote == local { return nil }
        if try !repository.hasObject(remote) {
            try downloadPacks(of: manifest, into: repository, verbosity: verbosity)
        }
        if try repository.isAncestor(remote, of: local) { return local }
        if try repository.isAncestor(local, of: remote) { return nil }
        try mergeRemoteNotes(manifest, repository: repository)
        return try repository.referenceTarget(Self.notesRef)
    }
}

/// The packs of one store this repository has already indexed (`anvcs/remote-packs/<key>`),
/// so a fetch downloads only the new ones.
struct FetchedPacks {
    let path: String

    init(gitDirectory: String, store: String) {
        path = gitDirectory + "anvcs/remote-packs/" + StableHash.hex(of: store)
    }

    func names() -> Set<String> {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return Set(text.split(separator: "\n").map(String.init))
    }

    func add(_ names: [String]) {
        guard !names.isEmpty else { return }
        try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        defer { close(fd) }
        let text = Array(names.map { $0 + "\n" }.joined().utf8)
        _ = text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }
}
