import AnvcsMerge
import AnvcsMergeSwift
import Testing

/// A marked fixture: three versions and what the merge must give (nil: a conflict must remain).
struct Fixture: CustomTestStringConvertible, Sendable {
    var name: String
    var path: String
    var base: String
    var ours: String
    var theirs: String
    var expected: String?
    var testDescription: String { name }
}

let fixtures: [Fixture] = [
    Fixture(name: "python: both add a function at the end", path: "m.py",
            base: "import os\n\n\ndef a():\n    return 1\n",
            ours: "import os\n\n\ndef a():\n    return 1\n\n\ndef b():\n    return 2\n",
            theirs: "import os\n\n\ndef a():\n    return 1\n\n\ndef c():\n    return 3\n",
            expected: "import os\n\n\ndef a():\n    return 1\n\n\ndef b():\n    return 2\n\n\ndef c():\n    return 3\n"),
    Fixture(name: "python: both add an import", path: "m.py",
            base: "import os\nimport sys\n\nx = 1\n",
            ours: "import os\nimport re\nimport sys\n\nx = 1\n",
            theirs: "import os\nimport json\nimport sys\n\nx = 1\n",
            expected: "import os\nimport re\nimport json\nimport sys\n\nx = 1\n"),
    Fixture(name: "python: both edit the same function differently", path: "m.py",
            base: "def a():\n    return 1\n",
            ours: "def a():\n    return 2\n",
            theirs: "def a():\n    return 3\n",
            expected: nil),
    Fixture(name: "python: methods added to a class on both sides", path: "m.py",
            base: "class A:\n    def f(self):\n        return 1\n",
            ours: "class A:\n    def f(self):\n        return 1\n\n    def g(self):\n        return 2\n",
            theirs: "class A:\n    def f(self):\n        return 1\n\n    def h(self):\n        return 3\n",
            expected: "class A:\n    def f(self):\n        return 1\n\n    def g(self):\n        return 2\n\n    def h(self):\n        return 3\n"),
    Fixture(name: "python: __all__ entries added on both sides", path: "m.py",
            base: "__all__ = [\n    \"a\",\n]\n",
            ours: "__all__ = [\n    \"a\",\n    \"b\",\n]\n",
            theirs: "__all__ = [\n    \"a\",\n    \"c\",\n]\n",
            expected: "__all__ = [\n    \"a\",\n    \"b\",\n    \"c\",\n]\n"),
    Fixture(name: "json: both add a key to package.json", path: "package.json",
            base: "{\n  \"name\": \"x\",\n  \"dependencies\": {\n    \"a\": \"1\"\n  }\n}\n",
            ours: "{\n  \"name\": \"x\",\n  \"dependencies\": {\n    \"a\": \"1\",\n    \"b\": \"2\"\n  }\n}\n",
            theirs: "{\n  \"name\": \"x\",\n  \"dependencies\": {\n    \"a\": \"1\",\n    \"c\": \"3\"\n  }\n}\n",
            expected: "{\n  \"name\": \"x\",\n  \"dependencies\": {\n    \"a\": \"1\",\n    \"b\": \"2\",\n    \"c\": \"3\"\n  }\n}\n"),
    Fixture(name: "json: same key, different values", path: "a.json",
            base: "{\n  \"v\": 1\n}\n", ours: "{\n  \"v\": 2\n}\n", theirs: "{\n  \"v\": 3\n}\n", expected: nil),
    Fixture(name: "yaml: both add a top-level key", path: "c.yaml",
            base: "name: x\nsteps:\n  - a\n",
            ours: "name: x\nsteps:\n  - a\nours: 1\n",
            theirs: "name: x\nsteps:\n  - a\ntheirs: 2\n",
            expected: "name: x\nsteps:\n  - a\nours: 1\ntheirs: 2\n"),
    Fixture(name: "yaml: nested mapping keys added", path: "c.yml",
            base: "jobs:\n  build:\n    runs-on: x\n",
            ours: "jobs:\n  build:\n    runs-on: x\n  lint:\n    runs-on: y\n",
            theirs: "jobs:\n  build:\n    runs-on: x\n  test:\n    runs-on: z\n",
            expected: "jobs:\n  build:\n    runs-on: x\n  lint:\n    runs-on: y\n  test:\n    runs-on: z\n"),
    Fixture(name: "typescript: both add an import and an export", path: "a.ts",
            base: "import { a } from './a';\n\nexport function f() {\n  return a;\n}\n",
            ours: "import { a } from './a';\nimport { b } from './b';\n\nexport function f() {\n  return a;\n}\n\nexport function g() {\n  return b;\n}\n",
            theirs: "import { a } from './a';\nimport { c } from './c';\n\nexport function f() {\n  return a;\n}\n\nexport function h() {\n  return c;\n}\n",
            expected: "import { a } from './a';\nimport { b } from './b';\nimport { c } from './c';\n\nexport function f() {\n  return a;\n}\n\nexport function g() {\n  return b;\n}\n\nexport function h() {\n  return c;\n}\n"),
    Fixture(name: "typescript: both add a re-export to a sorted index", path: "index.ts",
            base: "export * from './animations';\nexport * from './dom';\nexport * from './utils';\n",
            ours: "export * from './animations';\nexport * from './dom';\nexport * from './globals';\nexport * from './utils';\n",
            theirs: "export * from './animations';\nexport * from './dom';\nexport * from './environment';\nexport * from './utils';\n",
            expected: "export * from './animations';\nexport * from './dom';\nexport * from './environment';\nexport * from './globals';\nexport * from './utils';\n"),
    Fixture(name: "typescript: a renamed re-export and a new one land in sorted order", path: "index.ts",
            base: "export * from './dom';\nexport * from './environment';\nexport * from './keyed-each';\nexport * from './loop';\n",
            ours: "export * from './dom';\nexport * from './environment';\nexport * from './keyed_each';\nexport * from './loop';\n",
            theirs: "export * from './dom';\nexport * from './environment';\nexport * from './globals';\nexport * from './keyed-each';\nexport * from './loop';\n",
            expected: "export * from './dom';\nexport * from './environment';\nexport * from './globals';\nexport * from './keyed_each';\nexport * from './loop';\n"),
    Fixture(name: "javascript: statements both sides add at one place stay a conflict", path: "a.js",
            base: "setup();\nrun();\n",
            ours: "setup();\nlog(a);\nrun();\n",
            theirs: "setup();\nlog(b);\nrun();\n",
            expected: nil),
    Fixture(name: "typescript: one module re-exported twice, edited on both sides", path: "index.ts",
            base: "export * from './a';\nexport { b } from './a';\n",
            ours: "export * from './a';\nexport { b, c } from './a';\n",
            theirs: "export * from './a';\nexport { b, d } from './a';\n",
            expected: nil),
    Fixture(name: "javascript: function moved by ours, edited by theirs", path: "a.js",
            base: "function a() {\n  return 1;\n}\n\nfunction b() {\n  return 2;\n}\n",
            ours: "function b() {\n  return 2;\n}\n\nfunction a() {\n  return 1;\n}\n",
            theirs: "function a() {\n  return 10;\n}\n\nfunction b() {\n  return 2;\n}\n",
            expected: "function b() {\n  return 2;\n}\n\nfunction a() {\n  return 10;\n}\n"),
    Fixture(name: "swift: both add a method to a struct", path: "A.swift",
            base: "struct A {\n    func f() -> Int {\n        1\n    }\n}\n",
            ours: "struct A {\n    func f() -> Int {\n        1\n    }\n\n    func g() -> Int {\n        2\n    }\n}\n",
            theirs: "struct A {\n    func f() -> Int {\n        1\n    }\n\n    func h() -> Int {\n        3\n    }\n}\n",
            expected: "struct A {\n    func f() -> Int {\n        1\n    }\n\n    func g() -> Int {\n        2\n    }\n\n    func h() -> Int {\n        3\n    }\n}\n"),
    Fixture(name: "unknown extension: edits to different words of one line", path: "notes.txt",
            base: "alpha beta gamma\n", ours: "ALPHA beta gamma\n", theirs: "alpha beta GAMMA\n",
            expected: "ALPHA beta GAMMA\n"),
    Fixture(name: "unknown extension: one side only reindents", path: "x.c",
            base: "int f() {\nreturn 1;\n}\n", ours: "int f() {\n    return 1;\n}\n", theirs: "int f() {\nreturn 2;\n}\n",
            expected: "int f() {\n    return 2;\n}\n"),
    Fixture(name: "unparseable side falls back to lines", path: "m.py",
            base: "def a(:\n    return 1\n", ours: "def a(:\n    return 2\n", theirs: "def a(:\n    return 3\n", expected: nil),
    Fixture(name: "js: a statement added inside a body the other side also edited stays a conflict", path: "a.js",
            base: "function f(config) {\n  if (config.a) {\n    one();\n  }\n  return run(config);\n}\n",
            ours: "function f(config) {\n  if (config.a) {\n    one();\n  }\n  check(config);\n  return run(config);\n}\n",
            theirs: "function f(config) {\n  if (config.a) {\n    one();\n  } // done\n  return run(config);\n}\n",
            expected: nil),
    // black's layout: the signature's closing line `) -> int:` opens the body (this file was refused as
    // unparseable before, which kept every black-formatted file out of the structured layer).
    Fixture(name: "python: functions with multi-line signatures added on both sides", path: "m.py",
            base: "def a(\n    x: int,\n) -> int:\n    return x\n",
            ours: "def a(\n    x: int,\n) -> int:\n    return x\n\n\ndef b(\n    y: int,\n) -> int:\n    return y\n",
            theirs: "def a(\n    x: int,\n) -> int:\n    return x\n\n\ndef c() -> int:\n    return 3\n",
            expected: "def a(\n    x: int,\n) -> int:\n    return x\n\n\ndef b(\n    y: int,\n) -> int:\n    return y\n\n\ndef c() -> int:\n    return 3\n"),
    Fixture(name: "python: a body indented under a multi-line signature's closing line still has to be consistent", path: "m.py",
            base: "def a(\n    x,\n):\n    return x\n", ours: "def a(\n    x,\n):\nreturn 1\n",
            theirs: "def a(\n    x,\n):\n    return 2\n", expected: nil),
    Fixture(name: "python: methods under multi-line decorators added on both sides are named, so both are kept", path: "t.py",
            base: "class T:\n    def test_a(self):\n        pass\n",
            ours: "class T:\n    def test_a(self):\n        pass\n\n    @pytest.mark.parametrize(\n        'x', [1, 2]\n    )\n    def test_b(self, x):\n        pass\n",
            theirs: "class T:\n    def test_a(self):\n        pass\n\n    @pytest.mark.parametrize(\n        'y', [3]\n    )\n    def test_c(self, y):\n        pass\n",
            expected: "class T:\n    def test_a(self):\n        pass\n\n    @pytest.mark.parametrize(\n        'x', [1, 2]\n    )\n    def test_b(self, x):\n        pass\n\n    @pytest.mark.parametrize(\n        'y', [3]\n    )\n    def test_c(self, y):\n        pass\n"),
    Fixture(name: "javascript: the last item of a list both sides extended keeps the comma its own side wrote", path: "a.js",
            base: "const a = [\n  1,\n  2,\n];\n",
            ours: "const a = [\n  1,\n  2,\n  3,\n];\n",
            theirs: "const a = [\n  1,\n  2,\n  4\n];\n",
            expected: "const a = [\n  1,\n  2,\n  3,\n  4\n];\n"),
    // isort sorted ours' imports; theirs added one: its place is the sorter's rule (here `import decimal`
    // goes before `import re`, which no order the engine knows would say), so a person decides.
    Fixture(name: "python: an import added to a block the other side re-sorted stays a conflict", path: "m.py",
            base: "import sys\nfrom x import y\nimport re\n\nv = 1\n",
            ours: "import re\nimport sys\n\nfrom x import y\n\nv = 1\n",
            theirs: "import sys\nfrom x import y\nimport re\nimport decimal\n\nv = 1\n",
            expected: nil),
]

