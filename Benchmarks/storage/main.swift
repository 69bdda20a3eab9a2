// anvcs-storage-benchmark: one storage operation per run, timed, so run.sh can measure each
// one's peak memory with /usr/bin/time and set it beside `aws s3 cp` and `sha256sum`.
//
//   anvcs-storage-benchmark upload ENDPOINT BUCKET KEY FILE
//   anvcs-storage-benchmark download ENDPOINT BUCKET KEY VERSION SHA256 DEST
//   anvcs-storage-benchmark hash FILE
//
// Credentials come from the environment (the standard AWS chain). Prints one JSON line.
import AnvcsStorage
import Foundation

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("anvcs-storage-benchmark: \(message)\n".utf8))
    exit(1)
}

func store(endpoint: String, bucket: String) throws -> S3VersionedBlobStore {
    let environment = ProcessInfo.processInfo.environment
    let settings = try StorageSettings(lookup: { key in
        switch key {
        case "storage.mode": return "s3"
        case "adapters.s3.bucket": return bucket
        case "adapters.s3.endpoint_url": return endpoint
        case "adapters.s3.addressing_style": return "path"
        default: return environment["ANVCS_" + key.uppercased().replacingOccurrences(of: ".", with: "_")]
        }
    }, defaultLocalPath: "/nonexistent", environment: environment)
    guard let s3 = try BlobStoreFactory.make(settings) as? S3VersionedBlobStore else { fail("not an S3 store") }
    return s3
}

let arguments = Array(CommandLine.arguments.dropFirst())
let started = Date()
do {
    switch arguments.first {
    case "upload" where arguments.count == 5:
        let pin = try store(endpoint: arguments[1], bucket: arguments[2]).upload(localPath: arguments[4], key: arguments[3])
        let seconds = Date().timeIntervalSince(started)
        print(#"{"seconds": \#(seconds), "versionId": "\#(pin.versionId)", "sha256": "\#(pin.sha256)", "size": \#(pin.size)}"#)
    case "download" where arguments.count == 7:
        try store(endpoint: arguments[1], bucket: arguments[2])
            .download(key: arguments[3], versionId: arguments[4], to: arguments[6], expectedSHA256: arguments[5])
        print(#"{"seconds": \#(Date().timeIntervalSince(started))}"#)
    case "hash" where arguments.count == 2:
        let digest = try ContentDigest.hashFile(at: arguments[1])
        print(#"{"seconds": \#(Date().timeIntervalSince(started)), "sha256": "\#(digest.sha256)", "size": \#(digest.size)}"#)
    default:
        fail("usage: upload ENDPOINT BUCKET KEY FILE | download ENDPOINT BUCKET KEY VERSION SHA256 DEST | hash FILE")
    }
} catch {
    fail("\(error)")
}
