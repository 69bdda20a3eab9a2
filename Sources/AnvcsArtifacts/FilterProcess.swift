import Foundation

/// git's long-running filter (gitattributes(5), "Long Running Filter Process"), version 2.
///
/// clean: the content streams once through a hash into the cache; git gets the pointer.
/// A file that already is a pointer passes through; with `keepSmallerThan`, small files stay
/// in git as they are. smudge: a pointer becomes the cached bytes (verified), after asking
/// `fetch` to bring missing ones; an artifact that cannot be had leaves the pointer in the work
/// tree and is reported on stderr, never replaced by something else. Content that is not a
/// pointer passes through unchanged.
///
/// git writes a whole request before reading the reply, so each request is read to its end
/// before answering (content that must be echoed is spooled to a temporary file, never held
/// whole in memory).
public final class FilterProcess {
    public struct Settings: Sendable {
        public var keyScheme: String
        public var keepSmallerThan: UInt64
        /// Lazy: smudge gives bytes only when they are already cached; others stay pointers
        /// (no network during checkout) until `git anvcs hydrate`.
        public var lazy: Bool
        /// Fetches running at once while git waits on delayed paths.
        public var concurrency: Int
        /// Artifacts of at least this many bytes checked out into the work tree are not poured
        /// through git (which holds a whole filtered file in memory and copies it twice): git gets
        /// the pointer, and `afterCheckout` writes the bytes once git is done. 0: never.
        public var writeAfterCheckoutFrom: UInt64
        public init(keyScheme: String = "path", keepSmallerThan: UInt64 = 0, lazy: Bool = false, concurrency: Int = 8,
                    writeAfterCheckoutFrom: UInt64 = 0) {
            self.keyScheme = keyScheme
            self.keepSmallerThan = keepSmallerThan
            self.lazy = lazy
            self.concurrency = max(1, concurrency)
            self.writeAfterCheckoutFrom = writeAfterCheckoutFrom
        }
    }

    /// Brings the bytes of `pointer` into the cache (from a blob store); throws why it cannot.
    /// Called from several threads at once when git lets the filter delay.
    public typealias Fetch = @Sendable (_ pointer: ArtifactPointer, _ path: String) throws(ArtifactError) -> Void

    let reader: PacketReader
    let writer: PacketWriter
    let cache: ContentCache
    let settings: Settings
    let fetch: Fetch?
    let report: (String) -> Void
    /// Artifacts cleaned in this session (for upload queues): (path, pointer).
    public private(set) var cleaned: [(String, ArtifactPointer)] = []
    /// Delay (gitattributes(5), "Delay"): paths answered `status=delayed`, fetched in the background.
    var delayAllowed = false
    /// Whether git took the delay capability. git offers `can-delay=1` only where it writes the
    /// work tree (checkout, clone, reset, switch; never for `git archive` or `cat-file --filters`),
    /// which is what makes writing an artifact after git safe.
    var delayNegotiated = false
    /// Paths answered with their pointer, to be written by `afterCheckout` (in order, unique).
    public private(set) var writtenAfterCheckout: [String] = []
    /// Called with each path as it is deferred (the command records it for the post-checkout hook).
    public var onWriteAfterCheckout: ((String) -> Void)?
    /// Writes the deferred artifacts when git closes the pipe (git waits for this process to
    /// exit, so the work tree is complete when git returns). nil: nothing is deferred.
    public var afterCheckout: (([String]) -> Void)?
    var delayed: [String: ArtifactPointer] = [:]
    let fetches = DelayedFetches()
    /// The pointer staged in the index at a path, if any: what a clean of that path most likely
    /// produces again (git re-cleans racily clean files), so the content is compared with the
    /// cached entry instead of being written a second time. A hint only: the hash decides.
    public var stagedPointer: ((String) -> ArtifactPointer?)?
    /// Below this size the comparison is not worth the index lookup.
    static let compareThreshold: UInt64 = 1 << 20

