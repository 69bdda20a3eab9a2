#if canImport(Glibc)
import Glibc
#endif

/// git's delta format (pack-format(5), "Deltified representation"): the sizes of the base and
/// of the result, then instructions that copy a range of the base or insert literal bytes.
/// Every field is checked against the buffers before a byte moves, because a pack comes from
/// someone else: a hostile delta gets an error, never a read or write out of bounds.
enum PackDelta {
    enum Failure: Error {
        case malformed(String)
        case outOfMemory(Int)
    }

    /// Applies `delta` to `base`; the result is `malloc`ed (at least one byte) and the caller
    /// frees it.
    static func apply(_ delta: UnsafeRawBufferPointer, to base: UnsafeRawBufferPointer) throws(Failure) -> UnsafeMutableRawBufferPointer {
        var position = 0
        let baseSize = try varint(delta, &position)
        guard baseSize == base.count else {
            throw .malformed("delta is for a base of \(baseSize) bytes, its base has \(base.count)")
        }
        let resultSize = try varint(delta, &position)
        guard let memory = malloc(max(resultSize, 1)) else { throw .outOfMemory(resultSize) }
        let result = UnsafeMutableRawBufferPointer(start: memory, count: resultSize)
        var written = 0
        let input = delta.baseAddress!
        while position < delta.count {
            let command = input.load(fromByteOffset: position, as: UInt8.self)
            position += 1
            if command & 0x80 != 0 {
                // Copy: bits 0-3 say which offset bytes follow, bits 4-6 which size bytes.
                var offset = 0, size = 0
                for bit in 0..<7 where command & (1 << bit) != 0 {
                    guard position < delta.count else { free(memory); throw .malformed("delta ends inside a copy instruction") }
                    let byte = Int(input.load(fromByteOffset: position, as: UInt8.self))
                    position += 1
                    if bit < 4 { offset |= byte << (8 * bit) } else { size |= byte << (8 * (bit - 4)) }
                }
                if size == 0 { size = 0x10000 }
                guard size <= base.count, offset <= base.count - size, size <= resultSize - written else {
                    free(memory)
                    throw .malformed("delta copies \(size) bytes at \(offset) of a \(base.count)-byte base")
                }
                memcpy(memory + written, base.baseAddress! + offset, size)
                written += size
            } else if command != 0 {
                let size = Int(command)
                guard size <= delta.count - position, size <= resultSize - written else {
                    free(memory)
                    throw .malformed("delta inserts \(size) bytes past its end")
                }
                memcpy(memory + written, input + position, size)
                written += size
                position += size
            } else {
                free(memory)
                throw .malformed("delta has the reserved instruction 0")
            }
        }
        guard written == resultSize else {
            free(memory)
            throw .malformed("delta produces \(written) bytes, it declares \(resultSize)")
        }
        return result
    }

    /// A size: 7 bits per byte, least significant first, high bit set on all but the last.
    private static func varint(_ bytes: UnsafeRawBufferPointer, _ position: inout Int) throws(Failure) -> Int {
        var value = 0, shift = 0
        while true {
            guard position < bytes.count else { throw .malformed("delta is truncated in its header") }
            let byte = Int(bytes[position])
            position += 1
            guard shift < 63 else { throw .malformed("delta declares a size beyond 2^63") }
            value |= (byte & 0x7f) << shift
            shift += 7
            if byte & 0x80 == 0 { return value }
        }
    }
}
