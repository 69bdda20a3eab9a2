import AnvcsGit
import Foundation

/// Replaces pointer files in a work tree with their verified bytes (`git anvcs hydrate`).
///
/// Each file is written to a temporary name in its own directory and renamed over the pointer,
/// so a reader sees the pointer or the whole artifact, never a part (a full disk removes the
/// partial file and keeps the pointer). Nothing is written through a symbolic link: the artifact
/// path and every directory above it must be real, inside the work tree. Any failure keeps the
/// pointer and is reported.
public struct Hydrator: Sendable {
    public struct Report: Sendable {
        public var hydrated: [String] = []
        public var failed: [(path: String, reason: String)] = []
        /// Hydrated paths whose index entry now carries the new file's stat (git sees them clean
        /// without re-reading them); nil when no index was given.
        public var indexRefreshed: [String]?
        /// Why the index was not refreshed (another git process held it, ...), if it was not.
        public var indexProblem: String?
    }

    /// The work tree root, ending in `/`.
    let root: String
    let cache: ContentCache
    let fetcher: ArtifactFetcher?
    let concurrency: Int
    /// The index file of this work tree. When set, the entries of hydrated files get their new
    /// stat data (`IndexStatRefresh`), so that git does not pipe every hydrated artifact through
    /// the clean filter again only to find the pointer it already has.
    public var indexFile: String?

    public init(workTree: String, cache: ContentCache, fetcher: ArtifactFetcher?, concurrency: Int = 8, indexFile: String? = nil) {
        root = workTree.hasSuffix("/") ? workTree : workTree + "/"
        self.cache = cache
        self.fetcher = fetcher
        self.concurrency = max(1, concurrency)
        self.indexFile = indexFile
    }

    /// The pointer file at `path` (relative), or nil when the file is not one (or not a regular file).
    public func pointer(at path: String) -> ArtifactPointer? {
        pointerFile(at: path)?.pointer
    }

    /// The pointer at `path` with the file's bytes (their blob id is what the index names).
    func pointerFile(at path: String) -> (pointer: ArtifactPointer, bytes: [UInt8])? {
        var st = stat()
        guard lstat(root + path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, st.st_size <= ArtifactPointer.maxLength,
              let data = FileManager.default.contents(atPath: root + path) else { return nil }
        let bytes = Array(data)
        return ArtifactPointer.parse(bytes).map { ($0, bytes) }
    }

    /// Hydrates the given work tree paths that hold pointer files; fetches run `concurrency` at a time.
    public func hydrate(_ paths: [String]) -> Report {
        let work = paths.compactMap { p in pointer(at: p).map { (p, $0) } }
        let results = ResultBox(count: work.count)
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = concurrency
        for (index, (path, pointer)) in work.enumerated() {
            queue.addOperation { [self] in
                do throws(ArtifactError) {
                    if !cache.contains(pointer.sha256) {
                        guard let fetcher else { throw ArtifactError.missing(sha256: pointer.sha256, path: path) }
                        try fetcher.fetch(pointer, path: path)
                    }
                    results.set(index, .success(try write(pointer, to: path)))
                } catch {
                    results.set(index, .failure(error))
                }
            }
        }
        queue.waitUntilAllOperationsAreFinished()
        var report = Report()
        var replacements: [String: IndexStatRefresh.Replacement] = [:]
        for (index, (path, _)) in work.enumerated() {
            switch results.get(index) {
            case .success(let replacement):
                report.hydrated.append(path)
                replacements[path] = replacement
            case .failure(let error): report.failed.append((path, error.description))
            case nil: report.failed.append((path, "not hydrated"))
            }
        }
        if let indexFile, !replacements.isEmpty {
            do throws(GitError) {
                report.indexRefreshed = try IndexStatRefresh.apply(indexFile: indexFile, replacements)
            } catch {
                report.indexProblem = error.code == .locked ? error.message : error.description
            }
        }
        return report
    }

    /// Writes the cached bytes of `pointer` over the pointer file at `path`; returns the stat of
    /// the pointer file and of the artifact that replaced it, for the index.
    @discardableResult
    func write(_ pointer: ArtifactPointer, to path: String) throws(ArtifactError) -> IndexStatRefresh.Replacement {
        let directory = try safeDirectory(of: path)
        let target = root + path
        var st = stat()
        guard lstat(target, &st) == 0 else { throw .io("\(path): \(String(cString: strerror(errno)))") }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw .refused("\(path) is not a regular file (a symbolic link?); not written through it, the pointer stays") }
        // Still the same pointer? Someone may have edited the file since it was listed.
        guard let current = pointerFile(at: path), current.pointer == pointer else { throw .refused("\(path) changed while hydrating; left as it is") }
        let before = IndexStat(st)
        try cache.verify(pointer.sha256, size: pointer.size, path: path)
        let temporary = "\(directory)/.\((path as NSString).lastPathComponent).anvcs-\(UInt64.random(in: 0...UInt64.max))"
        let fd = open(temporary, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, mode_t(st.st_mode & 0o777))
        guard fd >= 0 else { throw .io("cannot create \(temporary): \(String(cString: strerror(errno)))") }
        var closed = false
        do throws(ArtifactError) {
            try copyCached(pointer, to: fd, path: path)
            closed = true
            guard close(fd) == 0 else { throw .io("cannot write \(path): \(String(cString: strerror(errno))); the pointer stays") }
            guard rename(temporary, target) == 0 else { throw .io("cannot replace \(path): \(String(cString: strerror(errno))); the pointer stays") }
        } catch {
            if !closed { close(fd) }
            unlink(temporary)
            throw error
        }
        var after = stat()
        guard lstat(target, &after) == 0 else { throw .io("\(path): \(String(cString: strerror(errno)))") }
        return .init(blob: ObjectID.blob(of: current.bytes), before: before, after: IndexStat(after), fileSize: pointer.size)
    }

