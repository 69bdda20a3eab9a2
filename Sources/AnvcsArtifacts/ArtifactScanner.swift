import AnvcsGit
import Foundation

/// An artifact as a commit holds it: the pointer file at `path`.
public struct ArtifactReference: Sendable, Equatable {
    public var commit: String
    public var path: String
    public var pointer: ArtifactPointer

    public init(commit: String, path: String, pointer: ArtifactPointer) {
        self.commit = commit
        self.path = path
        self.pointer = pointer
    }
}

/// Finds pointer files in commits. Given the repository, in this process through libgit2 (trees
/// compared by id, so the cost follows what changed; what pre-push runs on every push); else
/// with three git processes whatever the number of commits: `diff-tree --stdin` lists the blobs
/// each commit added or changed, `cat-file --batch-check` keeps those small enough to be
/// pointers, `cat-file --batch` reads them.
public struct ArtifactScanner {
    let git: GitRunner
    let repository: Repository?

    public init(git: GitRunner, repository: Repository? = nil) {
        self.git = git
        self.repository = repository
    }

    /// Artifacts each commit introduced: pointer files it added or changed against its parent
    /// (every pointer file of a root commit). A merge introduces only what differs from every
    /// parent (`-c`: a conflict resolved with new content); the rest comes from the commits merged.
    public func introduced(by commits: [String]) throws(ArtifactError) -> [ArtifactReference] {
        guard !commits.isEmpty else { return [] }
        if let repository { return try introducedInProcess(by: commits, repository: repository) }
        let output = try git.run(["diff-tree", "-r", "-z", "-c", "--root", "--no-renames", "--stdin"],
                                 input: Array(commits.joined(separator: "\n").utf8) + [0x0a])
        var changes: [(commit: String, path: String, blob: String)] = []
        var commit = ""
        var tokens = output.split(separator: 0, omittingEmptySubsequences: false).makeIterator()
        while let token = tokens.next() {
            guard let first = token.first else { continue }
            if first == UInt8(ascii: ":") {
                guard let pathBytes = tokens.next() else { break }
                // n colons for n parents, then n+1 modes, n+1 blobs and the status; the last mode and
                // blob are the commit's. Regular files only (no links, no submodules).
                let parents = token.prefix(while: { $0 == UInt8(ascii: ":") }).count
                let fields = String(decoding: token.dropFirst(parents), as: UTF8.self).split(separator: " ")
                guard fields.count == 2 * parents + 3 else { continue }
                let mode = fields[parents], blob = fields[2 * parents + 1]
                guard mode == "100644" || mode == "100755" else { continue }
                changes.append((commit, String(decoding: pathBytes, as: UTF8.self), String(blob)))
            } else {
                commit = String(decoding: token, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            }
        }
        let pointers = try readPointers(blobs: Array(Set(changes.map(\.blob))))
        return changes.compactMap { change in
            pointers[change.blob].map { ArtifactReference(commit: change.commit, path: change.path, pointer: $0) }
        }
    }

    private func introducedInProcess(by commits: [String], repository: Repository) throws(ArtifactError) -> [ArtifactReference] {
        var changes: [(commit: String, file: IntroducedFile)] = []
        var pointers: [ObjectID: ArtifactPointer?] = [:]
        var ids: [(String, ObjectID)] = []
        for commit in commits {
            guard let id = ObjectID(hex: commit) else { throw .io("'\(commit)' is not a commit id") }
            ids.append((commit, id))
        }
        do throws(GitError) {
            for (commit, id) in ids {
                for file in try repository.introducedFiles(commit: id) {
                    changes.append((commit, file))
                    if pointers[file.blob] == nil {
                        pointers[file.blob] = try repository.blob(file.blob, atMost: ArtifactPointer.maxLength).flatMap { ArtifactPointer.parse($0) }
                    }
                }
            }
        } catch {
            throw .io("cannot scan the pushed commits for artifacts: \(error)")
        }
        return changes.compactMap { change in
            pointers[change.file.blob].flatMap { $0 }.map { ArtifactReference(commit: change.commit, path: change.file.path, pointer: $0) }
        }
    }

    /// Every pointer file in the tree of `revision`.
    public func pointers(at revision: String) throws(ArtifactError) -> [ArtifactReference] {
        let output = try git.run(["ls-tree", "-r", "-z", "--full-tree", revision])
        var entries: [(path: String, blob: String)] = []
        for record in output.split(separator: 0) {
            guard let tab = record.firstIndex(of: 0x09) else { continue }
            let fields = String(decoding: record[..<tab], as: UTF8.self).split(separator: " ")
            guard fields.count == 3, fields[1] == "blob", fields[0] != "120000" else { continue }
            entries.append((String(decoding: record[(tab + 1)...], as: UTF8.self), String(fields[2])))
        }
        let pointers = try readPointers(blobs: Array(Set(entries.map(\.blob))))
        return entries.compactMap { e in pointers[e.blob].map { ArtifactReference(commit: revision, path: e.path, pointer: $0) } }
    }

    /// The blobs among `blobs` that are pointer files. `--buffer`: the input is known whole, so git
    /// need not flush after every object (a write and a wakeup each).
    func readPointers(blobs: [String]) throws(ArtifactError) -> [String: ArtifactPointer] {
        guard !blobs.isEmpty else { return [:] }
        let sizes = try git.text(["cat-file", "--buffer", "--batch-check=%(objectname) %(objectsize)"], input: blobs.joined(separator: "\n") + "\n")
        let small = sizes.split(separator: "\n").compactMap { line -> String? in
            let f = line.split(separator: " ")
            guard f.count == 2, let size = Int(f[1]), size <= ArtifactPointer.maxLength else { return nil }
            return String(f[0])
        }
        guard !small.isEmpty else { return [:] }
        let contents = try git.run(["cat-file", "--buffer", "--batch"], input: Array((small.joined(separator: "\n") + "\n").utf8))
        // Records: "<id> blob <size>\n<content>\n".
        var result: [String: ArtifactPointer] = [:]
        var i = 0
        while i < contents.count {
            guard let nl = contents[i...].firstIndex(of: 0x0a) else { break }
            let header = String(decoding: contents[i..<nl], as: UTF8.self).split(separator: " ")
            guard header.count == 3, let size = Int(header[2]) else { break }
            let start = nl + 1, end = start + size
            guard end <= contents.count else { break }
            if let pointer = ArtifactPointer.parse(contents[start..<end]) { result[String(header[0])] = pointer }
            i = end + 1
        }
        return result
    }
}
