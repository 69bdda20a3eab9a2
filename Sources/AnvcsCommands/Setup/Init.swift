import AnvcsArtifacts
import AnvcsGit
import AnvcsProvenance
import ArgumentParser
import Foundation

/// `git anvcs init`: set a repository up (hooks, config, ai-vcs.config.yaml), or undo it.
struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Install ANVCS's hooks and settings in this repository (or remove them with --uninstall).")

    @Flag(help: "Restore every hook and setting that init changed.")
    var uninstall = false

    @Flag(inversion: .prefixedNo, help: "Add AI-Agent:/AI-Model: trailers to commit messages (default: provenance.trailers).")
    var trailers: Bool?

    @Flag(inversion: .prefixedNo, help: "Merge Python, JS/TS, JSON, YAML and Swift files with ANVCS's syntax-aware driver (writes .gitattributes).")
    var mergeDriver: Bool?

    @Flag(name: .shortAndLong, help: "Print nothing but errors.")
    var quiet = false

    func run() throws {
        let context = Context()
        let repository = try context.repository()
        let setup = try RepositorySetup(repository: repository)
        var changes: [String]
        if uninstall {
            changes = try setup.uninstall() + setMergeDriver(false, repository: repository)
            if !quiet { print(changes.isEmpty ? "ANVCS was not installed here; nothing to do." : "Removed ANVCS from \(repository.workingDirectory ?? repository.gitDirectory):") }
        } else {
            let settings = context.settings(for: repository)
            context.reportProblems(settings)
            let remotes = (try? repository.config().entries(withPrefix: "remote."))?
                .compactMap { entry -> String? in
                    let parts = entry.key.split(separator: ".")
                    return parts.count == 3 && parts[2] == "url" ? String(parts[1]) : nil
                } ?? []
            let options = RepositorySetup.Options(trailers: trailers ?? (setup.trailersEnabled || settings.bool("provenance.trailers")), remotes: remotes)
            changes = try setup.install(templates: try context.hookTemplatesDirectory(), options: options)
                + syncTrackedPatterns(settings.list("blobs.track"), root: repository.workingDirectory)
            if let mergeDriver { changes += try setMergeDriver(mergeDriver, repository: repository) }
            if !quiet { print(changes.isEmpty ? "ANVCS is already set up here; nothing changed." : "Set up ANVCS in \(repository.workingDirectory ?? ""):") }
        }
        if !quiet { for change in changes { print("  \(change)") } }
    }

    /// Registers (or removes) the merge driver in git config and its `.gitattributes` lines.
    func setMergeDriver(_ on: Bool, repository: Repository) throws -> [String] {
        guard let root = repository.workingDirectory else { return [] }
        let config = try repository.config(level: .local)
        if on {
            try config.set("merge.anvcs.name", "ANVCS syntax-aware merge")
            try config.set("merge.anvcs.driver", "git anvcs merge-driver %O %A %B %L %P")
        } else {
            try config.unset("merge.anvcs.name")
            try config.unset("merge.anvcs.driver")
        }
        var file = GitAttributesFile(path: root + ".gitattributes")
        guard file.setMergeDriver(on) else { return [] }
        try file.save()
        return [on ? "merging \(GitAttributesFile.mergePatterns.joined(separator: " ")) with the syntax-aware driver (.gitattributes)"
                   : "removed the syntax-aware merge driver"]
    }

    /// `blobs.track` in the config file becomes `.gitattributes` lines (added, never removed here).
    func syncTrackedPatterns(_ patterns: [String], root: String?) throws -> [String] {
        guard let root, !patterns.isEmpty else { return [] }
        var file = GitAttributesFile(path: root + ".gitattributes")
        var changes: [String] = []
        for p in patterns {
            do {
                if try file.track(p, takeOver: false) { changes.append("tracking \"\(p)\" as artifacts (.gitattributes)") }
            } catch {
                Terminal.warning(error.description)
            }
        }
        if !changes.isEmpty { try file.save() }
        return changes
    }
}
