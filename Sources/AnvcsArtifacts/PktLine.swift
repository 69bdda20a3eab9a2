import AnvcsGit
#if canImport(Glibc)
import Glibc
#endif

/// git's pkt-line framing (gitprotocol-common(5)): four hex digits giving the length of the
/// line including themselves, then the payload; `0000` is a flush packet.
public enum Packet: Equatable, Sendable {
    case data([UInt8])
    case flush
}

/// Reads packets from a file descriptor through a buffer.
public final class PacketReader {
    public static let maxPayload = 65_516
    let fd: Int32
    var buffer = [UInt8](repeating: 0, count: 1 << 17)
    var start = 0, end = 0

    public init(fd: Int32) { self.fd = fd }

    /// The next packet, or nil at a clean end of input (between packets).
    public func next() throws(ArtifactError) -> Packet? {
        guard let header = try take(4, allowEOF: true) else { return nil }
        guard let length = Int(String(decoding: header, as: UTF8.self), radix: 16) else {
            throw .protocolError("bad pkt-line length '\(String(decoding: header, as: UTF8.self))'")
        }
        if length == 0 { return .flush }
        guard length > 4, length - 4 <= PacketReader.maxPayload else { throw .protocolError("pkt-line length \(length) out of range") }
        guard let payload = try take(length - 4, allowEOF: false) else { throw .protocolError("input ended inside a packet") }
        return .data(payload)
    }

    /// A text packet without its trailing newline.
    public func nextText() throws(ArtifactError) -> String? {
        guard let p = try next() else { return nil }
        guard case .data(var bytes) = p else { return nil }
        if bytes.last == 0x0a { bytes.removeLast() }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `key=value` lines up to a flush.
    public func readList() throws(ArtifactError) -> [(String, String)]? {
        var out: [(String, String)] = []
        while true {
            guard let p = try next() else { return out.isEmpty ? nil : out }
            switch p {
            case .flush: return out
            case .data(var bytes):
                if bytes.last == 0x0a { bytes.removeLast() }
                let line = String(decoding: bytes, as: UTF8.self)
                if let eq = line.firstIndex(of: "=") {
                    out.append((String(line[..<eq]), String(line[line.index(after: eq)...])))
                } else {
                    out.append((line, ""))
                }
            }
        }
    }

    func take(_ count: Int, allowEOF: Bool) throws(ArtifactError) -> [UInt8]? {
        while end - start < count {
            if start > 0 {
                buffer.withUnsafeMutableBufferPointer { b in
                    _ = memmove(b.baseAddress!, b.baseAddress! + start, end - start)
                }
                end -= start
                start = 0
            }
            let n = buffer.withUnsafeMutableBufferPointer { b in read(fd, b.baseAddress! + end, b.count - end) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .io("read failed: \(String(cString: strerror(errno)))")
            }
            if n == 0 {
                if allowEOF && end == start { return nil }
                throw .protocolError("input ended inside a packet")
            }
            end += n
        }
        defer { start += count }
        return Array(buffer[start..<start + count])
    }
}

/// Writes packets to a file descriptor, buffered; `flush()` pushes them out.
public final class PacketWriter {
    let fd: Int32
    var buffer: [UInt8] = []

    public init(fd: Int32) {
        self.fd = fd
        buffer.reserveCapacity(1 << 17)
    }

    public func write(_ payload: some Collection<UInt8>) throws(ArtifactError) {
        var rest = payload[...]
        while !rest.isEmpty {
            let chunk = rest.prefix(PacketReader.maxPayload)
            appendHeader(chunk.count + 4)
            buffer.append(contentsOf: chunk)
            rest = rest.dropFirst(chunk.count)
            if buffer.count >= 1 << 16 { try send() }
        }
    }

    public func writeText(_ line: String) throws(ArtifactError) { try write(Array((line + "\n").utf8)) }

    public func writeFlush() throws(ArtifactError) {
        buffer.append(contentsOf: Array("0000".utf8))
        try send()
    }

    func appendHeader(_ length: Int) {
        let digits = Array("0123456789abcdef".utf8)
        buffer.append(digits[(length >> 12) & 15])
        buffer.append(digits[(length >> 8) & 15])
        buffer.append(digits[(length >> 4) & 15])
        buffer.append(digits[length & 15])
    }

    public func send() throws(ArtifactError) {
        if let code = buffer.withUnsafeBytes({ writeFully(fd, $0) }) {
            throw .io("write failed: \(String(cString: strerror(code)))")
        }
        buffer.removeAll(keepingCapacity: true)
    }
}
