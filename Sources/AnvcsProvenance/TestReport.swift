/// Test results read from a JUnit XML report.
public struct TestSummary: Sendable, Equatable {
    public var total: Int
    public var failed: Int
    public var errors: Int
    public var skipped: Int
    public var passed: Int { max(0, total - failed - errors - skipped) }
    /// All tests that ran passed (and at least one test ran).
    public var allPassed: Bool { failed == 0 && errors == 0 && total > skipped }

    public init(total: Int, failed: Int, errors: Int, skipped: Int) {
        self.total = total
        self.failed = failed
        self.errors = errors
        self.skipped = skipped
    }
}

/// A report that could not be read: which file and why.
public struct ReportError: Error, Sendable, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "cannot read report \(path): \(reason)" }
}

/// Parsers for the report formats test runners write. They scan tags and attributes only:
/// reports come from many tools and are often slightly malformed, and we need counts, not a DOM.
public enum ReportParser {
    /// JUnit XML (`<testsuites>`/`<testsuite>` with `<testcase>` children).
    public static func junit(_ xml: String, path: String = "report") throws(ReportError) -> TestSummary {
        let tags = XMLTags(xml)
        guard tags.contains(where: { $0.name == "testsuite" || $0.name == "testsuites" }) else {
            throw ReportError(path: path, reason: "not a JUnit XML report (no <testsuite> element)")
        }
        var summary = TestSummary(total: 0, failed: 0, errors: 0, skipped: 0)
        var inCase = false
        var caseOutcome = 0  // 0 pass, 1 failure, 2 error, 3 skipped
        var sawCase = false
        for tag in tags {
            switch (tag.name, tag.kind) {
            case ("testcase", .open):
                inCase = true; caseOutcome = 0; sawCase = true; summary.total += 1
            case ("testcase", .selfClosing):
                sawCase = true; summary.total += 1
            case ("testcase", .close):
                if inCase {
                    switch caseOutcome {
                    case 1: summary.failed += 1
                    case 2: summary.errors += 1
                    case 3: summary.skipped += 1
                    default: break
                    }
                }
                inCase = false
            case ("failure", _) where inCase: caseOutcome = max(caseOutcome == 3 ? 0 : caseOutcome, 1)
            case ("error", _) where inCase: caseOutcome = 2
            case ("skipped", _) where inCase: if caseOutcome == 0 { caseOutcome = 3 }
            default: break
            }
        }
        if !sawCase {
            // Only suite totals: sum the innermost <testsuite> attributes.
            for tag in tags where tag.name == "testsuite" && tag.kind != .close {
                summary.total += Int(tag.attributes["tests"] ?? "") ?? 0
                summary.failed += Int(tag.attributes["failures"] ?? "") ?? 0
                summary.errors += Int(tag.attributes["errors"] ?? "") ?? 0
                summary.skipped += Int(tag.attributes["skipped"] ?? tag.attributes["disabled"] ?? "") ?? 0
            }
        }
        return summary
    }

    /// Line coverage in percent from Cobertura XML (`<coverage line-rate="0.87">`).
    public static func cobertura(_ xml: String, path: String = "report") throws(ReportError) -> Double {
        guard let root = XMLTags(xml).first(where: { $0.name == "coverage" }) else {
            throw ReportError(path: path, reason: "not a Cobertura XML report (no <coverage> element)")
        }
        if let rate = root.attributes["line-rate"].flatMap(Double.init), rate >= 0, rate <= 1 {
            return (rate * 10_000).rounded() / 100
        }
        if let covered = root.attributes["lines-covered"].flatMap(Double.init),
           let valid = root.attributes["lines-valid"].flatMap(Double.init), valid > 0 {
            return (covered / valid * 10_000).rounded() / 100
        }
        throw ReportError(path: path, reason: "<coverage> has no line-rate")
    }

    /// Line coverage in percent from an lcov tracefile (sum of LH over sum of LF).
    public static func lcov(_ text: String, path: String = "report") throws(ReportError) -> Double {
        var found = 0.0, hit = 0.0, records = 0
        for line in text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            if line.hasPrefix("LF:") { found += Double(line.dropFirst(3)) ?? 0; records += 1 }
            else if line.hasPrefix("LH:") { hit += Double(line.dropFirst(3)) ?? 0 }
        }
        guard records > 0 else { throw ReportError(path: path, reason: "not an lcov tracefile (no LF: lines)") }
        guard found > 0 else { return 0 }
        return (hit / found * 10_000).rounded() / 100
    }

    /// Coverage from a file whose format is recognised by its content.
    public static func coverage(_ text: String, path: String) throws(ReportError) -> Double {
        if text.contains("<coverage") { return try cobertura(text, path: path) }
        return try lcov(text, path: path)
    }
}

/// A flat list of the tags in an XML text: enough structure for reports.
struct XMLTag {
    enum Kind { case open, close, selfClosing }
    let name: String
    let kind: Kind
    let attributes: [String: String]
}

func XMLTags(_ xml: String) -> [XMLTag] {
    let b = Array(xml.utf8)
    var tags: [XMLTag] = []
    var i = 0
    while i < b.count {
        guard b[i] == UInt8(ascii: "<") else { i += 1; continue }
        var j = i + 1
        if j < b.count, b[j] == UInt8(ascii: "!") || b[j] == UInt8(ascii: "?") {
            // comment, CDATA, doctype or declaration: skip to its end
            let closer: [UInt8] = b[j...].starts(with: Array("!--".utf8)) ? Array("-->".utf8)
                : b[j...].starts(with: Array("![CDATA[".utf8)) ? Array("]]>".utf8) : [UInt8(ascii: ">")]
            var k = j
            while k + closer.count <= b.count, !b[k..<k + closer.count].elementsEqual(closer) { k += 1 }
            i = k + closer.count
            continue
        }
        var kind = XMLTag.Kind.open
        if j < b.count, b[j] == UInt8(ascii: "/") { kind = .close; j += 1 }
        let nameStart = j
        while j < b.count, b[j] != 0x20, b[j] != UInt8(ascii: ">"), b[j] != UInt8(ascii: "/"), b[j] != 0x0a, b[j] != 0x09, b[j] != 0x0d { j += 1 }
        var name = String(decoding: b[nameStart..<j], as: UTF8.self)
        if let colon = name.lastIndex(of: ":") { name = String(name[name.index(after: colon)...]) }
        var attributes: [String: String] = [:]
        while j < b.count, b[j] != UInt8(ascii: ">") {
            if b[j] == UInt8(ascii: "/") { kind = .selfClosing; j += 1; continue }
            if b[j] == 0x20 || b[j] == 0x0a || b[j] == 0x09 || b[j] == 0x0d { j += 1; continue }
            let keyStart = j
            while j < b.count, b[j] != UInt8(ascii: "="), b[j] != UInt8(ascii: ">"), b[j] != 0x20 { j += 1 }
            let key = String(decoding: b[keyStart..<j], as: UTF8.self)
            guard j < b.count, b[j] == UInt8(ascii: "=") else { continue }
            j += 1
            guard j < b.count, b[j] == 0x22 || b[j] == 0x27 else { continue }
            let quote = b[j]
            j += 1
            let valueStart = j
            while j < b.count, b[j] != quote { j += 1 }
            attributes[key] = String(decoding: b[valueStart..<min(j, b.count)], as: UTF8.self)
            j += 1
        }
        if !name.isEmpty { tags.append(XMLTag(name: name, kind: kind, attributes: attributes)) }
        i = j + 1
    }
    return tags
}