    public init(input: Int32, output: Int32, cache: ContentCache, settings: Settings, fetch: Fetch?, report: @escaping (String) -> Void) {
        reader = PacketReader(fd: input)
        writer = PacketWriter(fd: output)
        self.cache = cache
        self.settings = settings
        self.fetch = fetch
        self.report = report
    }

    /// Runs the handshake and then serves requests until git closes the pipe.
    public func run() throws(ArtifactError) {
        try handshake()
        while let request = try reader.readList() {
            let fields = Dictionary(request, uniquingKeysWith: { _, b in b })
            let command = fields["command"] ?? ""
            let path = fields["pathname"] ?? ""
            switch command {
            case "clean": try clean(path: path)
            case "smudge": try smudge(path: path, canDelay: fields["can-delay"] == "1")
            case "list_available_blobs": try listAvailableBlobs()
            default:
                try drainContent()
                try writer.writeText("status=error")
                try writer.writeFlush()
            }
        }
        if !writtenAfterCheckout.isEmpty { afterCheckout?(writtenAfterCheckout) }
    }

    func handshake() throws(ArtifactError) {
        guard let welcome = try reader.readList(), welcome.first?.0 == "git-filter-client" else {
            throw .protocolError("expected git-filter-client")
        }
        guard welcome.contains(where: { $0 == ("version", "2") }) else { throw .protocolError("git does not offer filter protocol version 2") }
        try writer.writeText("git-filter-server")
        try writer.writeText("version=2")
        try writer.writeFlush()
        guard let capabilities = try reader.readList() else { throw .protocolError("no capabilities") }
        let offered = Set(capabilities.filter { $0.0 == "capability" }.map(\.1))
        delayAllowed = offered.contains("delay") && fetch != nil && !settings.lazy
        delayNegotiated = offered.contains("delay") && (delayAllowed || (settings.writeAfterCheckoutFrom > 0 && afterCheckout != nil))
        for c in ["clean", "smudge"] + (delayNegotiated ? ["delay"] : []) where offered.contains(c) { try writer.writeText("capability=\(c)") }
        try writer.writeFlush()
    }

    /// Reads content packets up to the flush; returns up to `limit` bytes and whether the
    /// content ended within them. The rest goes to `overflow`.
    func readContent(prefixLimit: Int, overflow: (ArraySlice<UInt8>) throws(ArtifactError) -> Void) throws(ArtifactError) -> (prefix: [UInt8], complete: Bool) {
        var prefix: [UInt8] = []
        var spilled = false
        while true {
            guard let p = try reader.next() else { throw .protocolError("input ended inside content") }
            guard case .data(let bytes) = p else { return (prefix, !spilled) }
            if !spilled && prefix.count + bytes.count <= prefixLimit {
                prefix.append(contentsOf: bytes)
            } else {
                if !spilled {
                    spilled = true
                    try overflow(prefix[...])
                    prefix.removeAll()
                }
                try overflow(bytes[...])
            }
        }
    }

    func drainContent() throws(ArtifactError) {
        while let p = try reader.next(), p != .flush {}
    }

    func respond(status: String, content: (() throws(ArtifactError) -> Void)? = nil) throws(ArtifactError) {
        try writer.writeText("status=\(status)")
        try writer.writeFlush()
        guard let content else { return }
        try content()
        try writer.writeFlush()
        try writer.writeFlush()  // empty trailing list: the status stays
    }

    // MARK: clean

