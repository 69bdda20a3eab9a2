/// The settings ANVCS knows, with their types and built-in defaults.
/// Unknown keys are kept (a newer ANVCS may know them) but never validated.
public enum SettingKind: Sendable, Equatable {
    case string
    case bool
    case integer
    case list
    case choice([String])
}

public struct SettingSpec: Sendable {
    public let key: String
    public let kind: SettingKind
    public let defaultValue: ConfigValue?
    public let help: String
}

public enum SettingsSchema {
    public static let specs: [SettingSpec] = [
        .init(key: "agent.id", kind: .string, defaultValue: nil, help: "agent identity recorded when nothing else names one"),
        .init(key: "agent.model", kind: .string, defaultValue: nil, help: "model recorded when nothing else names one"),
        .init(key: "provenance.prompt", kind: .choice(["full", "hash", "none"]), defaultValue: .scalar("full"),
              help: "store prompts in full, as a sha256 only, or not at all"),
        .init(key: "provenance.trailers", kind: .bool, defaultValue: .scalar("false"),
              help: "add AI-Agent:/AI-Model: trailers to commit messages"),
        .init(key: "provenance.mirror", kind: .bool, defaultValue: .scalar("true"),
              help: "mirror each note to .ai/meta/<commit>.json"),
        .init(key: "provenance.max_prompt_bytes", kind: .integer, defaultValue: .scalar("8388608"),
              help: "prompts longer than this are stored as a sha256 only"),
        .init(key: "hooks.async", kind: .bool, defaultValue: .scalar("true"),
              help: "record provenance in the background so git never waits"),
        .init(key: "storage.mode", kind: .choice(["local", "s3", "ipfs", "nfs", "hybrid"]), defaultValue: .scalar("local"),
              help: "where artifacts live"),
        .init(key: "storage.primary", kind: .choice(["local", "s3", "ipfs", "nfs"]), defaultValue: .scalar("local"),
              help: "the store written first in hybrid mode"),
        .init(key: "storage.fallback", kind: .choice(["local", "s3", "ipfs", "nfs", ""]), defaultValue: nil,
              help: "the store used when the primary cannot be reached"),
        .init(key: "blobs.track", kind: .list, defaultValue: .list([]), help: "patterns of files stored as artifacts"),
        .init(key: "blobs.upload_on_commit", kind: .bool, defaultValue: .scalar("false"), help: "queue uploads after each commit"),
        .init(key: "blobs.compress", kind: .bool, defaultValue: .scalar("false"), help: "compress artifacts in the store"),
        .init(key: "blobs.key", kind: .choice(["path", "content"]), defaultValue: .scalar("path"),
              help: "store keys by file path (versions as history) or by sha256"),
        .init(key: "blobs.min_size", kind: .integer, defaultValue: .scalar("0"),
              help: "tracked files smaller than this many bytes stay in git as they are"),
        .init(key: "artifacts.concurrency", kind: .integer, defaultValue: .scalar("8"),
              help: "artifact fetches running at once during checkout and hydrate"),
        .init(key: "artifacts.hydrate", kind: .choice(["lazy", "eager"]), defaultValue: .scalar("eager"),
              help: "fetch artifact bytes during checkout, or later on demand"),
        .init(key: "artifacts.write_after_checkout", kind: .integer, defaultValue: .scalar("8388608"),
              help: "artifacts of at least this many bytes are written to the work tree by ANVCS once git's checkout is done, not through git (0: never)"),
        .init(key: "merge.test_command", kind: .string, defaultValue: nil, help: "tests that gate automatic merges"),
        .init(key: "merge.llm.command", kind: .string, defaultValue: nil,
              help: "program that proposes resolutions for conflicts the merge engine leaves (JSON in, JSON out)"),
        .init(key: "adapters.local.path", kind: .string, defaultValue: nil, help: "directory of the local store"),
        .init(key: "adapters.nfs.path", kind: .string, defaultValue: nil, help: "mounted directory of the NFS store"),
        .init(key: "adapters.s3.bucket", kind: .string, defaultValue: nil, help: "S3 bucket"),
        .init(key: "adapters.s3.region", kind: .string, defaultValue: nil, help: "S3 region"),
        .init(key: "adapters.s3.endpoint_url", kind: .string, defaultValue: nil, help: "S3-compatible endpoint"),
        .init(key: "adapters.s3.prefix", kind: .string, defaultValue: nil, help: "key prefix inside the bucket"),
        .init(key: "adapters.s3.profile", kind: .string, defaultValue: nil, help: "AWS profile for credentials"),
        .init(key: "adapters.s3.addressing_style", kind: .choice(["auto", "path", "virtual"]), defaultValue: .scalar("auto"),
              help: "path-style or virtual-hosted bucket URLs (auto: virtual on AWS, path on a custom endpoint)"),
        .init(key: "adapters.s3.multipart_threshold", kind: .string, defaultValue: .scalar("64MiB"),
              help: "files at least this large upload in parts (bytes, or KiB/MiB/GiB)"),
        .init(key: "adapters.s3.part_size", kind: .string, defaultValue: .scalar("8MiB"),
              help: "size of each multipart part, at least 5MiB (raised for files that would need over 10,000 parts)"),
        .init(key: "adapters.s3.max_concurrency", kind: .integer, defaultValue: .scalar("8"),
              help: "multipart parts uploaded at once"),
        .init(key: "adapters.ipfs.api", kind: .string, defaultValue: nil, help: "Kubo RPC API address"),
    ]

    static let byKey: [String: SettingSpec] = Dictionary(uniqueKeysWithValues: specs.map { ($0.key, $0) })

    public static func spec(_ key: String) -> SettingSpec? { byKey[key] }

    /// Key fragments that name secrets: values for them belong in the environment, not the file.
    static let secretWords = ["secret", "password", "token", "access_key", "private_key", "credential"]
}
