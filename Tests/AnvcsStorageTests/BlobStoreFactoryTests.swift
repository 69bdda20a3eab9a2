@testable import AnvcsStorage
import Foundation
import Testing

struct BlobStoreFactoryTests {
    func settings(_ values: [String: String], environment: [String: String] = [:]) throws -> StorageSettings {
        try StorageSettings(lookup: { values[$0] }, defaultLocalPath: "/repo/.git/anvcs/store", environment: environment)
    }

    @Test func defaultIsTheLocalStoreAtTheCallersPath() throws {
        let store = try BlobStoreFactory.make(try settings([:]))
        let local = try #require(store as? LocalBlobStore)
        #expect(local.root == "/repo/.git/anvcs/store")
        let configured = try BlobStoreFactory.make(try settings(["adapters.local.path": "/srv/blobs"]))
        #expect((configured as? LocalBlobStore)?.root == "/srv/blobs")
    }

    @Test func s3StoreTakesItsSettings() throws {
        let store = try BlobStoreFactory.make(try settings([
            "storage.mode": "s3", "adapters.s3.bucket": "models", "adapters.s3.region": "eu-west-3",
            "adapters.s3.endpoint_url": "http://127.0.0.1:9000", "adapters.s3.prefix": "team",
            "adapters.s3.addressing_style": "path", "adapters.s3.multipart_threshold": "16MiB",
            "adapters.s3.part_size": "8 MiB", "adapters.s3.max_concurrency": "3",
        ]))
        let s3 = try #require(store as? S3VersionedBlobStore)
        #expect(s3.bucket == "models")
        #expect(s3.prefix == "team/")
        #expect(s3.client.configuration.region == "eu-west-3")
        #expect(s3.client.configuration.endpointURL == "http://127.0.0.1:9000")
        #expect(s3.client.configuration.addressingStyle == .path)
        #expect(s3.client.configuration.multipartThreshold == 16 << 20)
        #expect(s3.client.configuration.partSize == 8 << 20)
        #expect(s3.client.configuration.maximumConcurrentParts == 3)
    }

    @Test func regionAndEndpointFallBackToTheEnvironment() throws {
        let store = try BlobStoreFactory.make(try settings(
            ["storage.mode": "s3", "adapters.s3.bucket": "b"],
            environment: ["AWS_REGION": "ap-south-1", "AWS_ENDPOINT_URL_S3": "http://localhost:4566", "HOME": "/nonexistent"]))
        let s3 = try #require(store as? S3VersionedBlobStore)
        #expect(s3.client.configuration.region == "ap-south-1")
        #expect(s3.client.configuration.endpointURL == "http://localhost:4566")
    }

    @Test func hybridComposesPrimaryAndFallback() throws {
        let store = try BlobStoreFactory.make(try settings([
            "storage.mode": "hybrid", "storage.primary": "nfs", "storage.fallback": "local", "adapters.nfs.path": "/mnt/share",
        ]))
        let composite = try #require(store as? CompositeBlobStore)
        #expect((composite.primary as? NFSBlobStore)?.root == "/mnt/share")
        #expect((composite.fallback as? LocalBlobStore)?.root == "/repo/.git/anvcs/store")
    }

    @Test func missingOrInvalidSettingsSayWhichKey() throws {
        let cases: [([String: String], String)] = [
            (["storage.mode": "s3"], "adapters.s3.bucket"),
            (["storage.mode": "nfs"], "adapters.nfs.path"),
            (["storage.mode": "hybrid"], "storage.fallback"),
            (["storage.mode": "hybrid", "storage.fallback": "local"], "both local"),
            (["storage.mode": "tape"], "storage.mode"),
            (["adapters.s3.part_size": "1MiB"], "5 MiB minimum"),
            (["adapters.s3.multipart_threshold": "lots"], "adapters.s3.multipart_threshold"),
            (["adapters.s3.max_concurrency": "0"], "adapters.s3.max_concurrency"),
        ]
        for (values, expected) in cases {
            do {
                _ = try BlobStoreFactory.make(try settings(values))
                Issue.record("\(values) was accepted")
            } catch let error as StorageError {
                #expect("\(error)".contains(expected), "\(values): \(error)")
            }
        }
    }

    @Test func byteCountsParse() {
        #expect(StorageSettings.parseByteCount("67108864") == 67_108_864)
        #expect(StorageSettings.parseByteCount("64MiB") == 64 << 20)
        #expect(StorageSettings.parseByteCount("1 GiB") == 1 << 30)
        #expect(StorageSettings.parseByteCount("512k") == 512 << 10)
        #expect(StorageSettings.parseByteCount("12 parsecs") == nil)
        #expect(StorageSettings.parseByteCount("") == nil)
    }
}
