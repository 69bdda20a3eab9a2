import CLibgit2

/// A git object name (SHA-1, 20 bytes), typed so that hashes are never passed around as strings.
public struct ObjectID: Hashable, Sendable, CustomStringConvertible, Comparable {
    // Two 64-bit words and one 32-bit word hold the 20 bytes and hash fast.
    var raw: git_oid

    init(_ oid: git_oid) { raw = oid }
    init(_ pointer: UnsafePointer<git_oid>) { raw = pointer.pointee }

    /// Parses 40 hexadecimal digits; returns nil for anything else.
    public init?(hex: some StringProtocol) {
        guard hex.utf8.count == 40, hex.utf8.allSatisfy({ $0.isHexDigit }) else { return nil }
        var oid = git_oid()
        let ok = String(hex).withCString { git_oid_fromstr(&oid, $0) } == 0
        guard ok else { return nil }
        raw = oid
    }

    public var hex: String {
        withUnsafeBytes(of: raw.id) { bytes in
            let digits: [UInt8] = Array("0123456789abcdef".utf8)
            var out = [UInt8]()
            out.reserveCapacity(40)
            for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 0xf)]) }
            return String(decoding: out, as: UTF8.self)
        }
    }

    public var short: String { String(hex.prefix(7)) }
    public var description: String { hex }
    public var isZero: Bool { withUnsafeBytes(of: raw.id) { $0.allSatisfy { $0 == 0 } } }

    public static func == (a: ObjectID, b: ObjectID) -> Bool {
        withUnsafeBytes(of: a.raw.id) { x in withUnsafeBytes(of: b.raw.id) { y in x.elementsEqual(y) } }
    }
    public static func < (a: ObjectID, b: ObjectID) -> Bool {
        withUnsafeBytes(of: a.raw.id) { x in withUnsafeBytes(of: b.raw.id) { y in x.lexicographicallyPrecedes(y) } }
    }
    public func hash(into hasher: inout Hasher) {
        withUnsafeBytes(of: raw.id) { hasher.combine(bytes: $0) }
    }
}

extension git_oid {
    /// The 20 bytes at `bytes`: an id as packs, trees and pack trailers store it.
    init(rawBytes bytes: UnsafeRawPointer) {
        self.init()
        withUnsafeMutableBytes(of: &id) { $0.copyMemory(from: UnsafeRawBufferPointer(start: bytes, count: 20)) }
    }
}

extension UInt8 {
    var isHexDigit: Bool { (48...57).contains(self) || (97...102).contains(self) || (65...70).contains(self) }
}
