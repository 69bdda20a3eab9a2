/// The provenance note of one commit, as stored in `refs/notes/anvcs`:
/// `{"schema": "anvcs/provenance/1", "commit_id": ..., "ai_meta": {...}}`.
///
/// It wraps the JSON it was read from, so keys this version does not know (a newer schema)
/// are kept verbatim when the note is changed and written back.
public struct ProvenanceNote: Sendable, Equatable {
    public static let schema = "anvcs/provenance/1"
    public static let notesRef = "refs/notes/anvcs"

    public var json: JSONObject

    public init(json: JSONObject) { self.json = json }

    /// A note for `commit` from captured provenance.
    public init(commit: String, provenance p: Provenance, createdAt: String) {
        var meta = JSONObject()
        if let v = p.prompt { meta["prompt"] = .string(v) }
        if let v = p.promptSHA256 { meta["prompt_sha256"] = .string(v) }
        if let v = p.model { meta["model"] = .string(v) }
        if let v = p.agentID { meta["agent_id"] = .string(v) }
        if let v = p.agentTool { meta["agent_tool"] = .string(v) }
        if let v = p.testsPassed { meta["tests_passed"] = .bool(v) }
        if let t = p.tests {
            meta["tests"] = .object(JSONObject([
                ("total", .number(Double(t.total))), ("passed", .number(Double(t.passed))),
                ("failed", .number(Double(t.failed))), ("errors", .number(Double(t.errors))),
                ("skipped", .number(Double(t.skipped))),
            ]))
        }
        if let v = p.testReportRef { meta["test_report_ref"] = .string(v) }
        if let v = p.coverage { meta["coverage"] = .number(v) }
        if !p.env.isEmpty {
            meta["env"] = .object(JSONObject(p.env.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.string($0.value)) }))
        }
        if let v = p.sessionID { meta["session_id"] = .string(v) }
        meta["artifacts"] = .array([])
        if !p.sources.isEmpty {
            meta["sources"] = .object(JSONObject(p.sources.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.string($0.value)) }))
        }
        if !p.redacted.isEmpty { meta["redacted"] = .array(p.redacted.map(JSONValue.string)) }
        json = JSONObject([
            ("schema", .string(ProvenanceNote.schema)),
            ("commit_id", .string(commit)),
            ("created_at", .string(createdAt)),
            ("ai_meta", .object(meta)),
        ])
    }

    /// Reads a stored note. Git's `concatenate` rewrite mode may have joined several JSON
    /// documents; they are merged in order (later wins). Throws when the text is not JSON.
    public static func parse(_ text: String) throws(JSONParseError) -> ProvenanceNote {
        let docs = try JSONValue.parseSequence(text)
        var merged: JSONObject?
        for doc in docs {
            guard case .object(let o) = doc else { throw JSONParseError(offset: 0, reason: "a provenance note must be a JSON object") }
            merged = merged.map { NoteMerge.merge($0, o).merged } ?? o
        }
        guard let merged else { throw JSONParseError(offset: 0, reason: "empty note") }
        return ProvenanceNote(json: merged)
    }

    public var text: String { JSONValue.object(json).serialized(pretty: true) + "\n" }

    // MARK: fields (read what is known; absent means empty metadata)

    public var schemaName: String? { json["schema"]?.stringValue }
    public var commitID: String? { json["commit_id"]?.stringValue }
    public var createdAt: String? { json["created_at"]?.stringValue }
    public var meta: JSONObject { json["ai_meta"]?.objectValue ?? JSONObject() }
    public var prompt: String? { meta["prompt"]?.stringValue }
    public var promptSHA256: String? { meta["prompt_sha256"]?.stringValue }
    public var model: String? { meta["model"]?.stringValue }
    public var agentID: String? { meta["agent_id"]?.stringValue }
    public var agentTool: String? { meta["agent_tool"]?.stringValue }
    public var testsPassed: Bool? { meta["tests_passed"]?.boolValue }
    public var coverage: Double? { meta["coverage"]?.numberValue }
    public var testReportRef: String? { meta["test_report_ref"]?.stringValue }
    public var artifacts: [JSONValue] { meta["artifacts"]?.arrayValue ?? [] }
    public var env: JSONObject { meta["env"]?.objectValue ?? JSONObject() }
    /// Commits this one was rewritten from (amend, rebase, squash, cherry-pick).
    public var rewrittenFrom: [String] { json["rewritten_from"]?.arrayValue?.compactMap(\.stringValue) ?? [] }
    public var rewriteKind: String? { json["rewrite"]?.stringValue }
    /// Whether this schema is newer than the one this version writes.
    public var isNewerSchema: Bool {
        guard let s = schemaName, s.hasPrefix("anvcs/provenance/"), let v = Int(s.dropFirst("anvcs/provenance/".count)) else { return false }
        return v > 1
    }

    public mutating func setMeta(_ key: String, _ value: JSONValue?) {
        var m = meta
        m[key] = value
        json["ai_meta"] = .object(m)
    }
}

