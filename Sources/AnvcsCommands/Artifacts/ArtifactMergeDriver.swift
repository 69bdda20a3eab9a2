import AnvcsArtifacts
import ArgumentParser
import Foundation

/// `git anvcs artifact-merge-driver %O %A %B %P`: git's merge driver for pointer files
/// (`merge=anvcs-artifact`). Writes the result to %A; exits 0 when clean, 1 on a conflict.
struct ArtifactMergeDriver: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "artifact-merge-driver",
        abstract: "git's merge driver for artifact pointer files (git runs it; see gitattributes(5)).", shouldDisplay: false)

    @Argument(help: "The common ancestor's version (%O).") var base: String
    @Argument(help: "Our version, overwritten with the result (%A).") var ours: String
    @Argument(help: "Their version (%B).") var theirs: String
    @Argument(help: "The path being merged (%P).") var path: String = ""

    func run() throws {
        func read(_ file: String) throws -> [UInt8] {
            guard let data = FileManager.default.contents(atPath: file) else { throw ExitCode(129) }
            return Array(data)
        }
        let outcome = ArtifactMerge.merge(base: try read(base), ours: try read(ours), theirs: try read(theirs), path: path.isEmpty ? ours : path)
        switch outcome {
        case .clean(let bytes):
            guard FileManager.default.createFile(atPath: ours, contents: Data(bytes)) else { throw ExitCode(129) }
        case .conflict(let bytes):
            guard FileManager.default.createFile(atPath: ours, contents: Data(bytes)) else { throw ExitCode(129) }
            Terminal.write(String(decoding: bytes.prefix(while: { $0 != 0x0a }), as: UTF8.self) + "\n")
            throw ExitCode(1)
        }
    }
}
