import AnvcsGit
import Foundation

/// Artifacts a checkout left as pointer files for ANVCS to write once git is done
/// (`FilterProcess.Settings.writeAfterCheckoutFrom`), listed in `<git dir>/anvcs/write-after-checkout`
/// (NUL-separated paths), so that whichever comes first writes them: the post-checkout hook, which
/// git runs after it wrote the index, or the filter process itself when git closes its pipe (git
/// waits for the filter to exit, so a clone without hooks still returns with the bytes in place).
///
/// Writing is hydration: only a file that still is the same pointer is replaced, through a
/// temporary file and a rename, and the index entry gets the new file's stat when git had recorded
/// the pointer file as up to date (`IndexStatRefresh`), so git never pipes the artifact back
/// through the clean filter to learn what it already knows.
public struct DeferredWrites {
    public let listPath: String
    let repository: Repository

    public init(repository: Repository) {
        self.repository = repository
        listPath = repository.gitDirectory + "anvcs/write-after-checkout"
    }

    /// Appends one path to the list (one `write` of an `O_APPEND` file: whole even when two
    /// filter processes of one work tree append at once).
    public func record(_ path: String) {
        let directory = (listPath as NSString).deletingLastPathComponent
        if mkdir(directory, 0o777) != 0 && errno != EEXIST {
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        let fd = open(listPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        defer { close(fd) }
        let bytes = Array(path.utf8) + [0]
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }

    /// The listed paths, each once, in the order they were listed.
    public func pending() -> [String] { Self.paths(in: listPath) }

    static func paths(in file: String) -> [String] {
        guard let data = FileManager.default.contents(atPath: file) else { return [] }
        var seen: Set<String> = []
        return data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }.filter { seen.insert($0).inserted }
    }

    /// Writes the listed artifacts (and `also`) that are still pointer files, then clears the list.
    /// The list is taken first (renamed away), so a path recorded meanwhile waits for the next run.
    public func complete(also: [String] = [], cache: ContentCache, concurrency: Int) -> Hydrator.Report? {
        guard let root = repository.workingDirectory else { return nil }
        let taken = listPath + ".\(getpid())"
        var paths: [String] = []
        if rename(listPath, taken) == 0 {
            paths = Self.paths(in: taken)
            unlink(taken)
        }
        var seen = Set(paths)
        paths += also.filter { seen.insert($0).inserted }
        guard !paths.isEmpty else { return nil }
        return Hydrator(workTree: root, cache: cache, fetcher: nil, concurrency: concurrency,
                        indexFile: repository.indexFile).hydrate(paths)
    }
}
