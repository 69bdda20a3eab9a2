import AnvcsArtifacts
import ArgumentParser
import Foundation

/// `git anvcs retry-uploads`: drain the durable upload queue now, retrying failures with backoff.
struct RetryUploads: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "retry-uploads",
        abstract: "Upload queued artifacts now, retrying failures with exponential backoff.")

    @Option(help: "Rounds of attempts before giving up (failures stay queued).")
    var attempts = 3
    @Option(help: "Seconds to wait after the first failed round; doubled each round.")
    var initialDelay = 1.0

    func run() throws {
        let context = Context()
        let repository = try context.repository()
        let services = ArtifactServices(context: context, repository: repository)
        let queue = try services.queue()
        var delay = initialDelay
        var uploaded = 0, reused = 0
        var failed: [(upload: QueuedUpload, reason: String)] = []
        for round in 1...max(1, attempts) {
            let outcome = try services.uploadQueued(queue: queue, all: true)
            uploaded += outcome.uploaded.count
            reused += outcome.reused.count
            failed = outcome.failed
            if failed.isEmpty { break }
            if round < attempts {
                Terminal.note("\(failed.count) upload(s) failed; retrying in \(delay) s")
                Thread.sleep(forTimeInterval: delay)
                delay *= 2
            }
        }
        // Uploads that reached only a hybrid store's fallback are owed to its primary.
        let hybrid = try services.drainHybridQueue()
        print("uploaded \(uploaded), already stored \(reused), still queued \(try queue.pending().count)"
              + (hybrid.sent + hybrid.stillQueued > 0 ? "; hybrid primary: sent \(hybrid.sent), still owed \(hybrid.stillQueued)" : ""))
        if hybrid.stillQueued > 0 {
            Terminal.note("\(hybrid.stillQueued) upload(s) are on the fallback store only; the primary is still failing")
        }
        guard failed.isEmpty else {
            for f in failed { Terminal.error("\(f.upload.path) (sha256 \(f.upload.sha256.prefix(12))…): \(f.reason)") }
            throw Failure("\(failed.count) artifact upload(s) failed; they stay queued", hint: "check the store settings (storage.*, adapters.*) and run 'git anvcs retry-uploads' again")
        }
    }
}