@Suite struct StructuredMergeTests {
    @Test(arguments: fixtures)
    func fixtureMergesAsMarked(_ fixture: Fixture) {
        let output = MergeEngine.merge(MergeInput(base: Array(fixture.base.utf8), ours: Array(fixture.ours.utf8),
                                                  theirs: Array(fixture.theirs.utf8), path: fixture.path,
                                                  parsers: SwiftLanguageSupport.parsers))
        let text = String(decoding: output.text, as: UTF8.self)
        if let expected = fixture.expected {
            #expect(output.isClean, "expected a clean merge, got:\n\(text)")
            #expect(text == expected)
        } else {
            #expect(!output.isClean, "expected a conflict, got a clean merge:\n\(text)")
            #expect(text.contains("<<<<<<<"))
        }
    }

    /// Without SwiftParser (as inside git-anvcs) a Swift file is never merged structurally.
    @Test func swiftWithoutItsParserMergesByLines() throws {
        let fixture = try #require(fixtures.first { $0.path.hasSuffix(".swift") && $0.expected != nil })
        let input = MergeInput(base: Array(fixture.base.utf8), ours: Array(fixture.ours.utf8),
                               theirs: Array(fixture.theirs.utf8), path: fixture.path)
        #expect(!MergeEngine.merge(input).isClean)
        var withParser = input
        withParser.parsers = SwiftLanguageSupport.parsers
        #expect(MergeEngine.merge(withParser).isClean)
    }

