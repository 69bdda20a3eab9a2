import AnvcsRemote
import ArgumentParser
import Foundation

/// `git anvcs remote`: maintenance of object-store remotes (`anvcs::file://`, `anvcs::s3://`).
struct RemoteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remote",
        abstract: "Maintain object-store remotes (anvcs::file:// and anvcs::s3:// URLs).",
        subcommands: [RemoteGC.self])
}

/// `git anvcs remote gc <remote>`: consolidate small packs, delete old ones after a grace period.
struct RemoteGC: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Consolidate an object-store remote's packs into one; delete replaced packs after a grace period.")

    @Argument(help: "A remote name whose URL is anvcs::file:// or anvcs::s3://, or such a URL.")
    var remote: String
    @Option(help: "Seconds a replaced or unlisted pack is kept for readers that may still need it.")
    var grace: Double = 3600
    @Flag(help: "Print the report as JSON.")
    var json = false

    func run() throws {
        let context = Context()
        let repository = try context.repository()
        var url = remote
        if !remote.contains("::") && !remote.contains("://") {
            guard let configured = try? repository.config().string("remote.\(remote).url") else {
                throw Failure("no remote named '\(remote)'", hint: "give a remote name or an anvcs:: URL")
            }
            url = configured
        }
        guard url.hasPrefix("anvcs::") else {
            throw Failure("\(url) is not an anvcs:: URL", hint: "gc works on anvcs::file:///dir and anvcs::s3://bucket/prefix remotes")
        }
        url = String(url.dropFirst("anvcs::".count))
        let location: RemoteLocation
        do {
            location = try RemoteLocation.parse(url) { path in
                FileManager.default.fileExists(atPath: path + "/HEAD") && FileManager.default.fileExists(atPath: path + "/objects")
            }
        } catch { throw Failure("\(error)") }
        guard let store = try ObjectStores.open(location, environment: context.environment) else {
            throw Failure("anvcs::\(url) wraps a git remote; run 'git gc' on that repository instead")
        }
        let helperContext = HelperContext(
            remoteName: remote, url: url, gitDirectory: repository.commonDirectory, environment: context.environment,
            log: { Terminal.note($0) }, debug: { _ in })
        let collector = StoreGarbageCollector(context: helperContext, store: store, grace: grace)
        let report: StoreGarbageCollector.Report
        do { report = try collector.run(repository: repository) } catch { throw Failure("gc of \(store.location) failed: \(error)") }
        if json {
            let object: [String: Any] = ["packs_before": report.packsBefore, "packs_after": report.packsAfter,
                                         "consolidated": report.consolidated ?? NSNull(), "retired": report.retired,
                                         "deleted": report.deleted]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print("\(store.location): \(report.packsBefore) pack(s) -> \(report.packsAfter); "
                  + (report.consolidated.map { "consolidated into \($0.prefix(12)), " } ?? "")
                  + "\(report.retired) retired, \(report.deleted.count) deleted (grace \(Int(grace)) s)")
        }
    }
}