    func clean(path: String) throws(ArtifactError) {
        let smallLimit = max(ArtifactPointer.maxLength, Int(min(settings.keepSmallerThan, 1 << 20)))
        var ingest: ContentCache.Ingest?
        var failure: ArtifactError?
        let (prefix, complete) = try readContent(prefixLimit: smallLimit) { [self] (chunk) throws(ArtifactError) in
            guard failure == nil else { return }
            do throws(ArtifactError) {
                if ingest == nil {
                    ingest = try cache.ingest()
                    if let staged = stagedPointer?(path), staged.size >= FilterProcess.compareThreshold, cache.contains(staged.sha256) {
                        ingest!.compare(with: staged.sha256)
                    }
                }
                try ingest!.append(chunk)
            } catch { failure = error }
        }
        if let failure {
            report("anvcs: cannot clean \(path): \(failure)")
            try respond(status: "error")
            return
        }
        if complete {
            // Already a pointer, or small enough to stay in git as it is.
            if ArtifactPointer.parse(prefix) != nil || UInt64(prefix.count) < settings.keepSmallerThan {
                try respond(status: "success") { [self] () throws(ArtifactError) in try writer.write(prefix) }
                return
            }
            do {
                let i = try cache.ingest()
                try i.append(prefix)
                ingest = i
            } catch {
                report("anvcs: cannot clean \(path): \(error)")
                try respond(status: "error")
                return
            }
        }
        do {
            guard let ingest else { throw ArtifactError.io("nothing was written") }
            let size = ingest.size
            let sha = try ingest.finish()
            let pointer = try ArtifactPointer(sha256: sha, size: size, key: ArtifactKey.make(path: path, sha256: sha, scheme: settings.keyScheme))
            cleaned.append((path, pointer))
            try respond(status: "success") { [self] () throws(ArtifactError) in try writer.write(Array(pointer.text.utf8)) }
        } catch {
            report("anvcs: cannot clean \(path): \(error)")
            try respond(status: "error")
        }
    }

    // MARK: smudge

    func smudge(path: String, canDelay: Bool) throws(ArtifactError) {
        // Content that is not a pointer is echoed; past the prefix it is spooled to disk.
        var spool: ContentCache.Ingest?
        var failure: ArtifactError?
        let (prefix, complete) = try readContent(prefixLimit: ArtifactPointer.maxLength) { [self] (chunk) throws(ArtifactError) in
            guard failure == nil else { return }
            do throws(ArtifactError) {
                if spool == nil { spool = try cache.ingest() }
                try spool!.append(chunk)
            } catch { failure = error }
        }
        if let failure {
            report("anvcs: cannot smudge \(path): \(failure)")
            try respond(status: "error")
            return
        }
        // The second request for a delayed path comes with empty content: answer from the fetch.
        if let pointer = delayed.removeValue(forKey: path) {
            if let failure = fetches.failure(path) {
                report("anvcs: \(failure)")
                return try respond(status: "success") { [self] () throws(ArtifactError) in try writer.write(Array(pointer.text.utf8)) }
            }
            return try answer(pointer, path: path, intoWorkTree: true)
        }
        guard complete, let pointer = ArtifactPointer.parse(prefix) else {
            if let spool {
                // Ordinary (or corrupt-pointer) content: hand it back byte for byte.
                let size = spool.size
                let sha = try spool.finish()
                try respond(status: "success") { [self] () throws(ArtifactError) in
                    try cache.read(sha, size: size, path: path) { [self] (chunk) throws(ArtifactError) in try writer.write(chunk) }
                }
            } else {
                try respond(status: "success") { [self] () throws(ArtifactError) in try writer.write(prefix) }
            }
            return
        }
        if !cache.contains(pointer.sha256) {
            if settings.lazy { return try respond(status: "success") { [self] () throws(ArtifactError) in try writer.write(prefix) } }
            if canDelay && delayAllowed, let fetch {
                delayed[path] = pointer
                fetches.start(path: path, limit: settings.concurrency) { () throws(ArtifactError) in try fetch(pointer, path) }
                try writer.writeText("status=delayed")
                try writer.writeFlush()
                return
            }
            if let fetch {
                do { try fetch(pointer, path) } catch {
                    report("anvcs: \(error)")
                    return try respond(status: "success") { [self] () throws(ArtifactError) in try writer.write(prefix) }
                }
            }
        }
        try answer(pointer, path: path, intoWorkTree: canDelay && delayNegotiated)
    }

