/// Removes well-known secret shapes from text before anything is stored: AWS access keys and
/// secret keys, GitHub tokens, private-key blocks, bearer tokens, and common API-key prefixes.
///
/// A single forward scan over the UTF-8 bytes (no regular expressions), so a 5 MB prompt
/// costs milliseconds. Each secret becomes `[REDACTED:<kind>]`.
public enum Redaction {
    public struct Result: Sendable {
        public let text: String
        /// The kinds of secrets found, in order of appearance.
        public let found: [String]
    }

    public static func redact(_ text: String) -> Result {
        let b = Array(text.utf8)
        var out = [UInt8]()
        out.reserveCapacity(b.count)
        var found: [String] = []
        var i = 0
        let n = b.count
        func isWord(_ c: UInt8) -> Bool { isAlnum(c) || c == UInt8(ascii: "_") || c == UInt8(ascii: "-") }
        func emit(_ kind: String) { out.append(contentsOf: Array("[REDACTED:\(kind)]".utf8)); found.append(kind) }
        func has(_ prefix: String, at j: Int, caseInsensitive: Bool = false) -> Bool {
            let p = Array(prefix.utf8)
            guard j + p.count <= n else { return false }
            for k in 0..<p.count {
                let c = b[j + k]
                if caseInsensitive { if lower(c) != lower(p[k]) { return false } } else if c != p[k] { return false }
            }
            return true
        }
        /// Length of the run of token characters starting at j.
        func run(from j: Int, _ allowed: (UInt8) -> Bool) -> Int {
            var k = j
            while k < n, allowed(b[k]) { k += 1 }
            return k - j
        }
        let tokenChar: (UInt8) -> Bool = { isAlnum($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
        let base64Char: (UInt8) -> Bool = { isAlnum($0) || $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "=") }

        while i < n {
            let c = b[i]
            let boundary = i == 0 || !isWord(b[i - 1])
            // -----BEGIN ... PRIVATE KEY----- ... -----END ... PRIVATE KEY-----
            if c == UInt8(ascii: "-"), has("-----BEGIN ", at: i) {
                let lineEnd = (i..<n).first(where: { b[$0] == 0x0a }) ?? n
                let header = String(decoding: b[i..<lineEnd], as: UTF8.self)
                if header.contains("PRIVATE KEY-----") {
                    var j = lineEnd
                    var end = n
                    while j < n {
                        if b[j] == UInt8(ascii: "-"), has("-----END ", at: j) {
                            var k = j + 9
                            while k < n, b[k] != 0x0a { if has("-----", at: k) && k > j + 9 { k += 5; break }; k += 1 }
                            end = k
                            break
                        }
                        j += 1
                    }
                    emit("private-key")
                    i = end
                    continue
                }
            }
            if boundary {
                // AWS access key ids: AKIA/ASIA/ABIA/ACCA + 16 upper-case letters or digits.
                if c == UInt8(ascii: "A"), has("AKIA", at: i) || has("ASIA", at: i) || has("ABIA", at: i) || has("ACCA", at: i) {
                    let r = run(from: i + 4) { ($0 >= 0x41 && $0 <= 0x5a) || ($0 >= 0x30 && $0 <= 0x39) }
                    if r == 16, i + 20 == n || !isWord(b[i + 20]) { emit("aws-access-key"); i += 20; continue }
                }
                // GitHub tokens: ghp_, gho_, ghu_, ghs_, ghr_ and fine-grained github_pat_.
                if c == UInt8(ascii: "g"), i + 4 < n, b[i + 1] == UInt8(ascii: "h"), b[i + 3] == UInt8(ascii: "_"),
                   "pousr".utf8.contains(b[i + 2]) {
                    let r = run(from: i + 4, { isAlnum($0) })
                    if r >= 30 { emit("github-token"); i += 4 + r; continue }
                }
                if c == UInt8(ascii: "g"), has("github_pat_", at: i) {
                    let r = run(from: i + 11, tokenChar)
                    if r >= 22 { emit("github-token"); i += 11 + r; continue }
                }
                // OpenAI / Anthropic style keys (sk-..., sk-ant-...), Slack tokens, Google API keys.
                if c == UInt8(ascii: "s"), has("sk-", at: i) {
                    let r = run(from: i + 3, tokenChar)
                    if r >= 20 { emit("api-key"); i += 3 + r; continue }
                }
                if c == UInt8(ascii: "x"), has("xox", at: i), i + 4 < n, "baprs".utf8.contains(b[i + 3]), b[i + 4] == UInt8(ascii: "-") {
                    let r = run(from: i + 5, tokenChar)
                    if r >= 10 { emit("slack-token"); i += 5 + r; continue }
                }
                if c == UInt8(ascii: "A"), has("AIza", at: i) {
                    let r = run(from: i + 4, tokenChar)
                    if r >= 35 { emit("google-api-key"); i += 4 + r; continue }
                }
                // Authorization: Bearer <token>
                if c == UInt8(ascii: "B") || c == UInt8(ascii: "b"), has("bearer", at: i, caseInsensitive: true) {
                    var j = i + 6
                    let spaces = run(from: j) { $0 == 0x20 || $0 == 0x09 }
                    if spaces > 0 {
                        j += spaces
                        let r = run(from: j) { base64Char($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "~") }
                        if r >= 16 {
                            out.append(contentsOf: b[i..<j])
                            emit("bearer-token")
                            i = j + r
                            continue
                        }
                    }
                }
                // aws_secret_access_key = <40 chars>  (also AWS_SECRET_ACCESS_KEY, "SecretAccessKey": "...")
                if c == UInt8(ascii: "a") || c == UInt8(ascii: "A") || c == UInt8(ascii: "S") || c == UInt8(ascii: "s") {
                    for label in ["aws_secret_access_key", "secretaccesskey", "secret_access_key"] where has(label, at: i, caseInsensitive: true) {
                        var j = i + label.utf8.count
                        j += run(from: j) { $0 == 0x20 || $0 == 0x22 || $0 == 0x27 || $0 == 0x09 }
                        guard j < n, b[j] == UInt8(ascii: "=") || b[j] == UInt8(ascii: ":") else { break }
                        j += 1
                        j += run(from: j) { $0 == 0x20 || $0 == 0x22 || $0 == 0x27 || $0 == 0x09 }
                        let r = run(from: j, base64Char)
                        if r >= 30 {
                            out.append(contentsOf: b[i..<j])
                            emit("aws-secret-key")
                            i = j + r
                        }
                        break
                    }
                    if i < n, b[i] != c { continue }
                }
            }
            out.append(c)
            i += 1
        }
        return Result(text: found.isEmpty ? text : String(decoding: out, as: UTF8.self), found: found)
    }
}

@inline(__always) func isAlnum(_ c: UInt8) -> Bool {
    (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)
}
@inline(__always) func lower(_ c: UInt8) -> UInt8 { (c >= 0x41 && c <= 0x5a) ? c + 32 : c }
