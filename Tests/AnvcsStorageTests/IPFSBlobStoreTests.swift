import AnvcsHTTP
@testable import AnvcsStorage
import Foundation
import Testing

/// IPFSBlobStore against a simulated Kubo RPC API in front of a real Kubo node (see KuboServer).
@Suite(.serialized)
struct IPFSBlobStoreSimulatedRPCTests {
    let kubo: KuboServer
    init() throws { kubo = try KuboServer() }

    @Test func roundTripPinsAndUnpinsThroughSimulatedKuboRPC() throws {
        defer { kubo.stop() }
        let store = try IPFSBlobStore(api: kubo.endpoint)
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try TestEnvironment.writeRandomFile(at: directory + "/model.bin", size: 1_300_000, seed: 40)
        let pin = try store.upload(localPath: directory + "/model.bin", key: "models/model.bin")
        #expect(pin.storage == "ipfs")
        #expect(pin.versionId.hasPrefix("Qm") && pin.versionId.count == 46, "a CIDv0: \(pin.versionId)")
        #expect(pin.sha256 == (try ContentDigest.hashFile(at: directory + "/model.bin")).sha256)
        #expect(pin.size == 1_300_000)
        // Kubo names content, not keys: the same bytes under another key are the same CID.
        #expect(try store.upload(localPath: directory + "/model.bin", key: "elsewhere/copy.bin").versionId == pin.versionId)

        try store.download(pin: pin, to: directory + "/back.bin")
        #expect(try ContentDigest.hashFile(at: directory + "/back.bin").sha256 == pin.sha256)

        #expect(try store.exists(key: pin.key, versionId: pin.versionId))
        try store.deleteVersion(key: pin.key, versionId: pin.versionId)
        #expect(try store.exists(key: pin.key, versionId: pin.versionId) == false)
        #expect(throws: StorageError.self) { try store.deleteVersion(key: pin.key, versionId: pin.versionId) }
        try store.pin(cid: pin.versionId)
        #expect(try store.exists(key: pin.key, versionId: pin.versionId))
    }

    @Test func lyingNodeIsCaughtBySha256InSimulatedKuboRPC() throws {
        defer { kubo.stop() }
        let store = try IPFSBlobStore(api: kubo.endpoint)
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try TestEnvironment.writeRandomFile(at: directory + "/data", size: 70_000, seed: 41)
        let pin = try store.upload(localPath: directory + "/data", key: "data")
        try Data("keep".utf8).write(to: URL(fileURLWithPath: directory + "/dest"))
        try HTTPClient().perform(HTTPRequest(method: "POST", url: kubo.endpoint + "/test/corrupt-next-cat"))
        do {
            try store.download(pin: pin, to: directory + "/dest")
            Issue.record("corrupt bytes from the node were accepted")
        } catch StorageError.digestMismatch(let key, let expected, _) {
            #expect(key == "data" && expected == pin.sha256)
        }
        #expect(try String(contentsOfFile: directory + "/dest", encoding: .utf8) == "keep")
        // Without a sha256 there is nothing to verify against: refused, not trusted.
        #expect(throws: StorageError.self) {
            try store.download(key: "data", versionId: pin.versionId, to: directory + "/dest", expectedSHA256: nil)
        }
    }

    @Test func unknownCIDIsAClearErrorInSimulatedKuboRPC() throws {
        defer { kubo.stop() }
        let store = try IPFSBlobStore(api: kubo.endpoint)
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let missing = "QmTJjBYbtGtXopQDgzffJeuMUBDzLfABNYKGEL1Si7nU3d"
        do {
            try store.download(key: "k", versionId: missing, to: directory + "/out", expectedSHA256: String(repeating: "0", count: 64))
            Issue.record("a CID the node does not hold was downloaded")
        } catch StorageError.ipfs(let operation, let status, let message) {
            #expect(operation == "cat \(missing)" && status == 500)
            #expect(message.contains("not found"))
        }
        #expect(FileManager.default.fileExists(atPath: directory + "/out") == false)
        #expect(try store.exists(key: "k", versionId: missing) == false)
    }

}

struct IPFSAddressTests {
    @Test func apiAddressesAcceptURLsAndMultiaddrs() throws {
        #expect(try IPFSBlobStore.apiURL(from: "/ip4/127.0.0.1/tcp/5001") == "http://127.0.0.1:5001")
        #expect(try IPFSBlobStore.apiURL(from: "/ip6/::1/tcp/5001") == "http://[::1]:5001")
        #expect(try IPFSBlobStore.apiURL(from: "/dns4/ipfs.internal/tcp/5001/http") == "http://ipfs.internal:5001")
        #expect(try IPFSBlobStore.apiURL(from: "http://127.0.0.1:5001/") == "http://127.0.0.1:5001")
        #expect(throws: StorageError.self) { try IPFSBlobStore.apiURL(from: "127.0.0.1:5001") }
        #expect(throws: StorageError.self) { try IPFSBlobStore.apiURL(from: "/ip4/127.0.0.1/udp/5001") }
        let settings = try StorageSettings(lookup: ["storage.mode": "ipfs", "adapters.ipfs.api": "/ip4/10.0.0.5/tcp/5001"].get,
                                           defaultLocalPath: "/tmp/x")
        #expect((try BlobStoreFactory.make(settings) as? IPFSBlobStore)?.apiURL == "http://10.0.0.5:5001")
    }
}

extension Dictionary where Key == String, Value == String {
    func get(_ key: String) -> String? { self[key] }
}
