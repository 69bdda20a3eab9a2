import AnvcsConfig
import AnvcsProvenance
import Foundation
import Testing

@Suite struct JSONValueTests {
    @Test func roundTripsKeepingUnknownKeysAndOrder() throws {
        let text = #"{"schema":"anvcs/provenance/2","z":1,"a":[true,null,"\u00e9\n"],"nested":{"k":-2.5e3}}"#
        let v = try JSONValue.parse(text)
        #expect(v.serialized() == #"{"schema":"anvcs/provenance/2","z":1,"a":[true,null,"é\n"],"nested":{"k":-2500}}"#)
        #expect(try JSONValue.parse(v.serialized(pretty: true)) == v)
    }

    @Test func rejectsMalformedJSONWithAnOffset() {
        for bad in ["{", "{\"a\":}", "[1,]", "\"open", "{\"a\" 1}", "tru", "{\"a\":1} x"] {
            #expect(throws: JSONParseError.self, "\(bad)") { try JSONValue.parse(bad) }
        }
    }

    @Test func parsesConcatenatedNotes() throws {
        let docs = try JSONValue.parseSequence("{\"a\":1}\n\n{\"b\":2}\n")
        #expect(docs.count == 2)
    }
}

@Suite struct RedactionTests {
    @Test(arguments: [
        ("key AKIAIOSFODNN7EXAMPLE here", "aws-access-key"),
        ("token ghp_abcdefghijklmnopqrstuvwxyz0123456789", "github-token"),
        ("github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", "github-token"),
        ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.signature", "bearer-token"),
        ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "aws-secret-key"),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nabc\n-----END RSA PRIVATE KEY-----\nafter", "private-key"),
        ("use sk-ant-api03-abcdefghijklmnopqrstuvwxyz please", "api-key"),
    ])
    func redactsKnownShapes(input: String, kind: String) {
        let r = Redaction.redact(input)
        #expect(r.found == [kind])
        #expect(r.text.contains("[REDACTED:\(kind)]"))
        for secret in ["AKIAIOSFODNN7EXAMPLE", "ghp_abc", "eyJhbGci", "wJalrXUt", "MIIEow", "sk-ant-api03"] {
            #expect(!r.text.contains(secret))
        }
    }

    @Test func leavesOrdinaryTextAlone() {
        let text = "Refactor the AKIA parser; bearer of good news; sk-short; ghp_ is a prefix"
        let r = Redaction.redact(text)
        #expect(r.found.isEmpty)
        #expect(r.text == text)
    }

    /// A five-megabyte prompt full of near-misses: only the real key is found, the text is kept
    /// otherwise intact. (How fast is a benchmark's question, never a test's.)
    @Test func aFiveMegabytePromptOfNearMisses() {
        let big = String(repeating: "lorem ipsum dolor sit amet AKIA ", count: 160_000) + "AKIAIOSFODNN7EXAMPLE"
        let r = Redaction.redact(big)
        #expect(r.found == ["aws-access-key"])
        #expect(r.text.hasPrefix("lorem ipsum dolor sit amet AKIA lorem"))
        #expect(!r.text.contains("AKIAIOSFODNN7EXAMPLE"))
        #expect(r.text.utf8.count >= big.utf8.count - 20)
    }
}

@Suite struct ReportTests {
    @Test func junitCountsCases() throws {
        let xml = """
        <?xml version="1.0"?>
        <testsuites><testsuite name="s" tests="4">
          <testcase name="a"/>
          <testcase name="b"><failure message="boom">trace</failure></testcase>
          <testcase name="c"><skipped/></testcase>
          <testcase name="d"><error type="E"/></testcase>
          <!-- <testcase name="commented"/> -->
        </testsuite></testsuites>
        """
        let s = try ReportParser.junit(xml)
        #expect(s == TestSummary(total: 4, failed: 1, errors: 1, skipped: 1))
        #expect(s.passed == 1)
        #expect(!s.allPassed)
    }