/// Merges two notes of the same commit field by field, never dropping either:
/// objects merge recursively, lists become their union (first-seen order), and for scalars
/// that differ the note with the later `created_at` wins while both values are kept in
/// `conflicts`.
public enum NoteMerge {
    public struct Result: Sendable {
        public var merged: JSONObject
        public var conflicts: [String]
    }

    public static func merge(_ a: JSONObject, _ b: JSONObject) -> Result {
        let aTime = a["created_at"]?.stringValue ?? ""
        let bTime = b["created_at"]?.stringValue ?? ""
        let bWins = bTime >= aTime
        var conflicts: [JSONValue] = a["conflicts"]?.arrayValue ?? []
        for c in b["conflicts"]?.arrayValue ?? [] where !conflicts.contains(c) { conflicts.append(c) }
        var paths: [String] = []
        var merged = mergeObjects(a, b, bWins: bWins, path: "", conflicts: &conflicts, paths: &paths)
        merged["created_at"] = .string(max(aTime, bTime))
        if aTime.isEmpty && bTime.isEmpty { merged["created_at"] = nil }
        merged["conflicts"] = conflicts.isEmpty ? nil : .array(conflicts)
        return Result(merged: merged, conflicts: paths)
    }

    /// `x` then the items of `y` it lacks. Long lists (a push's thousand pins in one note) are
    /// matched by their serialized text, which is equal exactly when the values are (objects keep
    /// their key order, and equality follows it), instead of comparing every pair.
    static func union(_ x: [JSONValue], _ y: [JSONValue]) -> [JSONValue] {
        var union = x
        if x.count + y.count <= 32 {
            for item in y where !union.contains(item) { union.append(item) }
            return union
        }
        var seen = Set(x.map { $0.serialized() })
        for item in y where seen.insert(item.serialized()).inserted { union.append(item) }
        return union
    }

    static func mergeObjects(_ a: JSONObject, _ b: JSONObject, bWins: Bool, path: String,
                             conflicts: inout [JSONValue], paths: inout [String]) -> JSONObject {
        var out = a
        for (key, bValue) in b where key != "conflicts" && key != "created_at" {
            let p = path.isEmpty ? key : path + "." + key
            guard let aValue = a[key] else { out[key] = bValue; continue }
            if aValue == bValue { continue }
            switch (aValue, bValue) {
            case (.object(let x), .object(let y)):
                out[key] = .object(mergeObjects(x, y, bWins: bWins, path: p, conflicts: &conflicts, paths: &paths))
            case (.array(let x), .array(let y)):
                out[key] = .array(union(x, y))
            default:
                if p == "commit_id" || p == "schema" { out[key] = bWins ? bValue : aValue; continue }
                out[key] = bWins ? bValue : aValue
                let record = JSONValue.object(JSONObject([("field", .string(p)), ("values", .array([aValue, bValue]))]))
                if !conflicts.contains(record) { conflicts.append(record) }
                paths.append(p)
            }
        }
        return out
    }
}
