/// Expands `${VAR}` and `${VAR:-default}` in a configuration value from `environment`.
/// A variable that is unset (or empty, for the `:-` form) expands to the default, or to nothing.
/// `$$` stands for a literal `$`. An unterminated `${` is an error, never a silent literal.
public func expandVariables(_ text: String, environment: [String: String]) throws(ExpansionError) -> String {
    guard text.contains("$") else { return text }
    var out = ""
    var i = text.startIndex
    while i < text.endIndex {
        let c = text[i]
        guard c == "$" else { out.append(c); i = text.index(after: i); continue }
        let next = text.index(after: i)
        if next < text.endIndex, text[next] == "$" { out.append("$"); i = text.index(after: next); continue }
        guard next < text.endIndex, text[next] == "{" else { out.append(c); i = next; continue }
        guard let close = text[next...].firstIndex(of: "}") else {
            throw ExpansionError(reason: "unterminated ${ in '\(text)'")
        }
        let body = text[text.index(after: next)..<close]
        let name: Substring
        var fallback: Substring?
        if let sep = body.range(of: ":-") {
            name = body[..<sep.lowerBound]
            fallback = body[sep.upperBound...]
        } else {
            name = body
        }
        guard !name.isEmpty, name.allSatisfy({ $0 == "_" || $0.isLetter || $0.isNumber }) else {
            throw ExpansionError(reason: "'${\(body)}' is not a variable reference (use ${NAME} or ${NAME:-default})")
        }
        let value = environment[String(name)]
        if let value, !value.isEmpty || fallback == nil {
            out += value
        } else if let fallback {
            out += fallback
        }
        i = text.index(after: close)
    }
    return out
}

public struct ExpansionError: Error, Sendable {
    public let reason: String
}
