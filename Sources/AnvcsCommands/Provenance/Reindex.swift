import AnvcsProvenance
import ArgumentParser
import Foundation

/// `git anvcs reindex`: rebuild the local provenance index from git.
struct Reindex: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "reindex", abstract: "Rebuild the local provenance index (.git/anvcs/index.sqlite) from git.")

    @Flag(help: "Only bring the index up to date (what every query does first), and report the time.")
    var incremental = false

    func run() throws {
        let context = Context()
        let repository = try context.repository()
        let store = ProvenanceStore(repository: repository)
        context.settlePending(store)
        let start = Date()
        let index = try ProvenanceIndex(repository: repository, stateDirectory: store.stateDirectory)
        let report = incremental ? try index.sync() : try index.rebuild()
        Terminal.note(String(format: "indexed %d commits and %d notes in %.1f ms", report.commitsAdded, report.notesChanged, Date().timeIntervalSince(start) * 1000))
    }
}
