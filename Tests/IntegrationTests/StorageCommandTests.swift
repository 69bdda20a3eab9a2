import AnvcsTestSupport
import Foundation
import Testing

/// `git anvcs storage check` and `doctor` on the built binary, against moto.
@Suite(.serialized)
struct StorageCommandTests {
    @Test func checkPassesOnAVersionedBucketAndFailsWithExitOneOtherwise() throws {
        let moto = try MotoProcess(buckets: ["artifacts+versioned", "plain"])
        defer { moto.stop() }
        let t = try TemporaryRepository()
        try t.write("ai-vcs.config.yaml", """
            storage:
              mode: s3
            adapters:
              s3:
                bucket: ${ANVCS_TEST_BUCKET:-artifacts}
                endpoint_url: \(moto.endpoint)
                prefix: team
            """)
        let keys = ["AWS_ACCESS_KEY_ID": moto.accessKeyId, "AWS_SECRET_ACCESS_KEY": moto.secretAccessKey]
        let check = try t.anvcs(["storage", "check"], env: keys)
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        let lines = check.stdout.split(separator: "\n")
        #expect(lines.count == 10, "\(check.stdout)")
        for name in ["secrets", "config", "credentials", "proxy", "dns", "clock", "bucket", "versioning", "round-trip"] {
            #expect(lines.contains { $0.hasPrefix("ok") && $0.contains(" \(name) ") }, "\(name) in\n\(check.stdout)")
        }

        // ${VAR:-default} picks the unversioned bucket: versioning fails, the exit status is 1.
        let unversioned = try t.anvcs(["storage", "doctor", "--verbose"], env: keys.merging(["ANVCS_TEST_BUCKET": "plain"]) { $1 })
        #expect(unversioned.status == 1)
        #expect(unversioned.stdout.contains("FAIL  versioning"))
        #expect(unversioned.stdout.contains("hint: aws s3api put-bucket-versioning --bucket plain"))
        #expect(unversioned.stdout.contains("addressing: path-style"), "--verbose shows details")
        #expect(unversioned.stderr.contains("storage check(s) failed"))

        // A wrong secret is named, and what depends on the bucket is skipped.
        let wrong = try t.anvcs(["storage", "check", "--json"], env: keys.merging(["AWS_SECRET_ACCESS_KEY": "wrong"]) { $1 })
        #expect(wrong.status == 1)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(wrong.stdout.utf8)) as? [String: Any])
        #expect(document["ok"] as? Bool == false && document["mode"] as? String == "s3")
        let checks = try #require(document["checks"] as? [[String: Any]])
        let bucket = try #require(checks.first { $0["name"] as? String == "bucket" })
        #expect(bucket["status"] as? String == "failed")
        #expect((bucket["summary"] as? String)?.contains("SignatureDoesNotMatch") == true)
        #expect(checks.first { $0["name"] as? String == "round-trip" }?["status"] as? String == "skipped")
    }

    @Test func aSecretWrittenInTheConfigFileIsAWarning() throws {
        let t = try TemporaryRepository()
        try t.write("ai-vcs.config.yaml", """
            storage:
              mode: local
            adapters:
              s3:
                aws_secret_access_key: wJalrXUtnFEMI/K7MDENG
                access: AKIAIOSFODNN7EXAMPLE
            """)
        let check = try t.anvcs(["storage", "check"])
        #expect(check.status == 0, "warnings do not fail: \(check.stdout)\(check.stderr)")
        #expect(check.stdout.contains("warn  secrets"), "\(check.stdout)")
        #expect(check.stdout.contains("2 secret(s) written in ai-vcs.config.yaml"), "\(check.stdout)")
        #expect(check.stdout.contains("ok    round-trip"), "\(check.stdout)")
    }
}