    /// `--explain` and the evaluation say why the structured layer left a conflict.
    @Test func aGiveUpSaysWhereAndWhy() {
        let output = MergeEngine.merge(MergeInput(base: Array("import os\nv = 1\n".utf8),
                                                  ours: Array("import os\nv = 2\n".utf8),
                                                  theirs: Array("import os\nv = 3\n".utf8), path: "m.py"))
        #expect(!output.isClean)
        #expect(output.structureGaveUp == "/assign v: both sides edited the same lines")
        let unparseable = MergeEngine.merge(MergeInput(base: Array("def a(:\n    return 1\n".utf8),
                                                       ours: Array("def a(:\n    return 2\n".utf8),
                                                       theirs: Array("def a(:\n    return 3\n".utf8), path: "m.py"))
        #expect(unparseable.structureGaveUp == "a side does not parse")
        // Theirs reordered (its order is the skeleton) and removed b; ours added d after b.
        let anchorGone = MergeEngine.merge(MergeInput(base: Array("a = 1\nb = 2\nc = 3\n".utf8),
                                                      ours: Array("a = 1\nb = 2\nd = 4\nc = 3\n".utf8),
                                                      theirs: Array("c = 3\na = 1\n".utf8), path: "m.py"))
        #expect(!anchorGone.isClean)
        #expect(anchorGone.structureGaveUp == "/: ours added after assign b, which theirs removed")
        let clean = MergeEngine.merge(MergeInput(base: Array("a\n".utf8), ours: Array("b\n".utf8), theirs: Array("a\n".utf8), path: "m.py"))
        #expect(clean.structureGaveUp == nil)
    }

