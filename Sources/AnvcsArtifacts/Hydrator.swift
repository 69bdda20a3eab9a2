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
    }

    /// The work tree root, ending in `/`.
    let root: String
    let cache: ContentCache
    let fetcher: ArtifactFetcher?
    let concurrency: Int

    public init(workTree: String, cache: ContentCache, fetcher: ArtifactFetcher?, concurrency: Int = 8) {
        root = workTree.hasSuffix("/") ? workTree : workTree + "/"
        self.cache = cache
        self.fetcher = fetcher
        self.concurrency = max(1, concurrency)
    }

    /// The pointer file at `path` (relative), or nil when the file is not one (or not a regular file).
    public func pointer(at path: String) -> ArtifactPointer? {
        var st = stat()
        guard lstat(root + path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, st.st_size <= ArtifactPointer.maxLength,
              let data = FileManager.default.contents(atPath: root + path) else { return nil }
        return ArtifactPointer.parse(Array(data))
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
                    try write(pointer, to: path)
                    results.set(index, nil)
                } catch {
                    results.set(index, error.description)
                }
            }
        }
        queue.waitUntilAllOperationsAreFinished()
        var report = Report()
        for (index, (path, _)) in work.enumerated() {
            if let reason = results.get(index) { report.failed.append((path, reason)) } else { report.hydrated.append(path) }
        }
        return report
    }

    /// Writes the cached bytes of `pointer` over the pointer file at `path`.
    func write(_ pointer: ArtifactPointer, to path: String) throws(ArtifactError) {
        let directory = try safeDirectory(of: path)
        let target = root + path
        var st = stat()
        guard lstat(target, &st) == 0 else { throw .io("\(path): \(String(cString: strerror(errno)))") }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw .refused("\(path) is not a regular file (a symbolic link?); not written through it, the pointer stays") }
        // Still the same pointer? Someone may have edited the file since it was listed.
        guard self.pointer(at: path) == pointer else { throw .refused("\(path) changed while hydrating; left as it is") }
        let temporary = "\(directory)/.\((path as NSString).lastPathComponent).anvcs-\(UInt64.random(in: 0...UInt64.max))"
        let fd = open(temporary, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, mode_t(st.st_mode & 0o777))
        guard fd >= 0 else { throw .io("cannot create \(temporary): \(String(cString: strerror(errno)))") }
        var closed = false
        do throws(ArtifactError) {
            try cache.read(pointer.sha256, size: pointer.size, path: path) { (chunk) throws(ArtifactError) in
                var offset = chunk.startIndex
                while offset < chunk.endIndex {
                    let n = chunk[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw .io("cannot write \(path): \(String(cString: strerror(errno))); the pointer stays")
                    }
                    offset += n
                }
            }
            closed = true
            guard close(fd) == 0 else { throw .io("cannot write \(path): \(String(cString: strerror(errno))); the pointer stays") }
            guard rename(temporary, target) == 0 else { throw .io("cannot replace \(path): \(String(cString: strerror(errno))); the pointer stays") }
        } catch {
            if !closed { close(fd) }
            unlink(temporary)
            throw error
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
        var values: [String?]
        init(count: Int) { values = Array(repeating: nil, count: count) }
        func set(_ i: Int, _ v: String?) { lock.lock(); values[i] = v; lock.unlock() }
        func get(_ i: Int) -> String? { lock.lock(); defer { lock.unlock() }; return values[i] }
    }
}
