import AnvcsTestSupport
import Foundation
import Testing

/// Artifacts against an S3-compatible server with object versioning (moto, from the venv that
/// scripts/test-deps.d/s3.sh prepares): the pin's version_id, not the key, finds the bytes.
@Suite struct S3ArtifactTests {
    /// moto on a given port with a versioned bucket; it exits when this process closes its stdin.
    final class Moto {
        let process = Process()
        let input = Pipe()
        let port: Int

        static let launcher = #"""
        import sys, threading, os
        from moto.server import ThreadedMotoServer
        port = int(sys.argv[1])
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        import boto3
        s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                          aws_access_key_id="test", aws_secret_access_key="test")
        s3.create_bucket(Bucket="artifacts")
        s3.put_bucket_versioning(Bucket="artifacts", VersioningConfiguration={"Status": "Enabled"})
        print("READY", flush=True)
        sys.stdin.read()
        os._exit(0)
        """#

        init(port: Int) throws {
            self.port = port
            let venv = ProcessInfo.processInfo.environment["ANVCS_VENV"] ?? Built.sourceRoot + "/.venv"
            let python = venv + "/bin/python"
            guard FileManager.default.isExecutableFile(atPath: python) else {
                throw TestFailure("no Python venv with moto at \(venv): run scripts/test-deps.d/s3.sh (or set ANVCS_VENV)")
            }
            let output = Pipe()
            process.executableURL = URL(fileURLWithPath: python)
            process.arguments = ["-c", Moto.launcher, String(port)]
            process.standardInput = input
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            // Wait (bounded) for READY.
            let ready = DispatchSemaphore(value: 0)
            let reader = output.fileHandleForReading
            DispatchQueue.global().async {
                var text = ""
                while !text.contains("READY") {
                    let chunk = reader.availableData
                    if chunk.isEmpty { break }
                    text += String(decoding: chunk, as: UTF8.self)
                }
                ready.signal()
            }
            guard ready.wait(timeout: .now() + 90) == .success, process.isRunning else {
                stop()
                throw TestFailure("moto did not start on port \(port)")
            }
        }

        func stop() {
            try? input.fileHandleForWriting.close()
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }

        deinit { stop() }
    }

    @Test func uploadsQueueWhileTheServerIsDownAndVersionsHydrateExactly() throws {
        let p = try ArtifactWorkflowTests.Project()
        let port = try freeLoopbackPort()
        for (k, v) in [("AWS_ACCESS_KEY_ID", "test"), ("AWS_SECRET_ACCESS_KEY", "test"), ("AWS_EC2_METADATA_DISABLED", "true")] {
            p.t.environment[k] = v
        }
        try p.t.write("ai-vcs.config.yaml", """
            storage:
              mode: s3
            blobs:
              upload_on_commit: true
            adapters:
              s3:
                bucket: artifacts
                region: us-east-1
                endpoint_url: http://127.0.0.1:\(port)
                addressing_style: path
            """)
        let v1 = try p.bytes("model.bin", count: 120_000, seed: 21)
        try p.commitAll("v1", env: ["ANVCS_HOOK_SYNC": "1"])
        // The server is down: the upload fails and stays queued.
        let deadline = Date().addingTimeInterval(30)
        var attempts = 0
        while Date() < deadline {
            attempts = ((try p.status()["queued_uploads"] as? [[String: Any]])?.first?["attempts"] as? Int) ?? 0
            if attempts > 0 { break }
            usleep(100_000)
        }
        let statusText = "\((try? p.status()) ?? [:])"
        #expect(attempts > 0, "\(statusText)")
        #expect(try p.pins().isEmpty)

        let moto = try Moto(port: port)
        defer { moto.stop() }
        let retry = try p.t.anvcs(["retry-uploads"])
        #expect(retry.succeeded, "\(retry.stderr)")
        let pin1 = try p.pins().first ?? [:]
        #expect(pin1["storage"] as? String == "s3")
        #expect(pin1["bucket"] as? String == "artifacts")
        #expect(pin1["key"] as? String == "model.bin")
        let version1 = pin1["version_id"] as? String ?? ""
        #expect(!version1.isEmpty && version1 != pin1["sha256"] as? String)

        // A second version under the same key (path keys: S3 versions are the history).
        let v2 = try p.bytes("model.bin", count: 90_000, seed: 22)
        try p.commitAll("v2")
        try p.waitForUploads()
        let version2 = try p.pins().first?["version_id"] as? String ?? ""
        #expect(!version2.isEmpty && version2 != version1)
        try p.t.git(["push", "-q", "origin", "main", "refs/notes/anvcs"])

        // A lazy clone with the notes hydrates each commit's exact version.
        let (clone, r) = try p.clone("s3clone", lazy: true)
        #expect(r.succeeded, "\(r.stderr)")
        try p.t.run(["git", "fetch", "-q", "origin", "refs/notes/anvcs:refs/notes/anvcs"], in: clone)
        let hydrate = try p.t.run([Built.gitAnvcs, "hydrate", "--all"], in: clone)
        #expect(hydrate.succeeded, "\(hydrate.stderr)")
        #expect(p.contents("model.bin", in: clone) == v2)
        let old = try p.t.run(["git", "checkout", "-q", "HEAD~1"], in: clone)
        #expect(old.succeeded, "\(old.stderr)")
        _ = try p.t.run([Built.gitAnvcs, "hydrate", "--all"], in: clone)
        #expect(p.contents("model.bin", in: clone) == v1)
    }
}