    @Test func binaryInputKeepsGitsConflict() {
        let input = MergeInput(base: [0, 1, 10], ours: [0, 2, 10], theirs: [0, 3, 10], path: "a.json")
        let output = MergeEngine.merge(input)
        #expect(output.conflictCount == MergeEngine.lineMerge(input).conflictCount)
        #expect(output.text == MergeEngine.lineMerge(input).text)
    }

    @Test func crlfIsPreserved() {
        let base = "{\r\n  \"a\": 1\r\n}\r\n"
        let ours = "{\r\n  \"a\": 1,\r\n  \"b\": 2\r\n}\r\n"
        let theirs = "{\r\n  \"a\": 1,\r\n  \"c\": 3\r\n}\r\n"
        let output = MergeEngine.merge(MergeInput(base: Array(base.utf8), ours: Array(ours.utf8),
                                                  theirs: Array(theirs.utf8), path: "x.json"))
        #expect(output.isClean)
        #expect(String(decoding: output.text, as: UTF8.self) == "{\r\n  \"a\": 1,\r\n  \"b\": 2,\r\n  \"c\": 3\r\n}\r\n")
    }

    @Test func invalidUTF8FallsBackToLines() {
        let input = MergeInput(base: [0xFF, 10, 97, 10], ours: [0xFF, 10, 98, 10], theirs: [0xFF, 10, 99, 10], path: "a.py")
        #expect(MergeEngine.merge(input).text == MergeEngine.lineMerge(input).text)
    }
}
