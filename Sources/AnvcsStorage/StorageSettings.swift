import Foundation

/// Everything `BlobStoreFactory` needs to build the configured store, read through a lookup
/// function so this module stays free of any config format. Keys are the dotted names of
/// AnvcsConfig's `SettingsSchema` (`storage.mode`, `adapters.s3.bucket`, ...).
public struct StorageSettings: Sendable {
    public enum Mode: String, Sendable, CaseIterable {
        case local, nfs, s3, ipfs, hybrid
    }

    /// A single store kind (every mode except `hybrid`).
    public enum StoreKind: String, Sendable, CaseIterable {
        case local, nfs, s3, ipfs
    }

    public struct S3: Sendable {
        public var bucket: String?
        public var region: String?
        public var endpointURL: String?
        public var prefix: String
        public var profile: String?
        public var addressingStyle: S3Configuration.AddressingStyle
        public var multipartThreshold: UInt64
        public var partSize: UInt64
        public var maximumConcurrentParts: Int
    }

    public var mode: Mode
    /// The store written first in hybrid mode.
    public var primary: StoreKind
    /// The store used when the primary fails, in hybrid mode.
    public var fallback: StoreKind?
    /// The local store's directory (`adapters.local.path`, else the caller's default).
    public var localPath: String
    public var nfsPath: String?
    /// Where hybrid mode keeps uploads owed to the primary (the caller's per-repository
    /// directory); nil keeps them in memory for the life of the store.
    public var hybridQueuePath: String?
    public var s3: S3
    /// Kubo's RPC API, `http://127.0.0.1:5001` unless `adapters.ipfs.api` says otherwise.
    public var ipfsAPI: String
    /// The environment of the calling process: the AWS credential chain and the proxy
    /// variables are read from it. Only executables read the real environment, so they pass it.
    public var environment: [String: String]

    /// Reads every storage key through `lookup` (nil or empty means unset). `defaultLocalPath` is
    /// where the local store lives when `adapters.local.path` is unset (callers pass
    /// `<git-dir>/anvcs/store`). Invalid values throw `StorageError.invalidConfiguration` naming
    /// the key and the value.
    public init(lookup: (String) -> String?, defaultLocalPath: String, hybridQueuePath: String? = nil,
                environment: [String: String] = [:]) throws {
        func value(_ key: String) -> String? {
            guard let raw = lookup(key)?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { return nil }
            return raw
        }
        func choice<T: RawRepresentable>(_ key: String, _ type: T.Type) throws -> T? where T.RawValue == String {
            guard let raw = value(key) else { return nil }
            guard let parsed = T(rawValue: raw.lowercased()) else {
                throw StorageError.invalidConfiguration(detail: "\(key): '\(raw)' is not one of the allowed values")
            }
            return parsed
        }
        func size(_ key: String, default fallback: UInt64) throws -> UInt64 {
            guard let raw = value(key) else { return fallback }
            guard let parsed = StorageSettings.parseByteCount(raw) else {
                throw StorageError.invalidConfiguration(
                    detail: "\(key): '\(raw)' is not a size (bytes, or a number with KiB, MiB, GiB)")
            }
            return parsed
        }

        mode = try choice("storage.mode", Mode.self) ?? .local
        primary = try choice("storage.primary", StoreKind.self) ?? .local
        fallback = try choice("storage.fallback", StoreKind.self)
        localPath = value("adapters.local.path") ?? defaultLocalPath
        nfsPath = value("adapters.nfs.path")
        self.hybridQueuePath = hybridQueuePath
        ipfsAPI = value("adapters.ipfs.api") ?? "http://127.0.0.1:5001"
        self.environment = environment

        let mebibyte = S3Configuration.mebibyte
        let concurrencyText = value("adapters.s3.max_concurrency")
        let concurrency = concurrencyText.flatMap { Int($0) } ?? 8
        if let concurrencyText, Int(concurrencyText) == nil || concurrency < 1 {
            throw StorageError.invalidConfiguration(
                detail: "adapters.s3.max_concurrency: '\(concurrencyText)' is not a positive whole number")
        }
        s3 = S3(bucket: value("adapters.s3.bucket"),
                region: value("adapters.s3.region"),
                endpointURL: value("adapters.s3.endpoint_url"),
                prefix: value("adapters.s3.prefix") ?? "",
                profile: value("adapters.s3.profile"),
                addressingStyle: try choice("adapters.s3.addressing_style", S3Configuration.AddressingStyle.self) ?? .automatic,
                multipartThreshold: try size("adapters.s3.multipart_threshold", default: 64 * mebibyte),
                partSize: try size("adapters.s3.part_size", default: 8 * mebibyte),
                maximumConcurrentParts: concurrency)
        if s3.partSize < 5 * mebibyte {
            throw StorageError.invalidConfiguration(
                detail: "adapters.s3.part_size: \(s3.partSize) bytes is below S3's 5 MiB minimum part size")
        }
    }

    /// `67108864`, `64MiB`, `64M`, `1GiB`, `512KiB` (binary units; `MB` is read as MiB too).
    public static func parseByteCount(_ text: String) -> UInt64? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let digits = trimmed.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, let number = UInt64(digits) else { return nil }
        let unit = trimmed.dropFirst(digits.count).trimmingCharacters(in: .whitespaces).lowercased()
        let shift: UInt64
        switch unit {
        case "", "b": shift = 0
        case "k", "kb", "kib": shift = 10
        case "m", "mb", "mib": shift = 20
        case "g", "gb", "gib": shift = 30
        default: return nil
        }
        let (result, overflow) = number.multipliedReportingOverflow(by: 1 << shift)
        return overflow ? nil : result
    }
}
