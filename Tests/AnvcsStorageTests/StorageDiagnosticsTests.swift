@testable import AnvcsStorage
import Foundation
import Testing

/// The probes of `git anvcs storage check`, against moto, a directory and a simulated Kubo RPC.
@Suite(.serialized)
struct StorageDiagnosticsTests {
    func settings(_ values: [String: String], environment: [String: String] = [:]) throws -> StorageSettings {
        try StorageSettings(lookup: { values[$0] }, defaultLocalPath: NSTemporaryDirectory() + "anvcs-diag-" + UUID().uuidString,
                            environment: environment)
    }

    func statuses(_ checks: [StorageCheck]) -> [String: StorageCheck.Status] {
        Dictionary(checks.map { ($0.name, $0.status) }, uniquingKeysWith: { first, _ in first })
    }

    func s3Values(_ server: MotoServer, bucket: String) -> [String: String] {
        ["storage.mode": "s3", "adapters.s3.bucket": bucket, "adapters.s3.endpoint_url": server.endpoint, "adapters.s3.prefix": "team"]
    }

    func credentials(_ server: MotoServer, secret: String? = nil) -> [String: String] {
        ["AWS_ACCESS_KEY_ID": server.credentials.accessKeyId,
         "AWS_SECRET_ACCESS_KEY": secret ?? server.credentials.secretAccessKey, "HOME": "/nonexistent"]
    }

    @Test func aVersionedBucketPassesEveryCheck() throws {
        let server = try MotoServer.sharedServer()
        let client = try server.client()
        let bucket = try server.makeVersionedBucket(client)
        let checks = StorageDiagnostics(settings: try settings(s3Values(server, bucket: bucket), environment: credentials(server))).run()
        let status = statuses(checks)
        #expect(checks.map(\.name) == ["config", "credentials", "proxy", "dns", "tls", "clock", "bucket", "versioning", "round-trip"])
        for name in ["config", "credentials", "proxy", "dns", "clock", "bucket", "versioning", "round-trip"] {
            #expect(status[name] == .ok, "\(name): \(checks.first { $0.name == name }?.summary ?? "")")
        }
        #expect(status["tls"] == .warning, "plain http is worth a warning")
        // The round trip cleans up after itself.
        #expect(try client.listObjectVersions(bucket: bucket, prefix: "team/.anvcs-check/").isEmpty)
    }

    @Test func missingVersioningWrongSecretAndMissingBucketFail() throws {
        let server = try MotoServer.sharedServer()
        let client = try server.client()
        let plain = "anvcs-plain-" + UUID().uuidString.lowercased().prefix(12)
        try client.createBucket(plain)
        let unversioned = StorageDiagnostics(settings: try settings(s3Values(server, bucket: plain), environment: credentials(server))).run()
        #expect(statuses(unversioned)["versioning"] == .failed)
        #expect(unversioned.first { $0.name == "versioning" }?.hint?.contains("put-bucket-versioning") == true)

        let wrong = StorageDiagnostics(settings: try settings(s3Values(server, bucket: plain),
                                                              environment: credentials(server, secret: "wrong"))).run()
        let bucketCheck = try #require(wrong.first { $0.name == "bucket" })
        #expect(bucketCheck.status == .failed && bucketCheck.summary.contains("SignatureDoesNotMatch"), "\(bucketCheck.summary)")
        #expect(statuses(wrong)["round-trip"] == .skipped)

        let missing = StorageDiagnostics(settings: try settings(s3Values(server, bucket: "no-such-bucket-anvcs"),
                                                                environment: credentials(server))).run()
        #expect(statuses(missing)["bucket"] == .failed)

        let noCredentials = StorageDiagnostics(settings: try settings(s3Values(server, bucket: plain), environment: ["HOME": "/nonexistent"])).run()
        #expect(statuses(noCredentials)["credentials"] == .failed)
    }

    @Test func unreachableEndpointSkipsWhatDependsOnIt() throws {
        let port = try TestEnvironment.freePort()
        let checks = StorageDiagnostics(settings: try settings(
            ["storage.mode": "s3", "adapters.s3.bucket": "b", "adapters.s3.endpoint_url": "http://127.0.0.1:\(port)"],
            environment: ["AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"])).run()
        let status = statuses(checks)
        #expect(status["tls"] == .failed)
        #expect(status["bucket"] == .skipped && status["round-trip"] == .skipped)
        let unresolvable = StorageDiagnostics(settings: try settings(
            ["storage.mode": "s3", "adapters.s3.bucket": "b", "adapters.s3.endpoint_url": "https://s3.anvcs-test.invalid"],
            environment: ["AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"])).run()
        #expect(statuses(unresolvable)["dns"] == .failed)
    }

    @Test func proxyInUseIsReported() throws {
        let checks = StorageDiagnostics(settings: try settings(
            ["storage.mode": "s3", "adapters.s3.bucket": "b", "adapters.s3.endpoint_url": "http://127.0.0.1:9"],
            environment: ["AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b", "HTTP_PROXY": "http://user:pw@127.0.0.1:9"])).run()
        let proxy = try #require(checks.first { $0.name == "proxy" })
        #expect(proxy.summary.contains("http://***@127.0.0.1:9"), "\(proxy.summary)")
        #expect(!proxy.summary.contains("pw"))
    }

    @Test func clockSkewIsMeasuredAgainstTheServersDate() throws {
        let diagnostics = StorageDiagnostics(settings: try settings([:]))
        let server = "Wed, 25 Nov 2026 06:30:00 GMT"
        let serverDate = try #require(HTTPDate.parse(server))
        #expect(diagnostics.clockCheck(serverDate: server, sentAt: serverDate.addingTimeInterval(0.4), host: "h").status == .ok)
        let ahead = diagnostics.clockCheck(serverDate: server, sentAt: serverDate.addingTimeInterval(120), host: "h")
        #expect(ahead.status == .warning && ahead.summary.contains("120 s ahead of h"))
        let behind = diagnostics.clockCheck(serverDate: server, sentAt: serverDate.addingTimeInterval(-1800), host: "h")
        #expect(behind.status == .failed && behind.summary.contains("1800 s behind h"))
    }

    @Test func localAndHybridStoresRoundTrip() throws {
        let local = StorageDiagnostics(settings: try settings([:])).run()
        #expect(local.map(\.name) == ["config", "directory", "round-trip"])
        #expect(local.allSatisfy { $0.status == .ok }, "\(local.map(\.summary))")
        let hybrid = StorageDiagnostics(settings: try settings(
            ["storage.mode": "hybrid", "storage.primary": "nfs", "storage.fallback": "local",
             "adapters.nfs.path": "/nonexistent/anvcs-share"])).run()
        let status = statuses(hybrid)
        #expect(status["primary.directory"] == .failed && status["primary.round-trip"] == .skipped)
        #expect(status["fallback.round-trip"] == .ok)
    }

    @Test func ipfsNodeRoundTripThroughSimulatedKuboRPC() throws {
        let kubo = try KuboServer()
        defer { kubo.stop() }
        let checks = StorageDiagnostics(settings: try settings(["storage.mode": "ipfs", "adapters.ipfs.api": kubo.endpoint])).run()
        #expect(checks.map(\.name) == ["config", "dns", "api", "round-trip"])
        #expect(checks.allSatisfy { $0.status == .ok }, "\(checks.map(\.summary))")
    }
}
