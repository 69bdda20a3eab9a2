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
    /// `partSize` slice too (multipart uploads sign every part): one pass over the file.
    public static func hashFile(at path: String, partSize: UInt64? = nil) throws(StorageError) -> FileDigest {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .fileSystem(operation: "open", path: path, errno: errno) }
        defer { close(descriptor) }
        #if os(Linux)
        _ = posix_fadvise(descriptor, 0, 0, POSIX_FADV_SEQUENTIAL)
        #endif
        let bufferSize = 1 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferSize, alignment: 64)
        defer { buffer.deallocate() }
        var whole = SHA256()
        var part = SHA256()
        var partFill: UInt64 = 0
        var parts: [String] = []
        var size: UInt64 = 0
        while true {
            let count = read(descriptor, buffer.baseAddress, bufferSize)
            if count < 0 {
                if errno == EINTR { continue }
                throw .fileSystem(operation: "read", path: path, errno: errno)
            }
            if count == 0 { break }
            let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
            whole.update(bufferPointer: chunk)
            size += UInt64(count)
            guard let partSize else { continue }
            var offset = 0
            while offset < count {
                let take = Int(min(UInt64(count - offset), partSize - partFill))
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
        return FileDigest(sha256: hex(whole.finalize()), size: size, partSHA256: parts)
    }
}

public struct FileDigest: Sendable, Equatable {
    public var sha256: String
    public var size: UInt64
    /// One digest per part when hashed with a part size; empty otherwise.
    public var partSHA256: [String]
}
