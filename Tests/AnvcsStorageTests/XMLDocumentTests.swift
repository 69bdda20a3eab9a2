@testable import AnvcsStorage
import Testing

/// The XML reader S3 responses go through (ours, so that no process loads libxml2 and ICU).
@Suite struct XMLDocumentTests {
    private func parse(_ text: String) -> XMLElementNode? { XMLElementNode.parse(Array(text.utf8)) }

    @Test func readsAnS3ListingWithNamespaceAndDeclaration() throws {
        let doc = """
        <?xml version="1.0" encoding="UTF-8"?>
        <ListVersionsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
          <Name>bucket</Name><IsTruncated>false</IsTruncated>
          <Version><Key>a/b &amp; c.bin</Key><VersionId>v1</VersionId><IsLatest>true</IsLatest></Version>
          <DeleteMarker><Key>gone</Key><VersionId>v2</VersionId></DeleteMarker>
          <Version><Key>x</Key><VersionId>null</VersionId><Size>12</Size><ETag>&quot;abc&quot;</ETag></Version>
        </ListVersionsResult>
        """
        let root = try #require(parse(doc))
        #expect(root.name == "ListVersionsResult")
        #expect(root.text("Name") == "bucket")
        #expect(root.children("Version").map { $0.text("Key") } == ["a/b & c.bin", "x"])
        #expect(root.children("Version")[1].text("ETag") == "\"abc\"")
        #expect(root.child("DeleteMarker")?.text("VersionId") == "v2")
    }

    @Test func readsReferencesCDATACommentsAndEmptyElements() throws {
        let root = try #require(parse("<Error><Code>A&lt;B&gt;&apos;&#65;&#x42;&#x1F600;</Code><!-- c --><M><![CDATA[<raw> & ]]></M><E/><F a='1' b=\"2\"></F></Error>"))
        #expect(root.text("Code") == "A<B>'AB😀")
        #expect(root.text("M") == "<raw> & ")
        #expect(root.child("E")?.text == "")
        #expect(root.child("F") != nil)
    }

    @Test func keepsNonASCIITextAndQualifiedNames() throws {
        let root = try #require(parse("\u{FEFF}<s3:Key>données/模型.pt</s3:Key>"))
        #expect(root.name == "s3:Key")
        #expect(root.text == "données/模型.pt")
    }

    @Test(arguments: [
        "", "   ", "<A>", "<A></B>", "<A><B></A></B>", "<A>x</A><B/>", "text<A/>", "<A b=1/>", "<A b=\"1/>",
        "<A>&unknown;</A>", "<A>&amp</A>", "<!DOCTYPE A [<!ENTITY x \"y\">]><A>&x;</A>", "<A><![CDATA[x</A>", "<A><!-- x</A>",
        "<1A/>", "<A b=\"1\"c=\"2\"/>",
    ])
    func refusesMalformedDocuments(_ text: String) {
        #expect(parse(text) == nil, "accepted: \(text)")
    }

    @Test func boundsNesting() {
        let deep = String(repeating: "<a>", count: 10_000) + String(repeating: "</a>", count: 10_000)
        #expect(parse(deep) == nil)
        let fine = String(repeating: "<a>", count: 100) + "x" + String(repeating: "</a>", count: 100)
        #expect(parse(fine) != nil)
    }
}
