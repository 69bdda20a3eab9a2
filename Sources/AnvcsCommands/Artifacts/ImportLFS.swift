import AnvcsArtifacts
import ArgumentParser
import Foundation

/// `git anvcs import-lfs`: move a work tree from git-lfs to ANVCS. LFS patterns in
/// `.gitattributes` become ANVCS patterns; each LFS pointer file whose object is present gets its
/// verified bytes into the artifact cache and is staged again (as an ANVCS pointer).
struct ImportLFS: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "import-lfs",
        abstract: "Convert git-lfs patterns, pointers and local objects into ANVCS artifacts (staged, ready to commit).")

    @Argument(help: "Limit the conversion to these pathspecs.")
    var paths: [String] = []

    func run() throws {
        let context = Context()
        let repository = try context.repository()
        let services = ArtifactServices(context: context, repository: repository)
        guard let root = services.workTree else { throw Failure("a bare repository has no work tree to convert") }
        var attributes = GitAttributesFile(path: root + ".gitattributes")
        let lfsPatterns = attributes.lines.compactMap { line -> String? in
            let parts = line.split(separator: " ")
            guard parts.count > 1, !line.hasPrefix("#"), parts.contains("filter=lfs") else { return nil }
            return String(parts[0]).replacingOccurrences(of: "[[:space:]]", with: " ")
        }
        for pattern in lfsPatterns {
            _ = try attributes.track(pattern, takeOver: true)
            Terminal.note("\"\(pattern)\": moved from git-lfs to ANVCS")
        }
        if !lfsPatterns.isEmpty { try attributes.save() }
        let listed = try services.git.run(["ls-files", "-z", "--"] + paths).split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        let report = try LFSImport(workTree: root, commonDirectory: repository.commonDirectory, cache: services.cache,
                                   keyScheme: services.keyScheme).convert(listed)
        let staged = report.converted.map(\.path) + (lfsPatterns.isEmpty ? [] : [".gitattributes"])
        if !staged.isEmpty {
            // Run without git-lfs's filter: the paths are ANVCS's now.
            _ = try services.git.run(["-c", "filter.lfs.required=false", "-c", "filter.lfs.clean=", "-c", "filter.lfs.process=",
                                      "add", "--"] + staged)
        }
        for (path, pointer) in report.converted { print("\(path)  sha256 \(pointer.sha256.prefix(12))…  \(pointer.size) bytes") }
        Terminal.note("converted \(report.converted.count) LFS file(s); commit them to pin them in the ANVCS store")
        if !report.missing.isEmpty {
            for path in report.missing { Terminal.error("\(path): its LFS object is not in .git/lfs/objects; run 'git lfs fetch' first, it stays an LFS pointer") }
            throw ExitCode(1)
        }
    }
}
