import Crypto

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Hex and base64 forms of SHA-256 digests, and streaming hashing of files.
public enum ContentDigest {
    public static let emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    public static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(64)
        for byte in digest {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func sha256Hex<B: Sequence>(of bytes: B) -> String where B.Element == UInt8 {
        hex(SHA256.hash(data: Array(bytes)))
    }

    /// Decodes lower- or upper-case hex; nil when malformed.
    public static func bytes(fromHex hex: String) -> [UInt8]? {
        let utf8 = Array(hex.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        func value(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: return c - 48
            case 97...102: return c - 87
            case 65...70: return c - 55
            default: return nil
            }
        }
        var out = [UInt8]()
        out.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = value(utf8[index]), let low = value(utf8[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    public static func base64(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out = [UInt8]()
        var index = 0
        while index + 2 < bytes.count {
            let n = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], alphabet[Int(n & 63)]]
            index += 3
        }
        let rest = bytes.count - index
        if rest == 1 {
            let n = UInt32(bytes[index]) << 16
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], 61, 61]
        } else if rest == 2 {
            let n = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], 61]
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The base64 form S3 uses for `x-amz-checksum-sha256`, from a hex digest.
    public static func base64(fromHex hex: String) -> String {
        base64(bytes(fromHex: hex) ?? [])
    }

    /// The sha256 and size of a file, and, when `partSize` is given, the sha256 of each
    /// `partSize` slice too: one pass over the file. A multipart upload does not need the part
    /// digests here (its workers hash each part as they send it, see `hashRange`).
    public static func hashFile(at path: String, partSize: UInt64? = nil) throws(StorageError) -> FileDigest {
        var whole = SHA256()
        var part = SHA256()
        var partFill: UInt64 = 0
        var parts: [String] = []
        var identity: FileIdentity?
        let size = try readChunks(of: path, from: 0, length: nil, opened: { identity = FileIdentity(descriptor: $0) }) { chunk in
            whole.update(bufferPointer: chunk)
            guard let partSize else { return }
            var offset = 0
            while offset < chunk.count {
                let take = Int(min(UInt64(chunk.count - offset), partSize - partFill))
                part.update(bufferPointer: UnsafeRawBufferPointer(rebasing: chunk[offset..<(offset + take)]))
                partFill += UInt64(take)
                offset += take
                if partFill == partSize {
                    parts.append(hex(part.finalize()))
                    part = SHA256()
                    partFill = 0
                }
            }
        }
        if partSize != nil && (partFill > 0 || parts.isEmpty) {
            parts.append(hex(part.finalize()))
        }
        return FileDigest(sha256: hex(whole.finalize()), size: size, partSHA256: parts, identity: identity)
    }

    /// The sha256 of `length` bytes of a file from `offset`; a file shorter than that is an
    /// error (it changed since it was measured).
    public static func hashRange(of path: String, offset: UInt64, length: UInt64) throws(StorageError) -> String {
        var digest = SHA256()
        let read = try readChunks(of: path, from: offset, length: length) { digest.update(bufferPointer: $0) }
        guard read == length else {
            throw .invalidResponse(operation: "read \(path)", detail: "the file ended after \(offset + read) bytes, "
                                   + "\(length - read) short of its measured size (did it change during the upload?)")
        }
        return hex(digest.finalize())
    }

    /// Reads a file (or `length` bytes of it from `offset`) in 1 MiB chunks; returns the count read.
    private static func readChunks(of path: String, from offset: UInt64, length: UInt64?,
                                   opened: (Int32) -> Void = { _ in },
                                   _ body: (UnsafeRawBufferPointer) -> Void) throws(StorageError) -> UInt64 {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .fileSystem(operation: "open", path: path, errno: errno) }
        defer { close(descriptor) }
        opened(descriptor)
        #if os(Linux)
        _ = posix_fadvise(descriptor, off_t(offset), off_t(length ?? 0), POSIX_FADV_SEQUENTIAL)
        #endif
        let bufferSize = 1 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferSize, alignment: 64)
        defer { buffer.deallocate() }
        var total: UInt64 = 0
        while length.map({ total < $0 }) ?? true {
            let want = Int(min(UInt64(bufferSize), (length ?? UInt64.max) - total))
            let count = pread(descriptor, buffer.baseAddress, want, off_t(offset + total))
            if count < 0 {
                if errno == EINTR { continue }
                throw .fileSystem(operation: "read", path: path, errno: errno)
            }
            if count == 0 { break }
            body(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            total += UInt64(count)
        }
        return total
    }
}

public struct FileDigest: Sendable, Equatable {
    public var sha256: String
    public var size: UInt64
    /// One digest per part when hashed with a part size; empty otherwise.
    public var partSHA256: [String]
    /// Which file, in which state, was hashed (nil for digests not taken from a file): a reader
    /// that reads the file again checks it is still the one the digest describes.
    public var identity: FileIdentity?

    public init(sha256: String, size: UInt64, partSHA256: [String], identity: FileIdentity? = nil) {
        self.sha256 = sha256
        self.size = size
        self.partSHA256 = partSHA256
        self.identity = identity
    }

    /// Digests are equal when they describe the same bytes, whichever file held them.
    public static func == (left: FileDigest, right: FileDigest) -> Bool {
        left.sha256 == right.sha256 && left.size == right.size && left.partSHA256 == right.partSHA256
    }
}

/// Device, inode, size and modification time of a file: what changes when it is rewritten or
/// replaced between two reads.
public struct FileIdentity: Sendable, Equatable {
    var device: UInt64
    var inode: UInt64
    var size: Int64
    var modifiedSeconds: Int
    var modifiedNanoseconds: Int

    init?(descriptor: Int32) {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return nil }
        self.init(info)
    }

    init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        self.init(info)
    }

    init(_ info: stat) {
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        size = Int64(info.st_size)
        modifiedSeconds = Int(info.st_mtim.tv_sec)
        modifiedNanoseconds = Int(info.st_mtim.tv_nsec)
    }
}
