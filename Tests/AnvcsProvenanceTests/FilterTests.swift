import AnvcsProvenance
import Testing

@Suite struct FilterTests {
    @Test(arguments: [
        ("agent:foo", true), ("agent:foo,bar model:gpt-4o*", true), ("tests:pass", true), ("tests:fail", true),
        ("path:src/**", true), ("author:jane", true), ("  agent:a  ", true),
        ("agnt:foo", false), ("agent", false), ("agent:", false), ("tests:maybe", false), ("agent:a,", false),
    ])
    func grammar(expression: String, valid: Bool) {
        var f = LogFilter()
        if valid {
            #expect(throws: Never.self) { try f.add(expression: expression) }
        } else {
            #expect(throws: FilterError.self) { try f.add(expression: expression) }
        }
    }

    @Test func errorPointsAtTheBadToken() {
        var f = LogFilter()
        do {
            try f.add(expression: "agent:a tests:maybe")
            Issue.record("must throw")
        } catch {
            #expect(error.token == "tests:maybe")
            #expect(error.column == 9)
            #expect(!error.description.contains("\n"))
        }
    }

    @Test func andAcrossKindsOrWithin() throws {
        var f = LogFilter()
        try f.add(expression: "agent:a,b")
        try f.add(expression: "model:gpt-4o*")
        #expect(f.matches(agent: "a", model: "gpt-4o-mini", testsPassed: nil, author: "x", time: 0))
        #expect(f.matches(agent: "b", model: "gpt-4o", testsPassed: nil, author: "x", time: 0))
        #expect(!f.matches(agent: "c", model: "gpt-4o", testsPassed: nil, author: "x", time: 0))
        #expect(!f.matches(agent: "a", model: "claude", testsPassed: nil, author: "x", time: 0))
        var t = LogFilter()
        try t.add(expression: "tests:fail")
        #expect(t.matches(agent: nil, model: nil, testsPassed: false, author: "", time: 0))
        #expect(!t.matches(agent: nil, model: nil, testsPassed: true, author: "", time: 0))
        #expect(!t.matches(agent: nil, model: nil, testsPassed: nil, author: "", time: 0))
    }

    @Test func globs() {
        #expect(Glob.matches("src/**", "src/a/b.c", pathMode: true))
        #expect(Glob.matches("src/*.c", "src/b.c", pathMode: true))
        #expect(!Glob.matches("src/*.c", "src/a/b.c", pathMode: true))
        #expect(Glob.matches("**/*.py", "a/b/c.py", pathMode: true))
        #expect(Glob.matches("docs", "docs/x.md", pathMode: true))
        #expect(Glob.matches("gpt-4o*", "gpt-4o-mini"))
        #expect(!Glob.matches("gpt-4o", "gpt-4o-mini"))
    }

    @Test func dates() {
        let now: Int64 = 1_767_225_600
        #expect(DateExpression.parse("2w", now: now) == now - 2 * 604_800)
        #expect(DateExpression.parse("3 days ago", now: now) == now - 3 * 86_400)
        #expect(DateExpression.parse("2.weeks.ago", now: now) == now - 2 * 604_800)
        #expect(DateExpression.parse("2026-01-01", now: now) == 1_767_225_600)
        #expect(DateExpression.parse("2026-01-01T01:00", now: now) == 1_767_229_200)
        #expect(DateExpression.parse("@5", now: now) == 5)
        #expect(DateExpression.parse("soonish", now: now) == nil)
    }
}
