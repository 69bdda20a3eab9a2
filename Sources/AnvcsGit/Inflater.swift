import CZlib
#if canImport(Glibc)
import Glibc
#endif

/// One zlib inflate state, reset for each object of a pack. It lives on the heap because zlib
/// keeps a pointer back to it (a moved `z_stream` fails every later call).
final class Inflater {
    private let stream: UnsafeMutablePointer<z_stream>
    private static let scratchSize = 64 << 10
    private let scratch = UnsafeMutableRawPointer.allocate(byteCount: Inflater.scratchSize, alignment: 16)

    init() throws(PackFailure) {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        guard inflateInit_(stream, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            stream.deallocate()
            scratch.deallocate()
            throw PackFailure("zlib could not start")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
        scratch.deallocate()
    }

    /// How many bytes of `input` the zlib stream at its start takes, when that stream
    /// inflates to exactly `expected` bytes; nil when it does not (or is damaged, or is cut
    /// off). The inflated bytes are thrown away: this is how a pack's entries are delimited.
    func measure(_ input: UnsafeRawBufferPointer, expected: Int) -> Int? {
        var produced = 0
        let consumed = run(input) { stream in
            stream.pointee.next_out = scratch.assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_out = UInt32(Self.scratchSize)
            let rc = CZlib.inflate(stream, Z_NO_FLUSH)
            produced += Self.scratchSize - Int(stream.pointee.avail_out)
            return produced > expected ? Z_DATA_ERROR : rc
        }
        return produced == expected ? consumed : nil
    }

    /// Inflates the zlib stream at the start of `input` into `output`, which it must fill
    /// exactly; the bytes of `input` it took, or nil when it does not fill `output` exactly.
    func inflate(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Int? {
        var filled = 0
        let consumed = run(input) { stream in
            let room = min(output.count - filled, Int(UInt32.max))
            stream.pointee.next_out = output.baseAddress.map { ($0 + filled).assumingMemoryBound(to: Bytef.self) }
            stream.pointee.avail_out = UInt32(room)
            let rc = CZlib.inflate(stream, Z_NO_FLUSH)
            filled += room - Int(stream.pointee.avail_out)
            return rc
        }
        return filled == output.count ? consumed : nil
    }

    /// Feeds `input` (in pieces below 4 GiB, zlib's counters are 32 bits) to `step` until the
    /// stream ends; the bytes the stream took, or nil when it failed first.
    private func run(_ input: UnsafeRawBufferPointer, _ step: (UnsafeMutablePointer<z_stream>) -> Int32) -> Int? {
        guard inflateReset(stream) == Z_OK else { return nil }
        stream.pointee.avail_in = 0  // what the last stream left unread is not this one's
        var fed = 0
        while true {
            if stream.pointee.avail_in == 0 && fed < input.count {
                let piece = min(input.count - fed, Int(UInt32.max))
                stream.pointee.next_in = UnsafeMutablePointer(mutating: (input.baseAddress! + fed).assumingMemoryBound(to: Bytef.self))
                stream.pointee.avail_in = UInt32(piece)
                fed += piece
            }
            let rc = step(stream)
            if rc == Z_STREAM_END { return fed - Int(stream.pointee.avail_in) }
            // Z_BUF_ERROR with input left means no room for output: the stream is longer than declared.
            if rc == Z_OK || (rc == Z_BUF_ERROR && stream.pointee.avail_in == 0 && fed < input.count) { continue }
            return nil
        }
    }
}
