import AnvcsGit
import Foundation

/// `refs.json`, the one mutable object of an object-store remote: every ref, HEAD, and the
/// packs that hold the objects. A ref only ever names objects inside the listed packs, because
/// packs are uploaded before the manifest that lists them is swapped in.
public struct RefsManifest: Codable, Sendable, Equatable {
    public static let schema = "anvcs/remote-refs/1"

    public struct Pack: Codable, Sendable, Equatable {
        /// The pack's SHA-1 trailer in hex; the object is `packs/pack-<name>.pack`.
        public var name: String
        public var size: UInt64
        public var objects: Int
        /// Unix seconds when it was listed.
        public var created: Int64
    }

    /// A pack the garbage collector replaced; kept in the store until `retired` + grace.
    public struct RetiredPack: Codable, Sendable, Equatable {
        public var name: String
        public var retired: Int64
    }

    public var schema: String = RefsManifest.schema
    /// Counts replacements (for people reading it; the compare-and-swap uses the store's version).
    public var generation: Int = 0
    public var head: String?
    public var refs: [String: String] = [:]
    public var packs: [Pack] = []
    public var retired: [RetiredPack] = []

    public init() {}

    static func packKey(_ name: String) -> String { "packs/pack-\(name).pack" }

    /// Parses and checks every field, so a damaged manifest is refused instead of half-used.
    public static func decode(_ bytes: [UInt8], location: String) throws(RemoteError) -> RefsManifest {
        let manifest: RefsManifest
        do { manifest = try JSONDecoder().decode(RefsManifest.self, from: Data(bytes)) } catch {
            throw .invalidManifest(location: location, reason: "not JSON of the expected shape (\(Self.describe(error)))")
        }
        guard manifest.schema == schema else {
            throw .invalidManifest(location: location, reason: "schema '\(manifest.schema)', expected '\(schema)'")
        }
        for (name, value) in manifest.refs {
            guard name.hasPrefix("refs/"), Repository.isValidReferenceName(name) else {
                throw .invalidManifest(location: location, reason: "'\(name)' is not a valid ref name")
            }
            guard ObjectID(hex: value) != nil else {
                throw .invalidManifest(location: location, reason: "ref \(name) has value '\(value)', not a 40-digit object id")
            }
        }
        for pack in manifest.packs + manifest.retired.map({ Pack(name: $0.name, size: 0, objects: 0, created: 0) }) {
            guard ObjectID(hex: pack.name) != nil else {
                throw .invalidManifest(location: location, reason: "pack name '\(pack.name)' is not 40 hexadecimal digits")
            }
        }
        if let head = manifest.head, !head.hasPrefix("refs/") {
            throw .invalidManifest(location: location, reason: "HEAD '\(head)' is not a ref")
        }
        return manifest
    }

    public func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return Array((try? encoder.encode(self)) ?? Data())
    }

    public func ref(_ name: String) -> ObjectID? { refs[name].flatMap { ObjectID(hex: $0) } }

    private static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): return "missing '\(key.stringValue)'"
        case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c):
            return "wrong type at '\(c.codingPath.map(\.stringValue).joined(separator: "."))'"
        case DecodingError.dataCorrupted: return "not valid JSON"
        default: return "\(error)"
        }
    }
}