    /// Answers a smudge with the cached bytes of `pointer`, verified, or with the pointer itself
    /// (also when the bytes are written after the checkout, see `writeAfterCheckoutFrom`).
    func answer(_ pointer: ArtifactPointer, path: String, intoWorkTree: Bool) throws(ArtifactError) {
        let prefix = Array(pointer.text.utf8)
        guard cache.contains(pointer.sha256) else {
            report("anvcs: \(ArtifactError.missing(sha256: pointer.sha256, path: path))")
            try respond(status: "success") { [self] () throws(ArtifactError) in try writer.write(prefix) }
            return
        }
        // Verify before answering, so a corrupt cache entry becomes "pointer kept", not bad bytes.
        do {
            try cache.verify(pointer.sha256, size: pointer.size, path: path)
        } catch {
            report("anvcs: \(error)")
            try respond(status: "success") { [self] () throws(ArtifactError) in try writer.write(prefix) }
            return
        }
        if intoWorkTree, afterCheckout != nil, settings.writeAfterCheckoutFrom > 0, pointer.size >= settings.writeAfterCheckoutFrom {
            if let known = writtenAfterCheckout.firstIndex(of: path) { writtenAfterCheckout.remove(at: known) }
            writtenAfterCheckout.append(path)
            onWriteAfterCheckout?(path)
            try respond(status: "success") { [self] () throws(ArtifactError) in try writer.write(prefix) }
            return
        }
        try respond(status: "success") { [self] () throws(ArtifactError) in
            try cache.stream(pointer.sha256) { [self] (chunk) throws(ArtifactError) in try writer.write(chunk) }
        }
    }

    /// `list_available_blobs`: waits until some delayed fetch has finished, then names the paths
    /// ready (done or failed: a failed one is answered with its pointer). An empty list tells git
    /// that nothing is left.
    func listAvailableBlobs() throws(ArtifactError) {
        let ready = fetches.waitForFinished(among: Set(delayed.keys))
        for path in ready.sorted() { try writer.writeText("pathname=\(path)") }
        try writer.writeFlush()
        try writer.writeText("status=success")
        try writer.writeFlush()
    }
}

/// Background fetches for delayed smudges: at most `limit` worker threads take work in order.
final class DelayedFetches: @unchecked Sendable {
    let condition = NSCondition()
    var waiting: [(path: String, work: @Sendable () throws(ArtifactError) -> Void)] = []
    var workers = 0
    var finished: Set<String> = []
    var failures: [String: String] = [:]

    func start(path: String, limit: Int, _ work: @escaping @Sendable () throws(ArtifactError) -> Void) {
        condition.lock()
        waiting.append((path, work))
        let spawn = workers < limit
        if spawn { workers += 1 }
        condition.unlock()
        if spawn { Thread.detachNewThread { [self] in self.workLoop() } }
    }

    func workLoop() {
        while true {
            condition.lock()
            guard !waiting.isEmpty else {
                workers -= 1
                condition.unlock()
                return
            }
            let next = waiting.removeFirst()
            condition.unlock()
            var failure: String?
            do { try next.work() } catch { failure = error.description }
            condition.lock()
            finished.insert(next.path)
            if let failure { failures[next.path] = failure }
            condition.broadcast()
            condition.unlock()
        }
    }

    /// The paths of `waiting` whose fetch finished, waiting for at least one when any is left.
    func waitForFinished(among pending: Set<String>) -> Set<String> {
        condition.lock()
        defer { condition.unlock() }
        while !pending.isEmpty && finished.isDisjoint(with: pending) { condition.wait() }
        let ready = finished.intersection(pending)
        finished.subtract(ready)
        return ready
    }

    func failure(_ path: String) -> String? {
        condition.lock()
        defer { condition.unlock() }
        return failures.removeValue(forKey: path)
    }
}
