/// JSON written straight into bytes, for large outputs (`log --json` over thousands of commits)
/// where building a `JSONValue` tree first would cost more than the query. The caller writes the
/// punctuation; this escapes strings and keeps one growing buffer.
public struct JSONOutput {
    public private(set) var bytes: [UInt8] = []

    public init(capacity: Int = 1 << 16) { bytes.reserveCapacity(capacity) }

    /// Punctuation, keys known to need no escaping, numbers already formatted, or JSON text that
    /// is already valid (a note stored compactly by the index).
    public mutating func raw(_ text: String) {
        var text = text
        text.withUTF8 { bytes.append(contentsOf: $0) }
    }

    public mutating func string(_ s: String) {
        bytes.append(0x22)
        var s = s
        s.withUTF8 { utf8 in
            var start = 0
            for (i, byte) in utf8.enumerated() where byte < 0x20 || byte == 0x22 || byte == 0x5c {
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<i]))
                switch byte {
                case 0x22: bytes += [0x5c, 0x22]
                case 0x5c: bytes += [0x5c, 0x5c]
                case 0x0a: bytes += [0x5c, 0x6e]
                case 0x0d: bytes += [0x5c, 0x72]
                case 0x09: bytes += [0x5c, 0x74]
                default:
                    let hex: [UInt8] = Array("0123456789abcdef".utf8)
                    bytes += [0x5c, 0x75, 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 0xf)]]
                }
                start = i + 1
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start...]))
        }
        bytes.append(0x22)
    }

    /// An RFC 3339 UTC timestamp as a JSON string, digits written straight into the buffer
    /// (the same text as `Timestamp.rfc3339`, without building strings per row).
    public mutating func timestamp(_ seconds: Int64) {
        let (y, m, d, secs) = Timestamp.civil(seconds)
        bytes.append(0x22)
        if (1000...9999).contains(y) {
            digits(y, 4)
        } else {
            raw(String(y))
        }
        bytes.append(UInt8(ascii: "-")); digits(m, 2); bytes.append(UInt8(ascii: "-")); digits(d, 2)
        bytes.append(UInt8(ascii: "T")); digits(secs / 3600, 2); bytes.append(UInt8(ascii: ":"))
        digits(secs % 3600 / 60, 2); bytes.append(UInt8(ascii: ":")); digits(secs % 60, 2)
        bytes.append(UInt8(ascii: "Z")); bytes.append(0x22)
    }

    private mutating func digits(_ value: Int64, _ width: Int) {
        var divisor: Int64 = 1
        for _ in 1..<width { divisor *= 10 }
        var v = value
        while divisor > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8(v / divisor))
            v %= divisor
            divisor /= 10
        }
    }

    public mutating func optionalString(_ s: String?) {
        if let s { string(s) } else { raw("null") }
    }
}
