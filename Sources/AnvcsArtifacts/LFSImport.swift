import Foundation

/// A git-lfs pointer file (https://github.com/git-lfs/git-lfs/blob/main/docs/spec.md):
/// `version https://git-lfs.github.com/spec/v1`, `oid sha256:<hex>`, `size <n>`, sorted keys.
public struct LFSPointer: Sendable, Equatable {
    public let sha256: String
    public let size: UInt64

    public static func parse(_ bytes: some Collection<UInt8>) -> LFSPointer? {
        guard bytes.count <= 1024, let text = String(validating: Array(bytes), as: UTF8.self), text.hasSuffix("\n") else { return nil }
        let lines = text.dropLast().split(separator: "\n")
        guard lines.first?.hasPrefix("version https://git-lfs.github.com/spec/") == true else { return nil }
        var oid: String?, size: UInt64?
        for line in lines.dropFirst() {
            if line.hasPrefix("oid sha256:") { oid = String(line.dropFirst(11)) }
            if line.hasPrefix("size ") { size = UInt64(line.dropFirst(5)) }
        }
        guard let oid, oid.utf8.count == 64, oid.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }), let size else { return nil }
        return LFSPointer(sha256: oid, size: size)
    }
}

/// Moves a work tree from git-lfs to ANVCS (`git anvcs import-lfs`): each LFS pointer file whose
/// object is in `.git/lfs/objects` gets its bytes into the ANVCS cache (verified) and back into
/// the work tree, where `git add` makes it an ANVCS pointer. The LFS objects stay where they are.
public struct LFSImport {
    public struct Report: Sendable {
        public var converted: [(path: String, pointer: ArtifactPointer)] = []
        public var missing: [String] = []
    }

    let workTree: String
    let lfsObjects: String
    let cache: ContentCache
    let keyScheme: String

    public init(workTree: String, commonDirectory: String, cache: ContentCache, keyScheme: String) {
        self.workTree = workTree.hasSuffix("/") ? workTree : workTree + "/"
        lfsObjects = (commonDirectory.hasSuffix("/") ? commonDirectory : commonDirectory + "/") + "lfs/objects"
        self.cache = cache
        self.keyScheme = keyScheme
    }

    /// Converts the listed work tree files that are LFS pointers (others are left alone).
    public func convert(_ paths: [String]) throws(ArtifactError) -> Report {
        var report = Report()
        let hydrator = Hydrator(workTree: workTree, cache: cache, fetcher: nil)
        for path in paths {
            var st = stat()
            guard lstat(workTree + path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, st.st_size <= 1024,
                  let data = FileManager.default.contents(atPath: workTree + path), let lfs = LFSPointer.parse(data) else { continue }
            let object = "\(lfsObjects)/\(lfs.sha256.prefix(2))/\(lfs.sha256.dropFirst(2).prefix(2))/\(lfs.sha256)"
            guard FileManager.default.fileExists(atPath: object) else {
                report.missing.append(path)
                continue
            }
            if !cache.contains(lfs.sha256) {
                let temporary = try cache.temporaryPath("lfs")
                do { try FileManager.default.copyItem(atPath: object, toPath: temporary) } catch {
                    throw .io("cannot copy \(object): \(error.localizedDescription)")
                }
                try cache.adopt(file: temporary, sha256: lfs.sha256, size: lfs.size, path: path)
            }
            let pointer = try ArtifactPointer(sha256: lfs.sha256, size: lfs.size,
                                              key: ArtifactKey.make(path: path, sha256: lfs.sha256, scheme: keyScheme))
            // The work tree file becomes the bytes; the clean filter turns them into this pointer.
            try AtomicPointerFile.write(pointer, at: workTree + path)
            try hydrator.write(pointer, to: path)
            report.converted.append((path, pointer))
        }
        return report
    }
}

/// Writes a pointer file in place (temporary file + rename), used before hydrating it.
enum AtomicPointerFile {
    static func write(_ pointer: ArtifactPointer, at path: String) throws(ArtifactError) {
        let temporary = path + ".anvcs-\(UInt64.random(in: 0...UInt64.max))"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(pointer.text.utf8)) else {
            throw .io("cannot write \(temporary)")
        }
        guard rename(temporary, path) == 0 else {
            unlink(temporary)
            throw .io("cannot replace \(path): \(String(cString: strerror(errno)))")
        }
    }
}
