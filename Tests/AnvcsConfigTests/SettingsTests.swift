import AnvcsConfig
import Foundation
import Testing

@Suite struct SettingsTests {
    func load(_ yaml: String, git: [(key: String, value: String)] = [], env: [String: String] = [:], flags: [String: ConfigValue] = [:]) throws -> Settings {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("anvcs-cfg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try yaml.write(to: dir.appendingPathComponent("ai-vcs.config.yaml"), atomically: true, encoding: .utf8)
        return SettingsLoader.load(repositoryRoot: dir.path, gitConfig: git, environment: env, flags: flags)
    }

    @Test func defaultsWithoutAFile() {
        let s = SettingsLoader.load(repositoryRoot: "/nonexistent-anvcs")
        #expect(s.string("provenance.prompt") == "full")
        #expect(s.bool("hooks.async"))
        #expect(s.problems.isEmpty)
    }

    /// git refuses `_` in variable names; its dashes stand for the file's underscores.
    @Test func gitConfigDashesAreTheFilesUnderscores() throws {
        let s = try load("blobs:\n  upload_on_commit: false\n",
                         git: [("anvcs.blobs.upload-on-commit", "true"), ("anvcs.artifacts.write-after-checkout", "1024")])
        #expect(s.bool("blobs.upload_on_commit"))
        #expect(s.integer("artifacts.write_after_checkout") == 1024)
        #expect(s.integer("artifacts.write_after_checkout") != nil && s.problems.isEmpty, "\(s.problems)")
        #expect(SettingsLoader.settingKey(forGitConfig: "anvcs.adapters.local.path") == "adapters.local.path")
        #expect(SettingsLoader.settingKey(forGitConfig: "anvcs.adapters.my-bucket.path") == "adapters.my-bucket.path",
                "only the variable name, not a subsection, is translated")
    }

    @Test func precedenceFlagsEnvGitFileDefaults() throws {
        let yaml = "provenance:\n  prompt: none\nagent:\n  id: from-file\n  model: file-model\nblobs:\n  track: [\"*.pt\", \"*.bin\"]\n"
        var s = try load(yaml)
        #expect(s.string("provenance.prompt") == "none")
        #expect(s.list("blobs.track") == ["*.pt", "*.bin"])
        #expect(s.entry("agent.id")?.source == .file(path: "ai-vcs.config.yaml", line: 4))
        s = try load(yaml, git: [("anvcs.agent.id", "from-git")])
        #expect(s.string("agent.id") == "from-git")
        s = try load(yaml, git: [("anvcs.agent.id", "from-git")], env: ["ANVCS_AGENT_ID": "from-env"])
        #expect(s.string("agent.id") == "from-env")
        s = try load(yaml, git: [("anvcs.agent.id", "from-git")], env: ["ANVCS_AGENT_ID": "from-env"], flags: ["agent.id": .scalar("from-flag")])
        #expect(s.string("agent.id") == "from-flag")
        #expect(s.string("agent.model") == "file-model")
    }

    @Test func variablesExpandWithDefaults() throws {
        let s = try load("adapters:\n  s3:\n    bucket: ${BUCKET}\n    region: ${REGION:-eu-west-1}\n    prefix: ${NOPE:-}\n", env: ["BUCKET": "b1"])
        #expect(s.string("adapters.s3.bucket") == "b1")
        #expect(s.string("adapters.s3.region") == "eu-west-1")
        #expect(s.string("adapters.s3.prefix") == nil)
        #expect(throws: ExpansionError.self) { try expandVariables("${OPEN", environment: [:]) }
        #expect(try expandVariables("$$HOME ${A}", environment: ["A": "x"]) == "$HOME x")
    }

    @Test func malformedYamlNamesFileLineAndKeyAndKeepsDefaults() throws {
        let s = try load("provenance:\n  prompt: full\n  trailers: [unclosed\nstorage:\n  mode: local\n")
        #expect(s.problems.count == 1)
        let p = try #require(s.problems.first)
        #expect(p.file == "ai-vcs.config.yaml")
        #expect(p.line != nil)
        #expect(p.key != nil)
        #expect(p.description.hasPrefix("ai-vcs.config.yaml:"))
        #expect(!p.description.contains("\n"))
        #expect(s.string("provenance.prompt") == "full")
    }

    @Test func wrongTypesAreProblemsWithLineAndKey() throws {
        let s = try load("provenance:\n  prompt: everything\nhooks:\n  async: maybe\n")
        let descriptions = s.problems.map(\.description)
        #expect(descriptions.contains("ai-vcs.config.yaml:2: provenance.prompt: expected one of full, hash, none, got 'everything'"))
        #expect(descriptions.contains("ai-vcs.config.yaml:4: hooks.async: expected true or false, got 'maybe'"))
        #expect(s.string("provenance.prompt") == "full")
    }

    @Test func secretsWrittenInTheFileWarn() throws {
        let s = try load("adapters:\n  s3:\n    secret_access_key: abcdefabcdef\n    session_token: ${TOKEN}\n")
        #expect(s.warnings.count == 1)
        #expect(s.warnings[0].contains("secret_access_key"))
    }

    @Test func topLevelMustBeAMapping() throws {
        let s = try load("- a\n- b\n")
        #expect(s.problems.first?.reason.contains("mapping") == true)
    }
}