    @Test func junitSuiteTotalsOnly() throws {
        let s = try ReportParser.junit(#"<testsuite tests="10" failures="0" errors="0" skipped="2"></testsuite>"#)
        #expect(s.total == 10 && s.allPassed)
    }

    @Test func notAReport() {
        #expect(throws: ReportError.self) { try ReportParser.junit("<html></html>") }
        #expect(throws: ReportError.self) { try ReportParser.lcov("garbage") }
        #expect(throws: ReportError.self) { try ReportParser.cobertura("<x/>") }
    }

    @Test func coverageFormats() throws {
        #expect(try ReportParser.coverage(#"<coverage line-rate="0.8734" branch-rate="0.5">"#, path: "c.xml") == 87.34)
        #expect(try ReportParser.coverage("SF:a.c\nLF:10\nLH:5\nend_of_record\nSF:b.c\nLF:10\nLH:10\nend_of_record\n", path: "l.info") == 75)
    }
}

@Suite struct NoteTests {
    @Test func mergeKeepsBothSidesAndRecordsConflicts() throws {
        let a = try ProvenanceNote.parse(#"{"schema":"anvcs/provenance/1","commit_id":"c","created_at":"2026-01-01T00:00:00Z","ai_meta":{"model":"m1","artifacts":[{"key":"x"}],"prompt":"p"}}"#)
        let b = try ProvenanceNote.parse(#"{"schema":"anvcs/provenance/1","commit_id":"c","created_at":"2026-01-02T00:00:00Z","ai_meta":{"model":"m2","artifacts":[{"key":"y"}],"agent_id":"z"}}"#)
        let r = NoteMerge.merge(a.json, b.json)
        let merged = ProvenanceNote(json: r.merged)
        #expect(merged.model == "m2")
        #expect(merged.prompt == "p")
        #expect(merged.agentID == "z")
        #expect(merged.artifacts.count == 2)
        #expect(r.conflicts == ["ai_meta.model"])
        #expect(merged.createdAt == "2026-01-02T00:00:00Z")
        // Order of arrival does not change which scalar wins.
        let r2 = ProvenanceNote(json: NoteMerge.merge(b.json, a.json).merged)
        #expect(r2.model == "m2")
    }

    @Test func newerSchemaKeepsUnknownFields() throws {
        let text = #"{"schema":"anvcs/provenance/2","commit_id":"c","ai_meta":{"model":"m","future":{"x":1}},"signature":"abc"}"#
        var note = try ProvenanceNote.parse(text)
        #expect(note.isNewerSchema)
        note.setMeta("tests_passed", .bool(true))
        let again = try ProvenanceNote.parse(note.text)
        #expect(again.json["signature"] == .string("abc"))
        #expect(again.meta["future"]?["x"] == .number(1))
        #expect(again.testsPassed == true)
    }

    @Test func captureSourcesAndPrecedence() {
        let settings = SettingsLoader.load(repositoryRoot: nil, flags: ["agent.id": .scalar("cfg-agent")])
        var out = Capture.collect(environment: [:], session: nil, settings: settings, repositoryRoot: nil)
        #expect(out.provenance.agentID == "cfg-agent")
        #expect(out.provenance.sources["agent_id"] == "config")
        out = Capture.collect(environment: ["CLAUDECODE": "1", "ANTHROPIC_MODEL": "claude-x"], session: nil, settings: settings, repositoryRoot: nil)
        #expect(out.provenance.agentID == "claude-code" && out.provenance.model == "claude-x")
        let session = Session(id: "s", agentID: "sess-agent", model: "sess-model", prompt: "sess prompt", startedAt: "t")
        out = Capture.collect(environment: ["CLAUDECODE": "1"], session: session, settings: settings, repositoryRoot: nil)
        #expect(out.provenance.agentID == "sess-agent" && out.provenance.prompt == "sess prompt")
        #expect(out.provenance.agentTool == "claude-code")
        out = Capture.collect(environment: ["ANVCS_AGENT_ID": "env-agent", "ANVCS_FLAGS": "agent_id"], session: session, settings: settings, repositoryRoot: nil)
        #expect(out.provenance.agentID == "env-agent" && out.provenance.sources["agent_id"] == "flag")
    }

    @Test func promptPolicies() {
        let env = ["ANVCS_PROMPT": "secret plan ghp_abcdefghijklmnopqrstuvwxyz0123456789"]
        var s = SettingsLoader.load(repositoryRoot: nil, flags: ["provenance.prompt": .scalar("hash")])
        var p = Capture.collect(environment: env, session: nil, settings: s, repositoryRoot: nil).provenance
        #expect(p.prompt == nil && p.promptSHA256?.count == 64)
        s = SettingsLoader.load(repositoryRoot: nil, flags: ["provenance.prompt": .scalar("none")])
        p = Capture.collect(environment: env, session: nil, settings: s, repositoryRoot: nil).provenance
        #expect(p.prompt == nil && p.promptSHA256 == nil)
        s = SettingsLoader.load(repositoryRoot: nil)
        p = Capture.collect(environment: env, session: nil, settings: s, repositoryRoot: nil).provenance
        #expect(p.prompt == "secret plan [REDACTED:github-token]" && p.redacted == ["github-token"])
    }

    @Test func agentDetectionTable() {
        let cases: [([String: String], String?, String?)] = [
            (["CLAUDECODE": "1"], nil, "claude-code"), (["CODEX_SANDBOX": "seatbelt"], nil, "codex"),
            (["CURSOR_AGENT": "1"], nil, "cursor"), (["GEMINI_CLI": "1"], nil, "gemini-cli"),
            (["AIDER_MODEL": "gpt-4o"], nil, "aider"), ([:], "Jane (aider)", "aider"),
            (["COPILOT_AGENT_ID": "x"], nil, "copilot"), (["AI_AGENT": "devin@1"], nil, "devin@1"), ([:], "Jane", nil),
        ]
        for (env, author, tool) in cases {
            #expect(AgentDetection.detect(environment: env, authorName: author)?.tool == tool, "\(env) \(author ?? "")")
        }
    }

    @Test func timestamps() {
        #expect(Timestamp.rfc3339(0) == "1970-01-01T00:00:00Z")
        #expect(Timestamp.rfc3339(1_767_225_600) == "2026-01-01T00:00:00Z")
        #expect(Timestamp.rfc3339(951_782_400) == "2000-02-29T00:00:00Z")
    }

    /// `log --json` writes dates digit by digit; they must read exactly as `Timestamp.rfc3339`.
    @Test func jsonTimestampsMatchRFC3339() {
        for seconds: Int64 in [0, 59, 3_599, 86_399, 951_782_400, 1_767_225_599, 1_767_225_600, 4_102_444_799, -1, -86_401, 253_402_300_800] {
            var out = JSONOutput()
            out.timestamp(seconds)
            #expect(String(decoding: out.bytes, as: UTF8.self) == "\"" + Timestamp.rfc3339(seconds) + "\"", "\(seconds)")
        }
    }
}
