import AnvcsGit
#if canImport(Glibc)
import Glibc
#endif

// Indexes one pack file the way a fetch from a store does (PackIndexer, with the connectivity
// proof of a clone), into a scratch directory it removes; one run per process so hyperfine
// times it beside `git index-pack`. Benchmarks/pack/run.sh drives it.
//   anvcs-pack-benchmark [--pieces N] PACK DIRECTORY
/// One line on standard error (fd 2: the C `stderr` global is shared mutable state to Swift 6).
func complain(_ line: String) { _ = "\(line)\n".withCString { write(2, $0, strlen($0)) } }

var arguments = Array(CommandLine.arguments.dropFirst())
var pieces: Int?
if arguments.first == "--pieces", arguments.count >= 2 {
    pieces = Int(arguments[1])
    arguments.removeFirst(2)
}
guard arguments.count == 2 else {
    complain("usage: anvcs-pack-benchmark [--pieces N] PACK DIRECTORY")
    exit(2)
}
let (packPath, directory) = (arguments[0], arguments[1])
let fd = open(packPath, O_RDONLY)
guard fd >= 0 else {
    complain("anvcs-pack-benchmark: cannot open \(packPath): \(String(cString: strerror(errno)))")
    exit(1)
}
do throws(GitError) {
    let indexer = try PackIndexer(directory: directory, label: packPath, requireConnected: true, scanPieces: pieces)
    // Pieces of the size the store download hands over.
    let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 << 10, alignment: 16)
    defer { chunk.deallocate() }
    while true {
        let n = read(fd, chunk.baseAddress, chunk.count)
        if n < 0 { complain("anvcs-pack-benchmark: read failed"); exit(1) }
        if n == 0 { break }
        try indexer.append(UnsafeRawBufferPointer(rebasing: chunk[..<n]))
    }
    let indexed = try indexer.commit()
    // The scratch files go, so every run writes the same pack again.
    unlink("\(directory)/pack-\(indexed.name).pack")
    unlink("\(directory)/pack-\(indexed.name).idx")
    print("\(indexed.objectCount) objects, scanned in \(indexed.scanPieces) piece(s)")
} catch {
    complain("anvcs-pack-benchmark: \(error.message)")
    exit(1)
}