    /// Copies the (verified) cache entry into `fd` inside the kernel (`sendfile`: no pass through
    /// this process's memory), or through a buffer where the file systems do not allow that.
    func copyCached(_ pointer: ArtifactPointer, to fd: Int32, path: String) throws(ArtifactError) {
        let source = cache.path(for: pointer.sha256)
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw .io("cannot read \(source): \(String(cString: strerror(errno)))") }
        defer { close(input) }
        var copied: UInt64 = 0
        while copied < pointer.size {
            let n = sendfile(fd, input, nil, Int(min(pointer.size - copied, 1 << 30)))
            if n > 0 { copied += UInt64(n); continue }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && copied == 0 && (errno == EINVAL || errno == ENOSYS) { break }
            if n == 0 { throw .corrupt(sha256: pointer.sha256, actual: "(\(copied) of \(pointer.size) bytes)", path: path) }
            throw .io("cannot write \(path): \(String(cString: strerror(errno))); the pointer stays")
        }
        if copied == pointer.size { return }
        try cache.stream(pointer.sha256) { (chunk) throws(ArtifactError) in
            if let code = chunk.withUnsafeBytes({ writeFully(fd, $0) }) {
                throw .io("cannot write \(path): \(String(cString: strerror(code))); the pointer stays")
            }
        }
    }

    /// The absolute directory of `path` after checking that it is inside the work tree and that
    /// no component on the way is a symbolic link.
    func safeDirectory(of path: String) throws(ArtifactError) -> String {
        guard !path.hasPrefix("/"), !path.isEmpty else { throw .refused("'\(path)' is not a path inside the work tree") }
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        var current = String(root.dropLast())
        for part in parts.dropLast() {
            guard !part.isEmpty, part != ".", part != ".." else { throw .refused("'\(path)' is not a plain path inside the work tree") }
            current += "/" + part
            var st = stat()
            guard lstat(current, &st) == 0 else { throw .io("\(current): \(String(cString: strerror(errno)))") }
            guard (st.st_mode & S_IFMT) == S_IFDIR else {
                throw .refused("\(path): '\(current)' is a symbolic link or not a directory; nothing is written through it, the pointer stays")
            }
        }
        guard let last = parts.last, !last.isEmpty, last != ".", last != ".." else { throw .refused("'\(path)' is not a file path") }
        return current
    }

    private final class ResultBox: @unchecked Sendable {
        let lock = NSLock()
        var values: [Result<IndexStatRefresh.Replacement, ArtifactError>?]
        init(count: Int) { values = Array(repeating: nil, count: count) }
        func set(_ i: Int, _ v: Result<IndexStatRefresh.Replacement, ArtifactError>) { lock.lock(); values[i] = v; lock.unlock() }
        func get(_ i: Int) -> Result<IndexStatRefresh.Replacement, ArtifactError>? { lock.lock(); defer { lock.unlock() }; return values[i] }
    }
}
